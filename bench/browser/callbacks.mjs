// Where our customer page's main thread goes during a workload, callback by callback: the time
// spent in each MutationObserver callback (grouped by the records it got), each event listener
// (by event type), timer, animation frame and microtask the page runs, timed in the page with
// `performance.now()` around the callback. A sampling profile (`profile.mjs`) names functions but
// inflates short calls; this names the callbacks, costs two clock reads per callback, and sums
// exactly what each kind of change costs ours (for example, a five-row insert against a
// twenty-attribute flip).
//
//   node bench/browser/callbacks.mjs [--page "demo shop"] [--rounds 3] [--warm]
//        [--workload bench | inserts:<rows per task> | attributes:<changes per task>]
//
// `bench` is the 60-task workload of `pages.mjs`; `inserts:5` is 200 tasks each inserting five
// five-cell rows; `attributes:20` is 200 tasks each setting twenty attributes. Each round opens a
// fresh page, starts a session, waits until the snapshot went and the link settled, then times
// the workload. `--warm` runs the workload once, untimed, before the timed one, so the table shows
// our code after the JS and wasm engines have optimised it (the bench measures a page's first
// workload, as a customer's first minute of a session is). Prints, per callback kind, the count
// and the milliseconds of every round, and the workload's wall time. Diagnostic only:
// `scripts/bench.sh` does not run it.

import fs from 'node:fs';
import { assertBundleBuilt, startServer } from '../../tests/lib/server.mjs';
import { launchBenchBrowser } from './driver.mjs';
import { CORPUS, runWorkload, setupWorkArea } from './pages.mjs';
import { openPage, staticRoot } from './run.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const pageName = opt('--page', 'demo shop');
const rounds = Number(opt('--rounds', '3'));
const workload = opt('--workload', 'bench');
const warm = args.includes('--warm');
const entry = CORPUS.find((p) => p.name === pageName);
if (!entry) throw new Error(`no corpus page named "${pageName}" (${CORPUS.map((p) => p.name).join(', ')})`);
const [kind, count] = workload.split(':');
if (!['bench', 'inserts', 'attributes'].includes(kind)) throw new Error(`unknown workload ${workload}`);
const perTask = Number(count ?? (kind === 'inserts' ? 5 : 20));
if (!Number.isInteger(perTask) || perTask < 1) throw new Error(`not a count of changes per task: ${workload}`);

/** Init script: wraps the page's ways of being called back so each call is timed by kind. */
function timeCallbacks() {
  const T = { on: false, kinds: {} };
  window.__callbacks = T;
  const add = (k, dt) => {
    if (!T.on) return;
    const e = (T.kinds[k] ??= { n: 0, ms: 0 });
    e.n += 1;
    e.ms += dt;
  };
  const timed = (k, f) => function (...a) {
    const t = performance.now();
    try {
      return f.apply(this, a);
    } finally {
      add(k, performance.now() - t);
    }
  };
  // What a batch held: added / removed children, attribute names, text.
  const mix = (records) => {
    const seen = new Set();
    for (const r of records) {
      if (r.type === 'childList') seen.add(r.addedNodes.length ? 'add' : 'remove');
      else if (r.type === 'attributes') seen.add(`attr ${r.attributeName}`);
      else seen.add('text');
    }
    return [...seen].sort().join(' + ');
  };
  const MO = window.MutationObserver;
  window.MutationObserver = function (cb) {
    return new MO(function (records, observer) {
      const t = performance.now();
      try {
        return cb.call(this, records, observer);
      } finally {
        const dt = performance.now() - t;
        add('mutations (all)', dt);
        if (T.on) add(`mutations: ${mix(records)}`, dt);
      }
    });
  };
  window.MutationObserver.prototype = MO.prototype;
  const listeners = new WeakMap();
  const addListener = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, l, o) {
    if (typeof l !== 'function') return addListener.call(this, type, l, o);
    let w = listeners.get(l);
    if (!w) {
      w = timed(`event ${type}`, l);
      listeners.set(l, w);
    }
    return addListener.call(this, type, w, o);
  };
  const removeListener = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.removeEventListener = function (type, l, o) {
    return removeListener.call(this, type, listeners.get(l) || l, o);
  };
  for (const [name, k] of [['setTimeout', 'timer'], ['setInterval', 'interval']]) {
    const orig = window[name];
    window[name] = function (f, ms, ...a) {
      return orig.call(this, typeof f === 'function' ? timed(k, f) : f, ms, ...a);
    };
  }
  const raf = window.requestAnimationFrame;
  window.requestAnimationFrame = function (f) { return raf.call(this, timed('animation frame', f)); };
  const qm = window.queueMicrotask;
  window.queueMicrotask = function (f) { return qm.call(this, timed('microtask', f)); };
  const then = Promise.prototype.then;
  Promise.prototype.then = function (a, b) { return then.call(this, typeof a === 'function' ? timed('promise reaction', a) : a, b); };
  // Inside the rows above (not a callback of its own): what the page's sends cost, the bench's
  // frame-counting wrapper of `run.mjs` included.
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = timed('WebSocket.send (within the rows above)', send);
  // The socket's handlers are properties, not listeners.
  const onmessage = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
  Object.defineProperty(WebSocket.prototype, 'onmessage', {
    configurable: true,
    get() { return onmessage.get.call(this); },
    set(f) { onmessage.set.call(this, typeof f === 'function' ? timed('socket message', f) : f); },
  });
}

/**
 * Runs in the page: `tasks` tasks, each inserting `perTask` five-cell rows into the work area
 * (`kind` "inserts") or setting `perTask` attributes on its rows ("attributes"); then the end
 * marker the bench's instrumentation looks for. Self-contained: it is evaluated in the page.
 */
async function storm({ kind, perTask, tasks, nonce }) {
  const tbody = document.querySelector('#bench-work tbody');
  const rows = tbody.children;
  const yieldTask = () => new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => r();
    ch.port2.postMessage(0);
  });
  let next = 0;
  for (let s = 0; s < tasks; s++) {
    for (let k = 0; k < perTask; k++) {
      const at = (s * 7 + k) % rows.length;
      if (kind === 'attributes') {
        rows[at].setAttribute('data-x', String(s));
        continue;
      }
      const tr = document.createElement('tr');
      tr.dataset.row = `n${next++}`;
      for (let c = 0; c < 5; c++) {
        const td = document.createElement('td');
        td.textContent = `new ${next} ${c}`;
        tr.appendChild(td);
      }
      tbody.insertBefore(tr, rows[at] || null);
    }
    await yieldTask();
  }
  window.__bench.scan = true;
  document.getElementById('bench-work').setAttribute('data-bench-end', nonce);
}

/** Runs in the page: resolves once the page has sent nothing for half a second (at most 5 s). */
async function quiet() {
  const until = performance.now() + 5000;
  let sends = window.__bench.sends.length;
  let quietSince = performance.now();
  while (performance.now() < until && performance.now() - quietSince < 500) {
    await new Promise((r) => setTimeout(r, 50));
    if (window.__bench.sends.length !== sends) {
      sends = window.__bench.sends.length;
      quietSince = performance.now();
    }
  }
}

assertBundleBuilt();
const www = staticRoot();
const server = await startServer({ env: { COBROWSE_STATIC_DIR: www } });
const browser = await launchBenchBrowser();
const byKind = new Map();
const walls = [];
try {
  for (let round = 0; round < rounds; round++) {
    const { page } = await openPage({ server, browser }, 'about:blank', 'ours');
    await page.addInitScript(timeCallbacks);
    await page.goto(server.url + entry.path);
    await page.evaluate(setupWorkArea);
    await page.waitForFunction(() => window.Cobrowse && window.Cobrowse.ready);
    await page.evaluate(async () => {
      await window.Cobrowse.ready;
      await window.Cobrowse.start();
      await window.__bench.within(window.__bench.snapshotSent, 'the snapshot frame');
    });
    // As the bench does: a second snapshot may follow when the link is welcomed.
    await page.evaluate(quiet);
    const run = async (nonce) => {
      await page.evaluate((n) => window.__bench.expectEnd(n), nonce);
      if (kind === 'bench') await page.evaluate(runWorkload, nonce);
      else await page.evaluate(storm, { kind, perTask, tasks: 200, nonce });
      await page.evaluate(() => window.__bench.within(window.__bench.endSent, 'the end nonce frame'));
    };
    if (warm) {
      await run(`warm-${round}`);
      await page.evaluate(quiet);
    }
    await page.evaluate(() => { window.__callbacks.on = true; });
    const t0 = Date.now();
    await run(`end-${round}`);
    walls.push(Date.now() - t0);
    const kinds = await page.evaluate(() => {
      window.__callbacks.on = false;
      return window.__callbacks.kinds;
    });
    for (const [k, v] of Object.entries(kinds)) {
      if (!byKind.has(k)) byKind.set(k, Array.from({ length: rounds }, () => null));
      byKind.get(k)[round] = v;
    }
    await page.close();
  }
} finally {
  await browser.close().catch(() => {});
  await server.stop();
  fs.rmSync(www, { recursive: true, force: true });
}

const total = (row) => row.reduce((a, v) => a + (v ? v.ms : 0), 0);
console.log(`# ours on "${entry.name}", workload ${workload}${warm ? ' (after one untimed run)' : ''}, ${rounds} rounds: callbacks (count × ms per round)\n`);
console.log('| callback | ' + Array.from({ length: rounds }, (_, i) => `round ${i + 1}`).join(' | ') + ' |');
console.log('|---|' + '---:|'.repeat(rounds));
for (const [k, row] of [...byKind.entries()].sort((a, b) => total(b[1]) - total(a[1]))) {
  console.log(`| ${k} | ${row.map((v) => (v ? `${v.n} × ${v.ms.toFixed(1)}` : '–')).join(' | ')} |`);
}
console.log(`| workload wall time (ms, from the driver) | ${walls.join(' | ')} |`);
