// Browser benchmarks: Cobrowse next to rrweb in the same Chromium, on the
// same pages and the same scripted workload.
//
//   node bench/browser/run.mjs [--out results.md] [--json results.json] [--pages a,b] [--quick]
//
// Needs the server binary (COBROWSE_SERVER_BIN or $CARGO_TARGET_DIR/{debug,release}) and the wasm
// bundle in www/js (scripts/build-all.sh); reuses the e2e harness's server and Chromium launchers.
// Reports figures; never fails because the machine is slow. A section that cannot run (e.g. a
// page the client cannot capture) reports its error in its row instead of stopping the run.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import { ROOT, assertBundleBuilt, startServer } from '../../tests/lib/server.mjs';
import { launchBrowser } from '../../tests/lib/browser.mjs';
import { CORPUS, blankPage, generatedPage, latencyPage, runWorkload, setupWorkArea } from './pages.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const RRWEB_UMD = require.resolve('rrweb').replace(/rrweb\.cjs$/, 'rrweb.umd.min.cjs');
const RRWEB_VERSION = JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules/rrweb/package.json'), 'utf8')).version;
const WAIT = 120_000;

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const onlyPages = opt('--pages')?.split(',');
const corpus = CORPUS.filter((p) => !onlyPages || onlyPages.some((o) => p.name.includes(o)));

// ---- page instrumentation ----------------------------------------------------------------------

/**
 * Init script for every measured page: long-task observer, and (for our variant) a wrapper on
 * WebSocket.prototype.send that keeps each binary frame's bytes and resolves promises when the
 * snapshot (tag 4) and the workload's end nonce have been sent.
 */
function instrument() {
  const b = { frames: [], longtasks: [], nonce: null };
  window.__bench = b;
  let snapResolve;
  b.snapshotSent = new Promise((r) => { snapResolve = r; });
  b.endSent = null;
  // Awaits `p`, or fails after `ms`, so one stuck variant cannot hang the whole run.
  b.within = (p, what, ms = 60000) => Promise.race([p, new Promise((_, rej) => {
    setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms);
  })]);
  b.expectEnd = (nonce) => {
    b.scan = false;
    b.nonce = new TextEncoder().encode(nonce);
    b.endSent = new Promise((r) => { b.endResolve = r; });
  };
  const contains = (hay, needle) => {
    outer: for (let i = 0; i + needle.length <= hay.length; i++) {
      for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
      return true;
    }
    return false;
  };
  const orig = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    let u8 = null;
    if (data instanceof ArrayBuffer) u8 = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) u8 = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (u8 && u8.length > 1) {
      const copy = u8.slice();
      const tag = copy[1]; // version byte, then the tag varint (all tags < 128: one byte)
      b.frames.push({ t: performance.now(), tag, bytes: copy });
      if (tag === 4) snapResolve();
      if (b.scan && b.nonce && b.endResolve && tag === 5 && contains(copy, b.nonce)) b.endResolve();
    }
    return orig.call(this, data);
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push({ start: e.startTime, dur: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch { /* no long-task API: counts stay 0 */ }
}

async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  const get = (n) => list.find((m) => m.name === n)?.value ?? 0;
  return { task: get('TaskDuration') * 1000, script: get('ScriptDuration') * 1000 };
}
const diff = (a, b) => ({ task: b.task - a.task, script: b.script - a.script });

/**
 * The server's static root for the run: a copy of www/ plus `bench/` with the generated pages.
 * Pages must come from the server over real HTTP: Chromium's local-network-access checks block a
 * page that playwright fulfils itself from opening a socket to 127.0.0.1.
 */
function staticRoot() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-bench-www-'));
  fs.cpSync(path.join(ROOT, 'www'), dir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'bench'));
  for (const e of CORPUS) {
    if (e.nodes) fs.writeFileSync(path.join(dir, 'bench', `gen-${e.nodes}.html`), generatedPage(e.nodes));
  }
  fs.writeFileSync(path.join(dir, 'bench', 'latency.html'), latencyPage());
  fs.writeFileSync(path.join(dir, 'bench', 'blank.html'), blankPage());
  return dir;
}

/** A fresh instrumented page; `variant` is none | ours | rrweb. */
async function openPage(ctx, url, variant) {
  const page = await ctx.browser.newPage(`${variant}`, { width: 1280, height: 800 });
  if (variant !== 'ours') {
    // The same page without our loader (the snippet's request fails quietly).
    await page.route('**/cobrowse/js/cobrowse.js', (r) => r.abort());
  }
  await page.addInitScript(instrument);
  if (variant === 'rrweb') await page.addInitScript({ path: RRWEB_UMD });
  await page.goto(url, { waitUntil: 'load', timeout: WAIT });
  await page.bringToFront();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  return { page, cdp };
}

// ---- bytes and customer-side cost ----------------------------------------------------------

/** Records one page with one variant; returns bytes, costs, and (ours) the session token. */
async function capture(ctx, entry, variant) {
  const { page, cdp } = await openPage(ctx, ctx.server.url + entry.path, variant);
  const nodes = await page.evaluate(setupWorkArea);
  const out = { variant, nodes };
  if (variant === 'ours') {
    await page.waitForFunction(() => window.Cobrowse && window.Cobrowse.ready, null, { timeout: WAIT });
    await page.evaluate(() => window.Cobrowse.ready);
    const m0 = await metrics(cdp);
    out.token = await page.evaluate(async () => {
      await window.Cobrowse.start();
      await window.__bench.within(window.__bench.snapshotSent, 'the snapshot frame');
      return window.Cobrowse.sessionId();
    });
    out.snapshotCost = diff(m0, await metrics(cdp));
  } else if (variant === 'rrweb') {
    const m0 = await metrics(cdp);
    await page.evaluate(() => {
      window.__events = [];
      window.__rrEnd = null;
      window.__stopRecord = window.rrweb.record({
        emit(e) {
          window.__events.push(e);
          // Cheap end check: an incremental mutation event setting data-bench-end.
          if (window.__rrEnd && e.type === 3 && e.data.source === 0 && e.data.attributes
            && e.data.attributes.some((a) => a.attributes['data-bench-end'] === window.__rrEnd.nonce)) {
            window.__rrEnd.resolve();
          }
        },
      });
    });
    out.snapshotCost = diff(m0, await metrics(cdp));
  }
  const nonce = `end-${Math.random().toString(36).slice(2)}`;
  const before = await page.evaluate((n) => {
    const b = window.__bench;
    if (window.__events) {
      window.__snapshotEventCount = window.__events.length;
      window.__rrEnd = { nonce: n };
      window.__rrEnd.done = new Promise((r) => { window.__rrEnd.resolve = r; });
    }
    b.expectEnd(n);
    return { frames: b.frames.length, longtasks: b.longtasks.length, t: performance.now() };
  }, nonce);
  const m1 = await metrics(cdp);
  out.ops = await page.evaluate(runWorkload, nonce);
  await page.evaluate(async (v) => {
    if (v === 'ours') await window.__bench.within(window.__bench.endSent, 'the end nonce frame');
    else if (v === 'rrweb') await window.__bench.within(window.__rrEnd.done, 'the rrweb end event');
    else await new Promise((r) => setTimeout(r, 0));
  }, variant);
  out.workloadCost = diff(m1, await metrics(cdp));
  const after = await page.evaluate((t) => ({
    longtasks: window.__bench.longtasks.filter((l) => l.start >= t).length,
  }), before.t);
  out.longtasks = after.longtasks;
  if (variant === 'ours') {
    const frames = await page.evaluate((from) => window.__bench.frames.map((f, i) => {
      // Binary string in chunks: one apply() over a megabyte frame overflows the stack.
      let bin = '';
      for (let k = 0; k < f.bytes.length; k += 8192) {
        bin += String.fromCharCode.apply(null, f.bytes.subarray(k, k + 8192));
      }
      return { i, tag: f.tag, b64: btoa(bin), before: i < from };
    }), before.frames);
    const bufs = frames.map((f) => ({ tag: f.tag, before: f.before, buf: Buffer.from(f.b64, 'base64') }));
    const snap = bufs.filter((f) => f.tag === 4);
    // Deltas: every frame sent during the workload except keep-alives.
    const deltas = bufs.filter((f) => !f.before && f.tag !== 4 && f.tag !== 1 && f.tag !== 17);
    out.snapshotBytes = sum(snap.map((f) => f.buf.length));
    out.snapshotZ = zlen(Buffer.concat(snap.map((f) => f.buf)));
    out.deltaBytes = sum(deltas.map((f) => f.buf.length));
    out.deltaZ = zlen(Buffer.concat(deltas.map((f) => f.buf)));
    out.deltaFrames = deltas.length;
  } else if (variant === 'rrweb') {
    const ev = await page.evaluate(() => {
      window.__stopRecord?.();
      const k = window.__snapshotEventCount;
      return { snap: JSON.stringify(window.__events.slice(0, k)), delta: JSON.stringify(window.__events.slice(k)), all: window.__events };
    });
    out.snapshotBytes = Buffer.byteLength(ev.snap);
    out.snapshotZ = zlen(Buffer.from(ev.snap));
    out.deltaBytes = Buffer.byteLength(ev.delta);
    out.deltaZ = zlen(Buffer.from(ev.delta));
    out.events = ev.all;
  }
  out.page = page;
  out.cdp = cdp;
  return out;
}

const sum = (a) => a.reduce((x, y) => x + y, 0);
const zlen = (buf) => zlib.deflateSync(buf, { level: 6 }).length;

// ---- agent-side cost ------------------------------------------------------------------------

/** Our agent page: join a live session, then replay the workload; TaskDuration of the agent page. */
async function agentOurs(ctx, entry) {
  const cust = await openPage(ctx, ctx.server.url + entry.path, 'ours');
  await cust.page.evaluate(setupWorkArea);
  await cust.page.waitForFunction(() => window.Cobrowse && window.Cobrowse.ready, null, { timeout: WAIT });
  await cust.page.evaluate(() => window.Cobrowse.ready);
  const token = await cust.page.evaluate(async () => {
    await window.Cobrowse.start();
    await window.__bench.within(window.__bench.snapshotSent, 'the snapshot frame');
    return window.Cobrowse.sessionId();
  });
  // Agent bootstrap alone (the page, its wasm, the socket) is measured on a session of an empty
  // page elsewhere; here: navigation → replica contains the work area.
  const agent = await ctx.browser.newPage('agent', { width: 1280, height: 900 });
  const cdp = await agent.context().newCDPSession(agent);
  await cdp.send('Performance.enable');
  await agent.bringToFront();
  const m0 = await metrics(cdp);
  await agent.goto(`${ctx.server.url}/cobrowse/slave.html#sid=${token}`, { timeout: WAIT });
  await agent.waitForFunction(() => {
    const d = document.getElementById('cobrowse-replica')?.contentDocument;
    return d && d.getElementById('bench-work');
  }, null, { timeout: WAIT, polling: 'raf' });
  await agent.evaluate(frames2);
  const join = diff(m0, await metrics(cdp));
  const nonce = `end-${Math.random().toString(36).slice(2)}`;
  const watched = agent.evaluate((n) => new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('timed out waiting for the end nonce in the replica')), 60000);
    const d = document.getElementById('cobrowse-replica').contentDocument;
    const work = () => d.getElementById('bench-work');
    const check = () => work() && work().getAttribute('data-bench-end') === n;
    if (check()) return resolve();
    new MutationObserver((_, obs) => { if (check()) { obs.disconnect(); resolve(); } })
      .observe(d, { subtree: true, attributes: true, attributeFilter: ['data-bench-end'] });
  }), nonce);
  const m1 = await metrics(cdp);
  await cust.page.evaluate((n) => window.__bench.expectEnd(n), nonce);
  await cust.page.evaluate(runWorkload, nonce);
  await watched;
  await agent.evaluate(frames2);
  const apply = diff(m1, await metrics(cdp));
  await agent.close();
  await cust.page.close();
  return { join, apply };
}

/** Two animation frames, so the work's rendering is inside the measured window. */
function frames2() {
  return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
}

/** rrweb's Replayer on the recorded events: snapshot rebuild, then all deltas. */
async function agentRrweb(ctx, events) {
  const page = await ctx.browser.newPage('rrweb-replay', { width: 1280, height: 900 });
  await page.addInitScript({ path: RRWEB_UMD });
  await page.goto(`${ctx.server.url}/cobrowse/bench/blank.html`);
  await page.bringToFront();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.evaluate((ev) => { window.__events = ev; }, events);
  const m0 = await metrics(cdp);
  await page.evaluate(async () => {
    const ev = window.__events;
    const full = ev.findIndex((e) => e.type === 2);
    window.__replayer = new window.rrweb.Replayer(ev, {
      root: document.getElementById('root'), showWarning: false, mouseTail: false, triggerFocus: false,
    });
    window.__replayer.pause(ev[full].timestamp - ev[0].timestamp);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
  const snapshot = diff(m0, await metrics(cdp));
  const m1 = await metrics(cdp);
  await page.evaluate(async () => {
    const ev = window.__events;
    window.__replayer.pause(ev[ev.length - 1].timestamp - ev[0].timestamp + 1);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
  const apply = diff(m1, await metrics(cdp));
  const ok = await page.evaluate(() => {
    const f = document.querySelector('#root iframe');
    return !!(f && f.contentDocument && f.contentDocument.getElementById('bench-work'));
  });
  await page.close();
  return { snapshot, apply, ok };
}

// ---- latency --------------------------------------------------------------------------------

async function latency(ctx) {
  const cust = await openPage(ctx, `${ctx.server.url}/cobrowse/bench/latency.html`, 'ours');
  await cust.page.waitForFunction(() => window.Cobrowse && window.Cobrowse.ready, null, { timeout: WAIT });
  const token = await cust.page.evaluate(async () => {
    await window.Cobrowse.ready;
    await window.Cobrowse.start();
    await window.__bench.within(window.__bench.snapshotSent, 'the snapshot frame');
    return window.Cobrowse.sessionId();
  });
  const agent = await ctx.browser.newPage('agent', { width: 1280, height: 900 });
  await agent.goto(`${ctx.server.url}/cobrowse/slave.html#sid=${token}`, { timeout: WAIT });
  await agent.waitForFunction(() => document.getElementById('cobrowse-replica')?.contentDocument?.getElementById('l999'),
    null, { timeout: WAIT, polling: 100 });
  // The agent records, for every data-t change in the replica, arrival time − stamp.
  await agent.evaluate(() => {
    window.__lat = [];
    const d = document.getElementById('cobrowse-replica').contentDocument;
    new MutationObserver((records) => {
      const now = performance.timeOrigin + performance.now();
      for (const r of records) {
        const v = Number(r.target.getAttribute?.('data-t'));
        if (v > 0) window.__lat.push(now - v);
      }
    }).observe(d, { subtree: true, attributes: true, attributeFilter: ['data-t'] });
    window.__ptr = [];
    const p = document.getElementById('cobrowse-pointer-customer');
    if (p) {
      new MutationObserver(() => {
        window.__ptr.push({ x: p.dataset.x, y: p.dataset.y, t: performance.timeOrigin + performance.now() });
      }).observe(p, { attributes: true, attributeFilter: ['data-x', 'data-y'] });
    }
  });
  const collect = async (count) => {
    await agent.waitForFunction((n) => window.__lat.length >= n, count, { timeout: WAIT, polling: 50 })
      .catch(() => {});
    return agent.evaluate(() => { const l = window.__lat; window.__lat = []; return l; });
  };
  // Steady: 60 changes/s for 5 s, each on the next span.
  const steadyN = 300;
  await cust.page.evaluate((n) => new Promise((resolve) => {
    let i = 0;
    const id = setInterval(() => {
      document.getElementById(`l${i % 1000}`).setAttribute('data-t', String(performance.timeOrigin + performance.now()));
      if (++i >= n) { clearInterval(id); resolve(); }
    }, 1000 / 60);
  }), steadyN);
  const steady = await collect(steadyN);
  // Burst: 1,000 changes in one task.
  await cust.page.evaluate(() => {
    const t = String(performance.timeOrigin + performance.now());
    for (let i = 0; i < 1000; i++) document.getElementById(`l${i}`).setAttribute('data-t', t);
  });
  const burst = await collect(1000);
  // Pointer: 100 moves at ~30/s to distinct positions; match customer pointermove → agent pointer.
  await cust.page.bringToFront();
  await cust.page.evaluate(() => {
    window.__moves = [];
    addEventListener('pointermove', (e) => {
      window.__moves.push({ x: e.clientX, y: e.clientY, t: performance.timeOrigin + performance.now() });
    }, { capture: true });
  });
  for (let i = 0; i < 100; i++) {
    await cust.page.mouse.move(200 + i * 3, 150 + (i % 50) * 2);
    await new Promise((r) => setTimeout(r, 33));
  }
  await agent.waitForFunction(() => window.__ptr.some((p) => Number(p.x) === 497), null, { timeout: 10_000, polling: 50 })
    .catch(() => {});
  const moves = await cust.page.evaluate(() => window.__moves);
  const shown = await agent.evaluate(() => window.__ptr);
  const pointer = [];
  for (const s of shown) {
    const m = moves.find((mv) => Math.round(mv.x) === Number(s.x) && Math.round(mv.y) === Number(s.y));
    if (m) pointer.push(s.t - m.t);
  }
  await agent.close();
  await cust.page.close();
  return { steady, steadyN, burst, pointer, moves: moves.length };
}

function pct(values, q) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

// ---- report -----------------------------------------------------------------------------------

const f0 = (v) => (v == null || Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const f1 = (v) => (v == null || Number.isNaN(v) ? '–' : v.toFixed(1));
const r2 = (a, b) => (a == null || b == null || !b ? '–' : (a / b).toFixed(2));
const kb = (v) => (v == null ? '–' : (v / 1024).toFixed(1));

async function main() {
  assertBundleBuilt();
  const started = Date.now();
  const www = staticRoot();
  const server = await startServer({
    env: {
      COBROWSE_STATIC_DIR: www,
      COBROWSE_LIMITS_LOOKUPS_PER_MINUTE: '100000',
      COBROWSE_LIMITS_LOOKUP_BURST: '10000',
      COBROWSE_LOG_LEVEL: 'warn',
      RUST_LOG: 'warn',
    },
  });
  const browser = await launchBrowser();
  const ctx = { server, browser };
  const rows = [];
  try {
    for (const entry of corpus) {
      const row = { name: entry.name };
      rows.push(row);
      for (const variant of ['none', 'ours', 'rrweb']) {
        process.stderr.write(`browser: ${entry.name} / ${variant} …\n`);
        try {
          const r = await capture(ctx, entry, variant);
          await r.page.close();
          delete r.page;
          delete r.cdp;
          row[variant] = r;
        } catch (err) {
          row[variant] = { error: err.message.split('\n')[0] };
          process.stderr.write(`  failed: ${row[variant].error}\n`);
          process.stderr.write(`  browser said: ${browser.messages().slice(-8).join('\n    ')}\n`);
        }
      }
      try {
        process.stderr.write(`browser: ${entry.name} / agent replay …\n`);
        row.agentOurs = await agentOurs(ctx, entry);
      } catch (err) {
        row.agentOurs = { error: err.message.split('\n')[0] };
        process.stderr.write(`  failed: ${row.agentOurs.error}\n`);
      }
      try {
        if (row.rrweb?.events) row.agentRrweb = await agentRrweb(ctx, row.rrweb.events);
      } catch (err) {
        row.agentRrweb = { error: err.message.split('\n')[0] };
        process.stderr.write(`  failed: ${row.agentRrweb.error}\n`);
      }
      if (row.rrweb) delete row.rrweb.events;
    }
    let lat = null;
    try {
      process.stderr.write('browser: latency …\n');
      lat = await latency(ctx);
    } catch (err) {
      lat = { error: err.message.split('\n')[0] };
      process.stderr.write(`  failed: ${lat.error}\n`);
    }
    const md = report(rows, lat, (Date.now() - started) / 1000);
    process.stdout.write(md);
    if (opt('--out')) fs.writeFileSync(opt('--out'), md);
    if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify({ rows, latency: lat, rrweb: RRWEB_VERSION }, null, 1));
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
    fs.rmSync(www, { recursive: true, force: true });
  }
}

function report(rows, lat, secs) {
  let md = `Browser: ${CHROMIUM_VERSION()}, rrweb ${RRWEB_VERSION}. Workload: 60 tasks of row inserts/removes/reorders, text edits, attribute and class flips, style changes and typing on a 100-row table added to each page.\n\n`;
  md += '### 1. Wire bytes (snapshot and workload deltas)\n\n';
  md += '| page | DOM nodes | ours snapshot KiB | rrweb snapshot KiB (JSON / zlib) | ratio vs JSON | ratio vs zlib | ours deltas KiB | rrweb deltas KiB (JSON / zlib) | ratio vs JSON | ratio vs zlib |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  const tot = { os: 0, rs: 0, rsz: 0, od: 0, rd: 0, rdz: 0, osz: 0, odz: 0 };
  for (const r of rows) {
    const o = r.ours || {};
    const w = r.rrweb || {};
    if (o.error || w.error) {
      md += `| ${r.name} | ${f0(o.nodes ?? w.nodes)} | ${o.error ? `error: ${o.error}` : kb(o.snapshotBytes)} | ${w.error ? `error: ${w.error}` : `${kb(w.snapshotBytes)} / ${kb(w.snapshotZ)}`} | – | – | – | – | – | – |\n`;
      continue;
    }
    tot.os += o.snapshotBytes; tot.rs += w.snapshotBytes; tot.rsz += w.snapshotZ;
    tot.od += o.deltaBytes; tot.rd += w.deltaBytes; tot.rdz += w.deltaZ;
    tot.osz += o.snapshotZ; tot.odz += o.deltaZ;
    md += `| ${r.name} | ${f0(o.nodes)} | ${kb(o.snapshotBytes)} | ${kb(w.snapshotBytes)} / ${kb(w.snapshotZ)} | ${r2(o.snapshotBytes, w.snapshotBytes)} | ${r2(o.snapshotBytes, w.snapshotZ)} | ${kb(o.deltaBytes)} | ${kb(w.deltaBytes)} / ${kb(w.deltaZ)} | ${r2(o.deltaBytes, w.deltaBytes)} | ${r2(o.deltaBytes, w.deltaZ)} |\n`;
  }
  md += `| **all pages** | | ${kb(tot.os)} | ${kb(tot.rs)} / ${kb(tot.rsz)} | ${r2(tot.os, tot.rs)} | ${r2(tot.os, tot.rsz)} | ${kb(tot.od)} | ${kb(tot.rd)} / ${kb(tot.rdz)} | ${r2(tot.od, tot.rd)} | ${r2(tot.od, tot.rdz)} |\n\n`;
  md += 'Ours = binary frames as sent on the WebSocket (no compression on the wire). Ratio < 1 means ours is smaller.\n';
  md += `Ours deflated the same way (zlib level 6, all pages): snapshot ${kb(tot.osz)} KiB (${r2(tot.osz, tot.rsz)} × rrweb zlib), deltas ${kb(tot.odz)} KiB (${r2(tot.odz, tot.rdz)} × rrweb zlib): what permessage-deflate or a client-side CompressionStream would give.\n\n`;

  md += '### 2. Customer-side main-thread cost (CDP TaskDuration, ms)\n\n';
  md += '| page | ours snapshot | rrweb snapshot | ratio | workload, no recorder | ours overhead | rrweb overhead | ratio | long tasks none / ours / rrweb |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  const ct = { os: 0, rs: 0, oo: 0, ro: 0 };
  for (const r of rows) {
    const n = r.none || {};
    const o = r.ours || {};
    const w = r.rrweb || {};
    const base = n.workloadCost?.task;
    const oo = o.workloadCost && base != null ? o.workloadCost.task - base : null;
    const ro = w.workloadCost && base != null ? w.workloadCost.task - base : null;
    if (o.snapshotCost && w.snapshotCost && oo != null && ro != null) {
      ct.os += o.snapshotCost.task; ct.rs += w.snapshotCost.task; ct.oo += oo; ct.ro += ro;
    }
    md += `| ${r.name} | ${f1(o.snapshotCost?.task)} | ${f1(w.snapshotCost?.task)} | ${r2(o.snapshotCost?.task, w.snapshotCost?.task)} | ${f1(base)} | ${f1(oo)} | ${f1(ro)} | ${r2(oo, ro)} | ${n.longtasks ?? '–'} / ${o.longtasks ?? '–'} / ${w.longtasks ?? '–'} |\n`;
  }
  md += `| **all pages** | ${f1(ct.os)} | ${f1(ct.rs)} | ${r2(ct.os, ct.rs)} | | ${f1(ct.oo)} | ${f1(ct.ro)} | ${r2(ct.oo, ct.ro)} | |\n\n`;
  md += 'Ours snapshot = `Cobrowse.start()` until the snapshot frame is sent (includes session creation, socket, UI); rrweb = `rrweb.record()`. Overhead = workload TaskDuration with the recorder minus without (noisy at small values; can be negative).\n\n';

  md += '### 3. Agent-side cost (TaskDuration, ms, including rendering of two frames)\n\n';
  md += '| page | ours: open agent page → replica built | rrweb Replayer: snapshot rebuild | ours: apply workload deltas | rrweb: apply workload deltas | ratio (deltas) |\n|---|---:|---:|---:|---:|---:|\n';
  const at = { o: 0, w: 0 };
  for (const r of rows) {
    const o = r.agentOurs || {};
    const w = r.agentRrweb || {};
    if (o.apply && w.apply) { at.o += o.apply.task; at.w += w.apply.task; }
    md += `| ${r.name} | ${o.error ? `error: ${o.error}` : f1(o.join?.task)} | ${w.error ? `error: ${w.error}` : f1(w.snapshot?.task)}${w.ok === false ? ' (replica incomplete)' : ''} | ${f1(o.apply?.task)} | ${f1(w.apply?.task)} | ${r2(o.apply?.task, w.apply?.task)} |\n`;
  }
  md += `| **all pages** | | | ${f1(at.o)} | ${f1(at.w)} | ${r2(at.o, at.w)} |\n\n`;
  md += 'Ours "open → built" includes loading the agent page, its wasm and the socket; rrweb\'s snapshot column is the Replayer alone (its bundle is preloaded), so that column favours rrweb.\n\n';

  md += '### 4. Latency, customer DOM change → applied in the agent\'s replica (ms)\n\n';
  if (!lat || lat.error) {
    md += `error: ${lat?.error}\n\n`;
  } else {
    md += '| load | changes | seen | p50 | p95 | p99 |\n|---|---:|---:|---:|---:|---:|\n';
    md += `| steady 60 changes/s | ${lat.steadyN} | ${lat.steady.length} | ${f1(pct(lat.steady, 0.5))} | ${f1(pct(lat.steady, 0.95))} | ${f1(pct(lat.steady, 0.99))} |\n`;
    md += `| burst of 1,000 in one task | 1000 | ${lat.burst.length} | ${f1(pct(lat.burst, 0.5))} | ${f1(pct(lat.burst, 0.95))} | ${f1(pct(lat.burst, 0.99))} |\n`;
    md += `| pointer move → shown | ${lat.moves} | ${lat.pointer.length} | ${f1(pct(lat.pointer, 0.5))} | ${f1(pct(lat.pointer, 0.95))} | ${f1(pct(lat.pointer, 0.99))} |\n\n`;
    md += 'Pointer moves are throttled by the client, so fewer are shown than made; each shown position is matched to the move that produced it.\n\n';
  }
  md += `Browser benchmarks run time: ${secs.toFixed(0)} s.\n\n`;
  return md;
}

/** Set by scripts/bench.sh from `chromium --version`. */
const CHROMIUM_VERSION = () => process.env.BENCH_CHROMIUM || 'Debian Chromium';

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`browser benchmarks failed: ${err.stack || err}\n`);
    process.exit(1);
  });
}

export { capture, agentOurs, agentRrweb, openPage, staticRoot, metrics };
