// Browser benchmarks: Cobrowse next to rrweb in the same Chromium, on the
// same pages and the same scripted workload.
//
//   node bench/browser/run.mjs [--out results.md] [--json results.json] [--pages a,b] [--skip-page-view]
//
// Needs the server binary (COBROWSE_SERVER_BIN or $CARGO_TARGET_DIR/{debug,release}) and the wasm
// bundle in www/js (scripts/build-all.sh); reuses the e2e harness's server launcher; Chromium comes
// from driver.mjs.
// Reports figures; never fails because the machine is slow. A section that cannot run (e.g. a
// page the client cannot capture) reports its error in its row instead of stopping the run.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import { ROOT, assertBundleBuilt, startServer } from '../../tests/lib/server.mjs';
import { launchBenchBrowser } from './driver.mjs';
import { CORPUS, blankPage, generatedPage, latencyPage, pageViewPages, runWorkload, setupWorkArea } from './pages.mjs';
import { startWireRelay } from './wire.mjs';
import { diff, enableMetrics, metrics } from './cdp-metrics.mjs';
import { installFrameReader } from './frame-tags.mjs';
import { precompress } from '../../scripts/precompress.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const RRWEB_UMD = require.resolve('rrweb').replace(/rrweb\.cjs$/, 'rrweb.umd.min.cjs');
const RRWEB_VERSION = JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules/rrweb/package.json'), 'utf8')).version;
// rrweb's record-only bundle: the rrweb project's `@rrweb/record` package (the `rrweb` package
// ships record and replay together only), minified UMD, global `rrwebRecord`.
const RRWEB_RECORD_UMD = path.join(HERE, 'node_modules/@rrweb/record/dist/record.umd.min.cjs');
const RRWEB_RECORD_VERSION = JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules/@rrweb/record/package.json'), 'utf8')).version;
/** Where the page-view pages load it from (served by the bench server, precompressed like ours). */
const RRWEB_RECORD_PATH = '/cobrowse/bench/rrweb-record.min.js';
/** The page-view pages: a generated page of this many nodes. */
const PAGE_VIEW_NODES = 1000;
const PAGE_VIEW_RUNS = 5;
// Rounds of each page's customer and agent measurements; their main-thread figures are medians.
const CPU_ROUNDS = 3;
// Bursts of 1,000 changes in the latency run; the report gives their median and the worst.
const BURSTS = 5;
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
  // Every send on an open socket, in order, with its socket's ordinal: the n-th of a socket is the
  // n-th data message the counting relay sees on that connection (wire.mjs).
  b.sends = [];
  const sockets = new WeakMap();
  let nextSocket = 0;
  const orig = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const open = this.readyState === 1;
    const result = orig.call(this, data);
    if (!open) return result; // not sent (a closing socket drops it)
    if (!sockets.has(this)) sockets.set(this, nextSocket++);
    let u8 = null;
    if (data instanceof ArrayBuffer) u8 = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) u8 = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // The frames it carries (`frame-tags.mjs`): one, or a batch's. A message with a snapshot
    // counts as the snapshot's, one with mutations as theirs.
    const tags = u8 && u8.length > 1 ? window.__framesOf(u8).map((f) => f.tag) : [];
    const tag = tags.includes(4) ? 4 : tags.includes(5) ? 5 : (tags[0] ?? -1);
    b.sends.push({ sock: sockets.get(this), tag, len: u8 ? u8.length : -1 });
    if (u8 && u8.length > 1) {
      const copy = u8.slice();
      b.frames.push({ t: performance.now(), tag, bytes: copy, send: b.sends.length - 1 });
      if (tag === 4) snapResolve();
      if (b.scan && b.nonce && b.endResolve && tag === 5 && contains(copy, b.nonce)) {
        b.endSend = b.sends.length - 1;
        b.endResolve();
      }
    }
    return result;
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push({ start: e.startTime, dur: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch { /* no long-task API: counts stay 0 */ }
}


/**
 * The server's static root for the run: a copy of www/ plus `bench/` with the generated pages.
 * Pages must come from the server over real HTTP: Chromium's local-network-access checks block a
 * page that the driver fulfils itself from opening a socket to 127.0.0.1.
 */
function staticRoot() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-bench-www-'));
  fs.cpSync(path.join(ROOT, 'www'), dir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'bench'));
  for (const e of CORPUS) {
    if (e.nodes) fs.writeFileSync(path.join(dir, 'bench', path.basename(e.path)), generatedPage(e.nodes, undefined, e.rules));
  }
  fs.writeFileSync(path.join(dir, 'bench', 'latency.html'), latencyPage());
  fs.writeFileSync(path.join(dir, 'bench', 'blank.html'), blankPage());
  for (const [variant, html] of Object.entries(pageViewPages(PAGE_VIEW_NODES, RRWEB_RECORD_PATH))) {
    fs.writeFileSync(path.join(dir, 'bench', `pv-${variant}.html`), html);
  }
  // rrweb's record bundle, compressed as our build compresses www/ (brotli 11, gzip 9).
  const rr = path.join(dir, 'bench', path.basename(RRWEB_RECORD_PATH));
  fs.copyFileSync(RRWEB_RECORD_UMD, rr);
  precompress(rr);
  return dir;
}

/** A fresh instrumented page; `variant` is none | ours | rrweb. */
async function openPage(ctx, url, variant) {
  const page = await ctx.browser.newPage(`${variant}`, { width: 1280, height: 800 });
  if (variant !== 'ours') {
    // The same page without our loader (the snippet's request fails quietly).
    await page.blockUrlsEndingWith('/cobrowse/js/cobrowse.js');
  }
  await page.addInitScript(installFrameReader);
  await page.addInitScript(instrument);
  if (variant === 'rrweb') await page.addInitScript({ path: RRWEB_UMD });
  await page.goto(url, { waitUntil: 'load', timeout: WAIT });
  await page.bringToFront();
  const cdp = await page.cdp();
  await enableMetrics(cdp);
  return { page, cdp };
}

// ---- bytes and customer-side cost ----------------------------------------------------------

/** Records one page with one variant; returns bytes, costs, and (ours) the session token. */
async function capture(ctx, entry, variant) {
  // Through the counting relay: the page's origin, and so its co-browse server (the snippet takes
  // location.origin), is the relay; every byte of its socket is counted there.
  const linksBefore = ctx.relay.links().length;
  const { page, cdp } = await openPage(ctx, ctx.relay.url + entry.path, variant);
  const nodes = await page.evaluate(setupWorkArea);
  const out = { variant, nodes };
  if (variant === 'ours') {
    await page.waitForFunction(() => window.Cobrowse && window.Cobrowse.ready, null, { timeout: WAIT });
    await page.evaluate(() => window.Cobrowse.ready);
    // The client's glue and wasm come when a session starts (the page view loads only the
    // loader): that load is its own column, so the snapshot compares with rrweb.record() on
    // code already loaded, as rrweb's is.
    const mLoad = await metrics(cdp);
    await page.evaluate(() => window.Cobrowse.load());
    out.loadCost = diff(mLoad, await metrics(cdp));
    const m0 = await metrics(cdp);
    out.token = await page.evaluate(async () => {
      await window.Cobrowse.start();
      await window.__bench.within(window.__bench.snapshotSent, 'the snapshot frame');
      return window.Cobrowse.sessionId();
    });
    out.snapshotCost = diff(m0, await metrics(cdp));
    // The client may send the page again right after (a second snapshot when its link is
    // welcomed): let those go before the workload, so they count as the snapshot, not as deltas.
    // A quiet period, not a measurement; at most 5 s.
    await page.evaluate(async () => {
      const snaps = () => window.__bench.frames.filter((f) => f.tag === 4);
      const until = performance.now() + 5000;
      for (;;) {
        const last = snaps().at(-1).t;
        if (performance.now() - last >= 500 || performance.now() > until) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
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
    return { frames: b.frames.length, sends: b.sends.length, longtasks: b.longtasks.length, t: performance.now() };
  }, nonce);
  const m1 = await metrics(cdp);
  out.nonce = nonce;
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
    const snap = bufs.filter((f) => f.tag === 4 && f.before);
    out.snapshotFrames = snap.length;
    out.snapshotsDuringWorkload = bufs.filter((f) => f.tag === 4 && !f.before).length;
    // Deltas: every frame sent during the workload except keep-alives and acks.
    const deltas = bufs.filter((f) => !f.before && f.tag !== 4 && !KEEP_ALIVE_TAGS.includes(f.tag));
    out.snapshotBytes = sum(snap.map((f) => f.buf.length));
    out.snapshotZ = zlen(Buffer.concat(snap.map((f) => f.buf)));
    out.deltaBytes = sum(deltas.map((f) => f.buf.length));
    out.deltaZ = zlen(Buffer.concat(deltas.map((f) => f.buf)));
    out.deltaFrames = deltas.length;
    Object.assign(out, await wireBytes(ctx, page, linksBefore, before.sends));
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

/**
 * What crossed the wire browser → server on the page's socket(s), from the counting relay: each
 * send the page made is matched with the data message the relay saw at the same place of the
 * same connection. Snapshot phase = the connection's first byte (the HTTP upgrade) through the
 * last snapshot message; workload phase = the bytes after the last message sent before the
 * workload through the message carrying the end nonce. Both count every byte of the TCP stream in
 * that span: frame headers, masks, payload as compressed by the browser, keep-alives, acks and
 * control frames in between.
 */
async function wireBytes(ctx, page, linksBefore, workloadFrom) {
  const { sends, endSend } = await page.evaluate(() => ({ sends: window.__bench.sends, endSend: window.__bench.endSend }));
  const links = ctx.relay.links().slice(linksBefore);
  const out = { wire: { links: links.length, extensions: links.map((l) => l.extensions()) } };
  const lastSnap = sends.map((x, i) => (x.tag === 4 && i < workloadFrom ? i : -1)).reduce((a, i) => Math.max(a, i), -1);
  // Per socket: how many messages the relay must have seen (all sends up to the end nonce).
  const need = new Map();
  sends.slice(0, endSend + 1).forEach((x) => need.set(x.sock, (need.get(x.sock) ?? 0) + 1));
  const deadline = Date.now() + 30_000;
  const short = () => [...need].filter(([sock, n]) => (links[sock]?.messages.length ?? 0) < n);
  while (short().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (short().length) {
    out.wire.error = `the relay saw fewer messages than the page sent: ${short().map(([k, n]) => `socket ${k}: ${links[k]?.messages.length ?? 0} of ${n}`).join(', ')}`;
    return out;
  }
  // Each send's message on the wire, and the connection's byte offset at its end.
  const seen = new Map();
  const msg = sends.slice(0, endSend + 1).map((x) => {
    const k = seen.get(x.sock) ?? 0;
    seen.set(x.sock, k + 1);
    const m = links[x.sock].messages;
    return { ...m[k], start: k > 0 ? m[k - 1].end : 0, sock: x.sock, tag: x.tag, len: x.len };
  });
  const mismatched = msg.filter((m) => !m.rsv1 && m.payload !== m.len).length;
  // Bytes of the stream over messages from..to (indices, inclusive): each message with the bytes
  // since the one before it on its socket (the upgrade before a socket's first).
  const span = (from, to) => sum(msg.slice(Math.max(0, from), to + 1).map((m) => m.end - m.start));
  const snapMsgs = msg.slice(0, workloadFrom).filter((m) => m.tag === 4);
  const work = msg.slice(workloadFrom, endSend + 1);
  const deltaMsgs = work.filter((m) => m.tag !== 4 && !KEEP_ALIVE_TAGS.includes(m.tag));
  Object.assign(out.wire, {
    upgradeBytes: links[0]?.request?.bytes ?? null,
    snapshotPhase: span(0, lastSnap),
    snapshotMessages: sum(snapMsgs.map((m) => m.wire)),
    workloadPhase: span(workloadFrom, endSend),
    deltaMessages: sum(deltaMsgs.map((m) => m.wire)),
    workloadMessages: work.length,
    compressedMessages: msg.filter((m) => m.rsv1).length,
    messages: endSend + 1,
    sizeMismatches: mismatched,
    downBytes: sum(links.map((l) => l.bytes.down)),
  });
  return out;
}

/** Tags that are not page state: Hello, Ping, Pong, Ack. */
const KEEP_ALIVE_TAGS = [1, 17, 18, 28];
const sum = (a) => a.reduce((x, y) => x + y, 0);
const zlen = (buf) => zlib.deflateSync(buf, { level: 6 }).length;

// ---- page view without a session ---------------------------------------------------------------

/**
 * Follows the requests of the page a CDP session (with `Network` on) belongs to; the function it
 * returns resolves once none has been in flight for `quietMs`, or after `timeoutMs` in any case.
 */
function networkIdle(cdp) {
  const inFlight = new Set();
  let changed = Date.now();
  const seen = (e) => { inFlight.add(e.requestId); changed = Date.now(); };
  const done = (e) => { inFlight.delete(e.requestId); changed = Date.now(); };
  cdp.on('Network.requestWillBeSent', seen);
  cdp.on('Network.loadingFinished', done);
  cdp.on('Network.loadingFailed', done);
  return async (quietMs, timeoutMs) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end && (inFlight.size > 0 || Date.now() - changed < quietMs)) {
      await new Promise((r) => setTimeout(r, 50));
    }
  };
}

/**
 * One cold page view of `/cobrowse/bench/pv-<variant>.html` in a fresh context (HTTP cache off):
 * every response's transfer size from CDP (`Network.loadingFinished` encodedDataLength: bytes
 * received for it, headers and compressed body), and the page's TaskDuration from before the
 * navigation until the network has been idle for 500 ms after the variant is ready (ours:
 * `Cobrowse.ready`, the button drawn; rrweb: the bundle evaluated; rrweb-record: the full
 * snapshot emitted).
 */
async function pageView(ctx, variant) {
  const page = await ctx.browser.newPage(`pv-${variant}`, { width: 1280, height: 800 });
  const cdp = await page.cdp();
  const responses = new Map();
  cdp.on('Network.responseReceived', (e) => {
    const h = Object.fromEntries(Object.entries(e.response.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
    responses.set(e.requestId, { url: e.response.url, type: e.type, encoding: h['content-encoding'] || '', status: e.response.status });
  });
  const finished = new Map();
  const idle = networkIdle(cdp);
  cdp.on('Network.loadingFinished', (e) => finished.set(e.requestId, e.encodedDataLength));
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await enableMetrics(cdp);
  await page.bringToFront();
  const m0 = await metrics(cdp);
  await page.goto(`${ctx.server.url}/cobrowse/bench/pv-${variant}.html`, { waitUntil: 'load', timeout: WAIT });
  if (variant === 'ours') await page.waitForFunction(() => window.Cobrowse && window.Cobrowse.ready, null, { timeout: WAIT }).then(() => page.evaluate(() => window.Cobrowse.ready));
  if (variant === 'rrweb') await page.waitForFunction(() => window.__pv && window.__pv.loaded, null, { timeout: WAIT });
  if (variant === 'rrweb-record') await page.waitForFunction(() => window.__pv && window.__pv.events >= 2, null, { timeout: WAIT });
  await idle(500, WAIT);
  await page.evaluate(frames2);
  const cost = diff(m0, await metrics(cdp));
  const state = await page.evaluate(() => ({
    observing: window.Cobrowse ? window.Cobrowse.state() : null,
    events: window.__pv ? window.__pv.events : null,
  }));
  const requests = [...finished].map(([id, bytes]) => ({ ...(responses.get(id) || { url: '?' }), bytes }));
  await page.close();
  return { cost, requests, state };
}

/** PAGE_VIEW_RUNS rounds over the variants (interleaved, so drift hits all alike); medians. */
async function pageViews(ctx) {
  const variants = ['none', 'ours', 'rrweb', 'rrweb-record'];
  const runs = Object.fromEntries(variants.map((v) => [v, []]));
  for (let i = 0; i < PAGE_VIEW_RUNS; i++) {
    for (const v of variants) {
      process.stderr.write(`browser: page view ${v} (${i + 1}/${PAGE_VIEW_RUNS}) …\n`);
      runs[v].push(await pageView(ctx, v));
    }
  }
  const out = {};
  for (const v of variants) {
    const last = runs[v][runs[v].length - 1];
    const doc = last.requests.filter((r) => r.type === 'Document');
    const rest = last.requests.filter((r) => r.type !== 'Document');
    out[v] = {
      task: median(runs[v].map((r) => r.cost.task)),
      tasks: runs[v].map((r) => Math.round(r.cost.task * 10) / 10),
      documentBytes: sum(doc.map((r) => r.bytes)),
      resourceBytes: sum(rest.map((r) => r.bytes)),
      // Transfer sizes must not move between runs (cache off); keep each run's total to show it.
      resourceBytesPerRun: runs[v].map((r) => sum(r.requests.filter((q) => q.type !== 'Document').map((q) => q.bytes))),
      resources: rest.map((r) => ({ path: new URL(r.url, 'http://x').pathname, bytes: r.bytes, encoding: r.encoding, status: r.status })),
      state: last.state,
    };
  }
  return out;
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

/**
 * Sizes of the client bundle as built into www/js/ (scripts/build-all.sh precompressed them:
 * brotli 11, gzip 9) and of rrweb's record bundle compressed the same way (scripts/precompress.mjs).
 */
function bundleSizes(www) {
  const sizes = (file) => {
    const raw = fs.statSync(file).size;
    const get = (ext) => (fs.existsSync(`${file}.${ext}`) ? fs.statSync(`${file}.${ext}`).size : null);
    return { file: path.relative(www, file), raw, br: get('br'), gz: get('gz') };
  };
  const client = path.join(www, 'js', 'client');
  const hashed = (re, plain) => {
    const f = fs.readdirSync(client).find((n) => re.test(n));
    return path.join(client, f || plain);
  };
  const loader = sizes(path.join(www, 'js', 'cobrowse.js'));
  const glue = sizes(hashed(/^cobrowse_client\.[0-9a-f]{16}\.js$/, 'cobrowse_client.js'));
  const wasm = sizes(hashed(/^cobrowse_client_bg\.[0-9a-f]{16}\.wasm$/, 'cobrowse_client_bg.wasm'));
  const rrFile = path.join(www, 'bench', path.basename(RRWEB_RECORD_PATH));
  const rrweb = { ...sizes(rrFile), file: `@rrweb/record ${RRWEB_RECORD_VERSION} dist/record.umd.min.cjs` };
  // The full rrweb bundle (record + replay), for reference, compressed the same way.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-bench-rrweb-'));
  const full = path.join(tmp, 'rrweb.umd.min.js');
  fs.copyFileSync(RRWEB_UMD, full);
  precompress(full);
  const rrwebFull = { ...sizes(full), file: `rrweb ${RRWEB_VERSION} dist/rrweb.umd.min.cjs` };
  fs.rmSync(tmp, { recursive: true, force: true });
  const add = (list) => ({ raw: sum(list.map((x) => x.raw)), br: sum(list.map((x) => x.br ?? x.raw)), gz: sum(list.map((x) => x.gz ?? x.raw)) });
  return { loader, glue, wasm, ours: add([loader, glue, wasm]), rrweb, rrwebFull };
}

// ---- agent-side cost ------------------------------------------------------------------------

/** Our agent page: join a live session, then replay the workload; main-thread CPU time of the agent page. */
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
  const cdp = await agent.cdp();
  await enableMetrics(cdp);
  await agent.bringToFront();
  const m0 = await metrics(cdp);
  await agent.goto(agentUrl(ctx.server, token), { timeout: WAIT });
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

/**
 * The agent page joining `token`, with the agent credential the server generated at its first
 * start (the server has required one since agents authenticate; without it the page never joins).
 */
function agentUrl(server, token) {
  const auth = server.agentToken ? `&auth=${encodeURIComponent(server.agentToken)}` : '';
  return `${server.url}/cobrowse/slave.html#sid=${token}${auth}`;
}

/** Two animation frames, so the work's rendering is inside the measured window. */
function frames2() {
  return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
}

/** A blank page with rrweb loaded and the recorded `events` in `window.__events`. */
async function replayPage(ctx, name, events) {
  const page = await ctx.browser.newPage(name, { width: 1280, height: 900 });
  await page.addInitScript({ path: RRWEB_UMD });
  await page.goto(`${ctx.server.url}/cobrowse/bench/blank.html`);
  await page.bringToFront();
  const cdp = await page.cdp();
  await enableMetrics(cdp);
  await page.evaluate((ev) => { window.__events = ev; }, events);
  return { page, cdp };
}

/** rrweb's Replayer on the recorded events: snapshot rebuild, then all deltas. */
async function agentRrweb(ctx, events) {
  const { page, cdp } = await replayPage(ctx, 'rrweb-replay', events);
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

/**
 * rrweb's Replayer as a live co-browse agent runs it (`liveMode`, `startLive()`, `addEvent()`):
 * the snapshot added at once, then each delta event added at the time it was recorded, so the
 * page renders between them as ours renders between the batches it receives. Done when the end
 * nonce is in the replica, + two animation frames.
 */
async function agentRrwebLive(ctx, events, nonce) {
  const { page, cdp } = await replayPage(ctx, 'rrweb-live', events);
  await page.evaluate(async () => {
    const ev = window.__events;
    const full = ev.findIndex((e) => e.type === 2);
    const r = new window.rrweb.Replayer([], {
      root: document.getElementById('root'), liveMode: true, showWarning: false, mouseTail: false, triggerFocus: false,
      // Straight to the DOM: with its virtual DOM, rrweb keeps events cast at once there until
      // a seek flushes it, which a live agent never does.
      useVirtualDom: false,
    });
    // Every recorded event is older than now: added, it is applied at once (no buffering).
    r.startLive(Date.now());
    for (const e of ev.slice(0, full + 1)) r.addEvent(e);
    window.__live = r;
    await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
  });
  const m1 = await metrics(cdp);
  const done = await page.evaluate(async (n) => {
    const ev = window.__events;
    const full = ev.findIndex((e) => e.type === 2);
    const rest = ev.slice(full + 1);
    const t0 = performance.now();
    const first = rest.length ? rest[0].timestamp : 0;
    for (const e of rest) {
      const wait = e.timestamp - first - (performance.now() - t0);
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      else await new Promise((res) => setTimeout(res, 0));
      window.__live.addEvent(e);
    }
    const shown = () => {
      const f = document.querySelector('#root iframe');
      return f?.contentDocument?.getElementById('bench-work')?.getAttribute('data-bench-end') === n;
    };
    const until = performance.now() + 30000;
    while (!shown() && performance.now() < until) await new Promise((res) => requestAnimationFrame(res));
    await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
    return shown();
  }, nonce);
  const apply = diff(m1, await metrics(cdp));
  await page.close();
  return { apply, ok: done };
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
  await agent.goto(agentUrl(ctx.server, token), { timeout: WAIT });
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
  // Bursts: 1,000 changes in one task, BURSTS times (one burst is one sample of a wall-clock
  // latency on a shared VM: a busy moment doubles it). The customer's share: from the first
  // change until the page handed its frame to the socket (the changes themselves, the mutation
  // callback, encoding).
  const burst = [];
  const burstCustomer = [];
  let burstSeen = 0;
  for (let b = 0; b < BURSTS; b++) {
    burstCustomer.push(await cust.page.evaluate(() => {
      const sent = window.__bench.frames.length;
      const t0 = performance.now();
      const t = String(performance.timeOrigin + t0);
      for (let i = 0; i < 1000; i++) document.getElementById(`l${i}`).setAttribute('data-t', t);
      return new Promise((resolve) => {
        const poll = () => {
          const f = window.__bench.frames.slice(sent).find((x) => x.tag === 5);
          if (f) resolve(f.t - t0);
          else setTimeout(poll, 5);
        };
        poll();
      });
    }));
    const seen = await collect(1000);
    burstSeen += seen.length;
    burst.push(median(seen));
    await new Promise((r) => setTimeout(r, 200));
  }
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
  return { steady, steadyN, burst, burstSeen, burstCustomer, pointer, moves: moves.length };
}

/**
 * Rounds of the main-thread figures: each run's CPU time (`task`) of each cost in `keys` is kept
 * in `tasks`; `medianRounds` then makes `task` their median. A result that failed in a later
 * round keeps the rounds it had.
 */
function addRound(into, r, keys) {
  if (!into || into.error) return;
  if (r.ok === false) into.ok = false;
  for (const k of keys) {
    if (!into[k] || !r[k]) continue;
    into[k].tasks ??= [into[k].task];
    into[k].tasks.push(r[k].task);
  }
}

function medianRounds(into, keys) {
  if (!into || into.error) return;
  for (const k of keys) {
    if (!into[k]) continue;
    into[k].tasks ??= [into[k].task];
    into[k].task = median(into[k].tasks);
  }
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
  const relay = await startWireRelay(server.url);
  const browser = await launchBenchBrowser();
  const ctx = { server, browser, relay };
  const rows = [];
  try {
    for (const entry of corpus) {
      const row = { name: entry.name };
      rows.push(row);
      // Byte figures come from the first round; main-thread figures are the medians of all
      // rounds (variants interleaved, so drift on the VM hits all three alike).
      for (let round = 0; round < CPU_ROUNDS; round++) {
        for (const variant of ['none', 'ours', 'rrweb']) {
          if (row[variant]?.error) continue;
          process.stderr.write(`browser: ${entry.name} / ${variant} (${round + 1}/${CPU_ROUNDS}) …\n`);
          try {
            const r = await capture(ctx, entry, variant);
            await r.page.close();
            delete r.page;
            delete r.cdp;
            if (round === 0) row[variant] = r;
            else addRound(row[variant], r, ['loadCost', 'snapshotCost', 'workloadCost']);
          } catch (err) {
            row[variant] = { error: err.message.split('\n')[0] };
            process.stderr.write(`  failed: ${row[variant].error}\n`);
            process.stderr.write(`  browser said: ${browser.messages().slice(-8).join('\n    ')}\n`);
          }
        }
      }
      for (const variant of ['none', 'ours', 'rrweb']) medianRounds(row[variant], ['loadCost', 'snapshotCost', 'workloadCost']);
      for (let round = 0; round < CPU_ROUNDS; round++) {
        const runs = [
          ['agentOurs', 'agent replay', () => agentOurs(ctx, entry), ['join', 'apply']],
          ['agentRrweb', 'rrweb Replayer', () => row.rrweb?.events && agentRrweb(ctx, row.rrweb.events), ['snapshot', 'apply']],
          ['agentRrwebLive', 'rrweb live Replayer', () => row.rrweb?.events && agentRrwebLive(ctx, row.rrweb.events, row.rrweb.nonce), ['apply']],
        ];
        for (const [key, what, run, costs] of runs) {
          if (row[key]?.error) continue;
          process.stderr.write(`browser: ${entry.name} / ${what} (${round + 1}/${CPU_ROUNDS}) …\n`);
          try {
            const r = await run();
            if (!r) continue;
            if (round === 0) row[key] = r;
            else addRound(row[key], r, costs);
          } catch (err) {
            row[key] = { error: err.message.split('\n')[0] };
            process.stderr.write(`  failed: ${row[key].error}\n`);
          }
        }
      }
      medianRounds(row.agentOurs, ['join', 'apply']);
      medianRounds(row.agentRrweb, ['snapshot', 'apply']);
      medianRounds(row.agentRrwebLive, ['apply']);
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
    let pv = null;
    try {
      if (args.includes('--skip-page-view')) throw new Error('skipped (--skip-page-view)');
      pv = await pageViews(ctx);
    } catch (err) {
      pv = { error: err.message.split('\n')[0] };
      process.stderr.write(`  failed: ${pv.error}\n`);
    }
    let bundle = null;
    try {
      bundle = bundleSizes(www);
    } catch (err) {
      bundle = { error: err.message.split('\n')[0] };
      process.stderr.write(`  bundle sizes failed: ${bundle.error}\n`);
    }
    const md = report(rows, lat, pv, bundle, (Date.now() - started) / 1000);
    process.stdout.write(md);
    if (opt('--out')) fs.writeFileSync(opt('--out'), md);
    if (opt('--json')) {
      fs.writeFileSync(opt('--json'), JSON.stringify({
        rows, latency: lat, pageView: pv, bundle, rrweb: RRWEB_VERSION, rrwebRecord: RRWEB_RECORD_VERSION,
      }, null, 1));
    }
  } finally {
    await relay.close().catch(() => {});
    await browser.close().catch(() => {});
    await server.stop();
    fs.rmSync(www, { recursive: true, force: true });
  }
}

function report(rows, lat, pv, bundle, secs) {
  let md = `Browser: ${CHROMIUM_VERSION()}, rrweb ${RRWEB_VERSION} (record-only bundle: @rrweb/record ${RRWEB_RECORD_VERSION}). Workload: 60 tasks of row inserts/removes/reorders, text edits, attribute and class flips, style changes and typing on a 100-row table added to each page.\n\n`;
  md += '### 1. Wire bytes (snapshot and workload deltas)\n\n';
  // Was permessage-deflate agreed on every customer socket?
  const exts = rows.flatMap((r) => r.ours?.wire?.extensions ?? []);
  const deflated = exts.filter((e) => /permessage-deflate/i.test(e));
  const kinds = [...new Set(exts)];
  if (!exts.length) {
    md += '**WARNING: no customer socket was seen by the counting relay; the wire columns are empty.**\n\n';
  } else if (deflated.length < exts.length) {
    md += `**WARNING: permessage-deflate was NOT negotiated on ${exts.length - deflated.length} of ${exts.length} customer sockets** (server answers: ${kinds.map((k) => `\`${k || '(no Sec-WebSocket-Extensions)'}\``).join(', ')}); their wire bytes are uncompressed.\n\n`;
    process.stderr.write(`WARNING: permessage-deflate NOT negotiated on ${exts.length - deflated.length} of ${exts.length} customer sockets\n`);
  } else {
    md += `permessage-deflate negotiated on ${deflated.length} of ${exts.length} customer sockets; the server answered \`Sec-WebSocket-Extensions: ${kinds.join('` / `')}\` (seen by the relay in the upgrade answer).\n\n`;
  }
  md += '| page | DOM nodes | ours snapshot on the wire KiB | ours snapshot, uncompressed payload KiB | rrweb snapshot KiB (JSON / zlib) | ours wire ÷ rrweb zlib | ours uncompressed ÷ rrweb JSON | ours workload on the wire KiB | ours deltas, uncompressed payload KiB | rrweb deltas KiB (JSON / zlib) | ours wire ÷ rrweb zlib | ours uncompressed ÷ rrweb JSON |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  const tot = { ws: 0, os: 0, rs: 0, rsz: 0, wd: 0, od: 0, rd: 0, rdz: 0, osz: 0, odz: 0, msgs: 0, comp: 0, upg: 0, links: 0, pages: 0 };
  const wireErrors = [];
  const snapCounts = [];
  for (const r of rows) {
    const o = r.ours || {};
    const w = r.rrweb || {};
    if (o.error || w.error || !o.wire || o.wire.error) {
      if (o.wire?.error) wireErrors.push(`${r.name}: ${o.wire.error}`);
      md += `| ${r.name} | ${f0(o.nodes ?? w.nodes)} | ${o.error ? `error: ${o.error}` : (o.wire?.error ? 'error (see below)' : '–')} | ${kb(o.snapshotBytes)} | ${w.error ? `error: ${w.error}` : `${kb(w.snapshotBytes)} / ${kb(w.snapshotZ)}`} | – | – | – | ${kb(o.deltaBytes)} | ${w.error ? '–' : `${kb(w.deltaBytes)} / ${kb(w.deltaZ)}`} | – | – |\n`;
      continue;
    }
    const x = o.wire;
    tot.ws += x.snapshotPhase; tot.wd += x.workloadPhase;
    tot.os += o.snapshotBytes; tot.rs += w.snapshotBytes; tot.rsz += w.snapshotZ;
    tot.od += o.deltaBytes; tot.rd += w.deltaBytes; tot.rdz += w.deltaZ;
    tot.osz += o.snapshotZ; tot.odz += o.deltaZ;
    tot.msgs += x.messages; tot.comp += x.compressedMessages; tot.upg += x.upgradeBytes ?? 0; tot.links += x.links; tot.pages += 1;
    snapCounts.push(`${r.name} ${o.snapshotFrames}${o.snapshotsDuringWorkload ? ` (+${o.snapshotsDuringWorkload} during the workload)` : ''}`);
    md += `| ${r.name} | ${f0(o.nodes)} | ${kb(x.snapshotPhase)} | ${kb(o.snapshotBytes)} | ${kb(w.snapshotBytes)} / ${kb(w.snapshotZ)} | ${r2(x.snapshotPhase, w.snapshotZ)} | ${r2(o.snapshotBytes, w.snapshotBytes)} | ${kb(x.workloadPhase)} | ${kb(o.deltaBytes)} | ${kb(w.deltaBytes)} / ${kb(w.deltaZ)} | ${r2(x.workloadPhase, w.deltaZ)} | ${r2(o.deltaBytes, w.deltaBytes)} |\n`;
  }
  md += `| **all pages** | | ${kb(tot.ws)} | ${kb(tot.os)} | ${kb(tot.rs)} / ${kb(tot.rsz)} | ${r2(tot.ws, tot.rsz)} | ${r2(tot.os, tot.rs)} | ${kb(tot.wd)} | ${kb(tot.od)} | ${kb(tot.rd)} / ${kb(tot.rdz)} | ${r2(tot.wd, tot.rdz)} | ${r2(tot.od, tot.rd)} |\n\n`;
  for (const e of wireErrors) md += `Wire count failed on ${e}.\n`;
  if (wireErrors.length) md += '\n';
  md += 'Ratio < 1 means ours is smaller. **Ours on the wire** = bytes of the customer\'s TCP connection to the server, browser → server, counted by a relay between the page and the server (`bench/browser/wire.mjs`): frame headers, masks and payloads as Chromium compressed them (permessage-deflate, context kept across frames). Snapshot = from the socket\'s first byte (the HTTP upgrade request';
  md += tot.pages ? `, ${f0(tot.upg / tot.pages)} B on average` : '';
  md += ') through the snapshot frame, so also the session\'s first frames; workload = every byte after the last frame sent before the workload through the frame carrying the end marker, keep-alives and acks included. ';
  md += `${tot.comp} of ${tot.msgs} customer messages went compressed (RSV1 set), the rest as they were. `;
  md += `Snapshot frames the client sent before the workload, per page (each one counts, in every column; more than one means the page was sent again): ${snapCounts.join(', ')}. `;
  md += '**Uncompressed payload** = the binary frames as the page handed them to `WebSocket.send` (deltas without keep-alives), i.e. before the browser compresses them. rrweb: events as `JSON.stringify` gives them, and that JSON compressed whole by Node zlib (level 6); rrweb was not sent anywhere, so it has no wire figure of its own.\n';
  md += `For reference, an estimate rather than a measurement: ours compressed whole by Node zlib level 6 as rrweb is (all pages): snapshot ${kb(tot.osz)} KiB, deltas ${kb(tot.odz)} KiB.\n\n`;

  md += '### 2. Customer-side main-thread cost (CDP TaskDuration in the main thread\'s CPU time, ms)\n\n';
  md += '| page | ours: client load on start | ours snapshot | rrweb snapshot | ratio | workload, no recorder | ours overhead | rrweb overhead | ratio | long tasks none / ours / rrweb |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  const ct = { os: 0, rs: 0, oo: 0, ro: 0, ol: 0 };
  for (const r of rows) {
    const n = r.none || {};
    const o = r.ours || {};
    const w = r.rrweb || {};
    const base = n.workloadCost?.task;
    const oo = o.workloadCost && base != null ? o.workloadCost.task - base : null;
    const ro = w.workloadCost && base != null ? w.workloadCost.task - base : null;
    if (o.snapshotCost && w.snapshotCost && oo != null && ro != null) {
      ct.os += o.snapshotCost.task; ct.rs += w.snapshotCost.task; ct.oo += oo; ct.ro += ro;
      ct.ol += o.loadCost?.task ?? 0;
    }
    md += `| ${r.name} | ${f1(o.loadCost?.task)} | ${f1(o.snapshotCost?.task)} | ${f1(w.snapshotCost?.task)} | ${r2(o.snapshotCost?.task, w.snapshotCost?.task)} | ${f1(base)} | ${f1(oo)} | ${f1(ro)} | ${r2(oo, ro)} | ${n.longtasks ?? '–'} / ${o.longtasks ?? '–'} / ${w.longtasks ?? '–'} |\n`;
  }
  md += `| **all pages** | ${f1(ct.ol)} | ${f1(ct.os)} | ${f1(ct.rs)} | ${r2(ct.os, ct.rs)} | | ${f1(ct.oo)} | ${f1(ct.ro)} | ${r2(ct.oo, ct.ro)} | |\n\n`;
  md += 'Client load on start = `Cobrowse.load()`: fetching, compiling and instantiating the client\'s glue and wasm, which the page view does not load (rrweb\'s bundle is loaded with the page; row 1b has both page views). Ours snapshot = `Cobrowse.start()` with the client loaded, until the snapshot frame is sent (includes session creation, socket, UI); rrweb = `rrweb.record()`. Overhead = workload TaskDuration with the recorder minus without (noisy at small values; can be negative).';
  md += ` Each figure is the median of ${CPU_ROUNDS} rounds per page, the three variants interleaved (every round in browser.json, \`tasks\`).\n\n`;

  md += '### 3. Agent-side cost (TaskDuration in the main thread\'s CPU time, ms, including rendering of two frames)\n\n';
  md += '| page | ours: open agent page → replica built | rrweb Replayer: snapshot rebuild | ours: apply workload deltas | rrweb: apply workload deltas (replay, one synchronous cast) | ratio (deltas) | rrweb live mode: apply deltas as recorded | ratio (deltas, live) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n';
  const at = { o: 0, w: 0, ol: 0, l: 0 };
  for (const r of rows) {
    const o = r.agentOurs || {};
    const w = r.agentRrweb || {};
    const l = r.agentRrwebLive || {};
    if (o.apply && w.apply) { at.o += o.apply.task; at.w += w.apply.task; }
    if (o.apply && l.apply) { at.ol += o.apply.task; at.l += l.apply.task; }
    md += `| ${r.name} | ${o.error ? `error: ${o.error}` : f1(o.join?.task)} | ${w.error ? `error: ${w.error}` : f1(w.snapshot?.task)}${w.ok === false ? ' (replica incomplete)' : ''} | ${f1(o.apply?.task)} | ${f1(w.apply?.task)} | ${r2(o.apply?.task, w.apply?.task)} | ${l.error ? `error: ${l.error}` : f1(l.apply?.task)}${l.ok === false ? ' (end not shown)' : ''} | ${r2(o.apply?.task, l.apply?.task)} |\n`;
  }
  md += `| **all pages** | | | ${f1(at.o)} | ${f1(at.w)} | ${r2(at.o, at.w)} | ${f1(at.l)} | ${r2(at.ol, at.l)} |\n\n`;
  md += `Each figure is the median of ${CPU_ROUNDS} rounds per page (ours, the Replayer and the live Replayer interleaved). `;
  md += 'Main-thread figures here and in sections 1b and 2 are the thread\'s CPU time (`bench/browser/cdp-metrics.mjs` says why: on the bench VM wall time charged tasks for time they did not run, and our agent page shares the cores with the live customer page and the server while rrweb\'s Replayer runs alone).\n\n';
  md += 'Ours "open → built" includes loading the agent page, its wasm and the socket; rrweb\'s snapshot column is the Replayer alone (its bundle is preloaded), so that column favours rrweb. Ours applies the deltas live, as its socket delivers them, and the page renders between batches; rrweb\'s replay column casts all of them in one synchronous `pause(t)` and renders once, which a live agent cannot do. The live-mode column is rrweb\'s Replayer as an rrweb-based co-browse agent runs it (`liveMode`, `startLive()`, each delta `addEvent()`ed at the time it was recorded, so the page renders between them too); both ratios are shown.\n\n';

  md += '### 4. Latency, customer DOM change → applied in the agent\'s replica (ms)\n\n';
  if (!lat || lat.error) {
    md += `error: ${lat?.error}\n\n`;
  } else {
    md += '| load | changes | seen | p50 | p95 | p99 |\n|---|---:|---:|---:|---:|---:|\n';
    md += `| steady 60 changes/s | ${lat.steadyN} | ${lat.steady.length} | ${f1(pct(lat.steady, 0.5))} | ${f1(pct(lat.steady, 0.95))} | ${f1(pct(lat.steady, 0.99))} |\n`;
    md += `| ${BURSTS} bursts of 1,000 in one task (each burst: the median of its changes) | ${BURSTS * 1000} | ${lat.burstSeen} | ${f1(median(lat.burst))} | ${f1(pct(lat.burst, 0.95))} | ${f1(pct(lat.burst, 0.99))} |\n`;
    md += `| pointer move → shown | ${lat.moves} | ${lat.pointer.length} | ${f1(pct(lat.pointer, 0.5))} | ${f1(pct(lat.pointer, 0.95))} | ${f1(pct(lat.pointer, 0.99))} |\n\n`;
    md += 'Pointer moves are throttled by the client, so fewer are shown than made; each shown position is matched to the move that produced it.';
    md += ` A burst's p95 and p99 are the worst of the ${BURSTS} bursts (all changes of one burst arrive in one frame).`;
    if (Array.isArray(lat.burstCustomer) && lat.burstCustomer.length) {
      md += ` Of a burst's latency, ${f1(median(lat.burstCustomer))} ms (median; bursts ${lat.burstCustomer.map(f1).join(', ')}) were the customer's (its 1,000 changes, the mutation callback and encoding, until the frame was handed to the socket), of the whole ${lat.burst.map(f1).join(', ')} ms; the rest is the relay and the agent.`;
    }
    md += '\n\n';
  }
  md += '### 5. A page view without a session, and the client bundle\n\n';
  if (!pv || pv.error) {
    md += `error: ${pv?.error}\n\n`;
  } else {
    const base = pv.none;
    const row = (label, v) => {
      const x = pv[v];
      const files = x.resources.map((q) => `${q.path.split('/').pop()} ${f0(q.bytes)} B${q.encoding ? ` (${q.encoding})` : ''}`).join(', ') || 'none';
      return `| ${label} | ${x.resources.length} | ${kb(x.resourceBytes)} | ${f0(x.documentBytes - base.documentBytes)} | ${f1(x.task)} | ${f1(x.task - base.task)} | ${files} |\n`;
    };
    md += `A cold view (fresh browser context, HTTP cache off) of one generated ${f0(PAGE_VIEW_NODES)}-node page served by the bench server, ${PAGE_VIEW_RUNS} views per variant interleaved; main-thread CPU time (TaskDuration) medians (per-run values in browser.json).\n\n`;
    md += '| variant | files loaded besides the page | their transfer KiB | page HTML bytes vs no snippet | main-thread CPU ms (TaskDuration) | vs page alone | files (transfer bytes, content-encoding) |\n|---|---:|---:|---:|---:|---:|---|\n';
    md += row('page alone (no snippet)', 'none');
    md += row('ours: snippet, no session (loader only)', 'ours');
    md += row('rrweb record bundle loaded, `record()` not started', 'rrweb');
    md += row('rrweb record bundle loaded, `record()` started', 'rrweb-record');
    md += '\n';
    md += `Transfer = CDP \`Network.loadingFinished\` encodedDataLength (response headers + body as sent, compressed). Ours: the snippet's async loader (\`cobrowse.js\`), which draws the co-browse button and observes nothing until a session starts (state after the view: \`${pv.ours.state.observing}\`). rrweb has no lazy mode: a site that co-browses with it loads its recorder up front, so the like-for-like row is "loaded, not started" (ready to record when a session begins); "started" is \`rrwebRecord.record()\` run when the bundle has loaded, events kept in an array and sent nowhere (${f0(pv['rrweb-record'].state.events)} events). rrweb's bundle is \`@rrweb/record\`'s \`record.umd.min.cjs\`, loaded by an async script tag like our loader and served by the same server, precompressed by the same script as ours (\`scripts/precompress.mjs\`), so it too goes brotli. Main-thread differences of a few ms are noise.\n\n`;
  }
  if (bundle && !bundle.error) {
    const b = bundle;
    md += '| client bundle | raw KiB | brotli KiB | gzip KiB |\n|---|---:|---:|---:|\n';
    for (const [label, x] of [['ours: loader `js/cobrowse.js`', b.loader], [`ours: JS glue \`${b.glue.file}\``, b.glue], [`ours: wasm \`${b.wasm.file}\``, b.wasm]]) {
      md += `| ${label} | ${kb(x.raw)} | ${kb(x.br)} | ${kb(x.gz)} |\n`;
    }
    md += `| **ours, all three** (what a session loads) | ${kb(b.ours.raw)} | ${kb(b.ours.br)} | ${kb(b.ours.gz)} |\n`;
    md += `| rrweb record-only: ${b.rrweb.file} | ${kb(b.rrweb.raw)} | ${kb(b.rrweb.br)} | ${kb(b.rrweb.gz)} |\n`;
    md += `| rrweb record + replay, for reference: ${b.rrwebFull.file} | ${kb(b.rrwebFull.raw)} | ${kb(b.rrwebFull.br)} | ${kb(b.rrwebFull.gz)} |\n`;
    md += `| ratio ours (all three) ÷ rrweb record-only | ${r2(b.ours.raw, b.rrweb.raw)} | ${r2(b.ours.br, b.rrweb.br)} | ${r2(b.ours.gz, b.rrweb.gz)} |\n`;
    md += `| ratio ours loader ÷ rrweb record-only (what a page view loads) | ${r2(b.loader.raw, b.rrweb.raw)} | ${r2(b.loader.br, b.rrweb.br)} | ${r2(b.loader.gz, b.rrweb.gz)} |\n\n`;
    md += 'Ours: the files `scripts/build-all.sh` writes to `www/js/` and their `.br` / `.gz` beside them (brotli quality 11, gzip level 9, `scripts/precompress.mjs`); rrweb: its bundle compressed by the same function. Bodies only, no HTTP headers. Ours is mostly wasm; the loader alone is what a page view without a session costs.\n\n';
  } else if (bundle?.error) {
    md += `client bundle sizes: error: ${bundle.error}\n\n`;
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

export { capture, agentOurs, agentRrweb, latency, openPage, staticRoot, metrics };
