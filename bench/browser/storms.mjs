// Storm benchmark: what a burst of DOM work costs the customer's page and uplink, Cobrowse next to
// rrweb in the same Chromium, one workload at a time, each run in ONE task (one MutationObserver
// callback for both recorders).
//
//   node bench/browser/storms.mjs [--only add,chain] [--out storms.md] [--profile]
//
// `--profile` prints where ours spends the main thread in each workload (CDP sampling profile of
// the `ours` variant; the profiler's overhead makes that run's figures slower than the others).
//
// Variants: `none` (the page alone), `ours` (the site's defaults, upload budget on), `ours
// unlimited` (`uploadBudget: { unlimited: true }`), `rrweb` (2.2.2, `record()`). Bytes: what the
// recorder produced for the workload — our frames on the socket (a link's `Seq` unwrapped,
// keep-alives left out), rrweb's events as JSON — up to the task after the workload's. With the
// budget a delta over it is held: the row then shows what went at once, and the one resync
// snapshot that replaces it comes later (`resync` column: its size, awaited). Main thread:
// Chromium's TaskDuration from the workload's start to that point, minus nothing (compare with
// `none`). Reports figures; never fails because the machine is slow.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ROOT, assertBundleBuilt, startServer } from '../../tests/lib/server.mjs';
import { launchBenchBrowser } from './driver.mjs';
import { top } from './cpu-profile.mjs';
import { enableMetrics, metrics } from './cdp-metrics.mjs';
import { installFrameReader } from './frame-tags.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const RRWEB_UMD = require.resolve('rrweb').replace(/rrweb\.cjs$/, 'rrweb.umd.min.cjs');
const WAIT = 120_000;

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = opt('--only')?.split(',');
const profiling = args.includes('--profile');

/** The page: a snippet whose config follows `?budget=off`, and room for the workloads. */
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Storm</title>
<script>
  window.cobrowseConfig = {
    button: false,
    uploadBudget: new URLSearchParams(location.search).get('budget') === 'off' ? { unlimited: true } : {},
  };
  (function (d, s) {
    s = d.createElement('script'); s.async = true;
    s.src = location.origin + '/cobrowse/js/cobrowse.js';
    s.setAttribute('data-server-url', location.origin);
    d.head.appendChild(s);
  })(document);
</script></head><body><h1>Storm</h1><div id="a"></div><div id="b"></div>
<div id="cells">${'<span></span>'.repeat(1000)}</div></body></html>`;

/** The workloads, each a function run in the page in one task. */
const WORKLOADS = {
  'add 1,000 × 10 nodes': () => {
    const a = document.getElementById('a');
    for (let n = 0; n < 1000; n++) {
      const li = document.createElement('div');
      for (const tag of ['b', 'i', 'u', 's']) {
        li.appendChild(document.createElement(tag)).textContent = `${tag}${n}`;
        li.appendChild(document.createTextNode(' '));
      }
      li.appendChild(document.createTextNode('.'));
      a.appendChild(li);
    }
  },
  'add 10,000 nodes, then move them': () => {
    const a = document.getElementById('a');
    const b = document.getElementById('b');
    for (let n = 0; n < 10000; n++) a.appendChild(document.createElement('p'));
    while (a.firstChild) b.appendChild(a.firstChild);
  },
  '10,000 attribute changes': () => {
    const cells = document.getElementById('cells').children;
    for (let k = 0; k < 10; k++) {
      for (let i = 0; i < cells.length; i++) cells[i].setAttribute('data-v', `${k}.${i}`);
    }
  },
  '100 trees 256 deep': () => {
    const a = document.getElementById('a');
    for (let t = 0; t < 100; t++) {
      const root = document.createElement('div');
      let at = root;
      for (let d = 1; d < 256; d++) at = at.appendChild(document.createElement('div'));
      a.appendChild(root);
    }
  },
  'a 1,000-deep chain': () => {
    const root = document.createElement('div');
    let at = root;
    for (let d = 1; d < 1000; d++) at = at.appendChild(document.createElement('div'));
    document.getElementById('a').appendChild(root);
  },
};

/** Init script: keeps the size and inner tag of every frame the page sends (a batch's each). */
function instrument() {
  const b = { frames: [] };
  window.__storm = b;
  const orig = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const u8 = data instanceof ArrayBuffer ? new Uint8Array(data)
      : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
    if (u8 && u8.length > 1) {
      for (const f of window.__framesOf(u8)) b.frames.push(f);
    }
    return orig.call(this, data);
  };
}

const nextTask = () => new Promise((r) => {
  const ch = new MessageChannel();
  ch.port1.onmessage = () => r();
  ch.port2.postMessage(0);
});

async function taskMs(cdp) {
  return (await metrics(cdp)).task;
}

/** One workload under one variant: bytes and main-thread time. */
async function run(ctx, name, variant) {
  const page = await ctx.browser.newPage(variant, { width: 1280, height: 800 });
  try {
    if (variant === 'none' || variant === 'rrweb') await page.blockUrlsEndingWith('/cobrowse/js/cobrowse.js');
    await page.addInitScript(installFrameReader);
    await page.addInitScript(instrument);
    if (variant === 'rrweb') await page.addInitScript({ path: RRWEB_UMD });
    const query = variant === 'ours unlimited' ? '?budget=off' : '';
    await page.goto(`${ctx.server.url}/cobrowse/bench/storm.html${query}`, { waitUntil: 'load', timeout: WAIT });
    await page.bringToFront();
    const cdp = await page.cdp();
    await enableMetrics(cdp);
    if (variant.startsWith('ours')) {
      await page.waitForFunction(() => window.Cobrowse && window.Cobrowse.ready, null, { timeout: WAIT });
      await page.evaluate(async () => {
        await window.Cobrowse.ready;
        await window.Cobrowse.start();
      });
      await page.waitForFunction(() => window.__storm.frames.some((f) => f.tag === 4), null, { timeout: WAIT });
    } else if (variant === 'rrweb') {
      await page.evaluate(() => {
        window.__events = [];
        window.__stop = window.rrweb.record({ emit: (e) => window.__events.push(e) });
      });
    }
    const mark = await page.evaluate(() => ({ frames: window.__storm.frames.length, events: window.__events?.length ?? 0 }));
    const profile = profiling && variant === 'ours';
    if (profile) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      await cdp.send('Profiler.start');
    }
    const t0 = await taskMs(cdp);
    await page.evaluate(`(${WORKLOADS[name].toString()})()`);
    await page.evaluate(nextTask);
    const ms = (await taskMs(cdp)) - t0;
    if (profile) {
      const { profile: p } = await cdp.send('Profiler.stop');
      console.log(`## ours: ${name}, top self time\n${top(p, 20)}\n`);
    }
    const out = await page.evaluate((m) => ({
      bytes: window.__storm.frames.slice(m.frames).filter((f) => ![17, 18, 28].includes(f.tag)).reduce((s, f) => s + f.len, 0),
      rrweb: window.__events ? new TextEncoder().encode(JSON.stringify(window.__events.slice(m.events))).length : null,
    }), mark);
    let resync = null;
    if (variant === 'ours') {
      // Held by the budget: the one snapshot that replaces the held changes, awaited.
      const held = await page.evaluate((m) => !window.__storm.frames.slice(m.frames).some((f) => f.tag === 5), mark);
      if (held) {
        await page.waitForFunction((m) => window.__storm.frames.slice(m.frames).some((f) => f.tag === 4), mark, { timeout: WAIT });
        resync = await page.evaluate((m) => window.__storm.frames.slice(m.frames).find((f) => f.tag === 4).len, mark);
      }
    }
    return { ms, bytes: variant === 'rrweb' ? out.rrweb : variant === 'none' ? null : out.bytes, resync };
  } catch (e) {
    return { error: e.message.split('\n')[0] };
  } finally {
    await page.close();
  }
}

async function main() {
  assertBundleBuilt();
  const www = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-storm-www-'));
  fs.cpSync(path.join(ROOT, 'www'), www, { recursive: true });
  fs.mkdirSync(path.join(www, 'bench'), { recursive: true });
  fs.writeFileSync(path.join(www, 'bench', 'storm.html'), PAGE);
  const server = await startServer({ env: { COBROWSE_STATIC_DIR: www, COBROWSE_LOG_LEVEL: 'warn', RUST_LOG: 'warn' } });
  const browser = await launchBenchBrowser();
  const ctx = { server, browser };
  const variants = ['none', 'ours', 'ours unlimited', 'rrweb'];
  let md = '| workload | main thread: none / ours / ours unlimited / rrweb (ms) | bytes: ours (held → resync) / ours unlimited / rrweb |\n|---|---|---|\n';
  try {
    for (const name of Object.keys(WORKLOADS).filter((n) => !only || only.some((o) => n.includes(o)))) {
      const r = {};
      for (const v of variants) r[v] = await run(ctx, name, v);
      const ms = variants.map((v) => (r[v].error ? `error: ${r[v].error}` : r[v].ms.toFixed(0))).join(' / ');
      const o = r.ours;
      const ours = o.error ? `error: ${o.error}` : o.resync != null ? `${o.bytes} (held → ${o.resync})` : `${o.bytes}`;
      const bytes = [ours, ...['ours unlimited', 'rrweb'].map((v) => (r[v].error ? `error: ${r[v].error}` : String(r[v].bytes)))].join(' / ');
      const row = `| ${name} | ${ms} | ${bytes} |`;
      console.log(row);
      md += `${row}\n`;
    }
  } finally {
    await browser.close?.();
    await server.stop?.();
  }
  if (opt('--out')) fs.writeFileSync(opt('--out'), md);
  console.log(`\n${md}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
