// Third-party frames ("Documents"): an iframe of another origin, whose document the
// customer's script cannot capture, is a blank box of the same size in the replica and the agent's
// browser never requests it; an iframe whose origin is in the server's
// `proxy.allowedThirdPartyDomains` is loaded by URL in the replica, with its scripts not running.
// Both origins are real loopback HTTP servers on their own ports; the case also inserts a refused
// frame and moves the allowed one while the agent watches.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import {
  compareScreenshots, joinAgent, openCustomer, sessionInfo, setupCase, startSession, waitForCustomerState,
  waitForReplica, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const WAIT_MS = Number(process.env.COBROWSE_E2E_WAIT_MS || 20000);

/** The third party's widget: its look needs no script; its script only reports that it ran. */
const WIDGET = (name, colour) => `<!doctype html><html><head><meta charset="utf-8">
<style>html,body{margin:0;height:100%;background:${colour};font:bold 20px/1 monospace;color:#fff}
p{margin:0;padding:12px}</style></head>
<body><p>${name} widget</p><script>fetch('/beacon?' + encodeURIComponent(document.referrer || 'none'));</script></body></html>`;

/** A loopback HTTP server standing for a third-party site; it remembers every request path. */
async function thirdParty(name, colour) {
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url);
    if (req.url === '/widget.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(WIDGET(name, colour));
    } else {
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, hits, close: () => new Promise((r) => server.close(r)) };
}

let ctx;
let refused;
let allowed;
before(async () => {
  refused = await thirdParty('refused', '#a33');
  allowed = await thirdParty('allowed', '#36a');
  const page = fs.readFileSync(path.join(here, 'page.html'), 'utf8')
    .replaceAll('REFUSED_ORIGIN', refused.origin)
    .replaceAll('ALLOWED_ORIGIN', allowed.origin);
  ctx = await setupCase('third-party-frames', {
    serverEnv: { COBROWSE_PROXY_ALLOWED_THIRD_PARTY_DOMAINS: allowed.origin },
    site: { '/fixture/frames.html': Buffer.from(page) },
  });
});
after(async () => {
  await ctx?.close();
  await refused?.close();
  await allowed?.close();
});

/** Boxes of `ids` on the customer page and in the replica, `{id: {x, y, width, height}}`. */
async function boxes(ids) {
  const read = ([list, inReplica]) => {
    const doc = inReplica ? document.getElementById('cobrowse-replica').contentDocument : document;
    return Object.fromEntries(list.map((id) => {
      const r = doc.getElementById(id).getBoundingClientRect();
      return [id, { x: r.x, y: r.y, width: r.width, height: r.height }];
    }));
  };
  return {
    customer: await ctx.customer.evaluate(read, [ids, false]),
    replica: await ctx.agent.evaluate(read, [ids, true]),
  };
}

/** What the replica shows for frame `id`: its src/sandbox and, when same-origin, its body. */
function replicaFrame(id) {
  return ctx.agent.evaluate((fid) => {
    const f = document.getElementById('cobrowse-replica').contentDocument.getElementById(fid);
    let body = null;
    try { body = f.contentDocument ? f.contentDocument.body?.innerHTML ?? '' : null; } catch { body = null; }
    return { src: f.getAttribute('src'), sandbox: f.getAttribute('sandbox'), body };
  }, id);
}

/** Waits until `list` (a server's request log) satisfies `pred`; the browsers are the other party. */
async function waitForHits(what, list, pred) {
  const deadline = Date.now() + WAIT_MS;
  while (!pred(list)) {
    if (Date.now() > deadline) throw ctx.fail(`timed out waiting for ${what}; requests: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Share of identical pixels of frame `id` on both sides: the customer's viewport and the replica
 * frame's content box are screenshotted at 1:1 (the harness's comparison, which also hides our
 * UI), then both are cropped to the frame's box (whole pixels in this fixture). */
async function framePixels(id, label) {
  await compareScreenshots(ctx, label);
  const a = PNG.sync.read(fs.readFileSync(path.join(ctx.resultsDir, `${label}-customer.png`)));
  const b = PNG.sync.read(fs.readFileSync(path.join(ctx.resultsDir, `${label}-replica.png`)));
  const r = await ctx.customer.evaluate((i) => {
    const box = document.getElementById(i).getBoundingClientRect();
    return { x: Math.round(box.x), y: Math.round(box.y), w: Math.round(box.width), h: Math.round(box.height) };
  }, id);
  const crop = (png) => {
    const out = new PNG({ width: r.w, height: r.h });
    PNG.bitblt(png, out, r.x, r.y, r.w, r.h, 0, 0);
    return out;
  };
  const ca = crop(a);
  const cb = crop(b);
  const different = pixelmatch(ca.data, cb.data, null, r.w, r.h, { threshold: 0.1 });
  return 1 - different / (r.w * r.h);
}

test('refused third-party frames are same-size blank boxes never requested; allowed ones load without scripts', { timeout: 120_000 }, async () => {
  const agentRequests = [];
  ctx.agent.on('request', (r) => agentRequests.push(r.url()));
  const customerRequests = [];
  ctx.customer.on('request', (r) => customerRequests.push(r.url()));
  const agentWidgetLoads = () => agentRequests.filter((u) => u === `${allowed.origin}/widget.html`).length;

  await openCustomer(ctx, '/fixture/frames.html');
  // The customer's own browser loads both widgets and runs their scripts (so the checks below
  // could fail: a replica that ran them would be seen).
  await waitForHits('the customer loading the refused widget', refused.hits, (h) => h.includes('/widget.html') && h.some((u) => u.startsWith('/beacon')));
  await waitForHits('the customer loading the allowed widget', allowed.hits, (h) => h.includes('/widget.html') && h.some((u) => u.startsWith('/beacon')));
  const token = await startSession(ctx);
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);

  const info = (await sessionInfo(ctx, token)).body;
  assert.deepEqual(info.allowedThirdPartyDomains, [allowed.origin]);

  // The allowed frame is loaded by URL in the replica; wait for its document to be there.
  await waitIn(ctx, ctx.agent, 'the replica loading the allowed widget', (u) => {
    const f = document.getElementById('cobrowse-replica').contentDocument?.getElementById('allowed');
    return f && f.getAttribute('src') === u;
  }, `${allowed.origin}/widget.html`);
  const allowedFrame = await (async () => {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const f = ctx.agent.frames().find((fr) => fr.url() === `${allowed.origin}/widget.html`);
      if (f) return f;
      if (Date.now() > deadline) throw ctx.fail('no frame of the allowed widget on the agent page');
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await allowedFrame.waitForLoadState('load');

  const first = await boxes(['refused', 'allowed']);
  console.log(`# boxes ${JSON.stringify(first)}`);
  assert.deepEqual(first.replica, first.customer, 'frames have the customer\'s size and place');

  const r = await replicaFrame('refused');
  assert.equal(r.src, null, 'the refused frame has no src in the replica');
  assert.equal(r.body, '', 'the refused frame is an empty (same-origin about:blank) document');
  const a = await replicaFrame('allowed');
  assert.equal(a.src, `${allowed.origin}/widget.html`);
  assert.ok(!/allow-scripts/.test(a.sandbox ?? ''), `sandbox without allow-scripts: ${a.sandbox}`);
  // Same pixels: the widget's look needs no script.
  const share = await framePixels('allowed', 'allowed-frame');
  console.log(`# allowed frame: ${(share * 100).toFixed(2)} % identical pixels`);
  assert.ok(share >= 0.99, `allowed frame pixels ${share}`);

  // Live changes: a refused frame inserted, the allowed frame moved (the customer's reloads; the
  // replica moves its frame atomically with moveBefore, so it may keep the loaded document).
  const customerBeacons = () => customerRequests.filter((u) => u.startsWith(`${allowed.origin}/beacon`)).length;
  const beaconsBefore = customerBeacons();
  await ctx.customer.evaluate((origin) => {
    const late = document.createElement('iframe');
    late.id = 'late';
    late.src = `${origin}/widget.html?late`;
    late.width = '200';
    late.height = '90';
    document.body.append(late);
    document.getElementById('shelf').append(document.getElementById('allowed'));
  }, refused.origin);
  await waitForReplica(ctx);
  await waitForHits('the customer loading the late refused widget', refused.hits, (h) => h.includes('/widget.html?late'));
  await waitIn(ctx, ctx.agent, 'the moved allowed frame in the shelf', () =>
    document.getElementById('cobrowse-replica').contentDocument?.querySelector('#shelf > #allowed') != null);
  const moved = ctx.agent.frames().find((fr) => fr.url() === `${allowed.origin}/widget.html`);
  assert.ok(moved, 'the moved allowed frame still shows the widget in the replica');
  await moved.waitForLoadState('load');
  // The customer's reloaded widget has run to its end (its beacon) before pixels are compared.
  const reloadDeadline = Date.now() + WAIT_MS;
  while (customerBeacons() <= beaconsBefore) {
    if (Date.now() > reloadDeadline) throw ctx.fail('the customer\'s moved widget did not reload');
    await new Promise((res) => setTimeout(res, 50));
  }
  await ctx.customer.frames().find((fr) => fr.url() === `${allowed.origin}/widget.html`)?.waitForLoadState('load');
  const second = await boxes(['refused', 'allowed', 'late']);
  assert.deepEqual(second.replica, second.customer, 'inserted and moved frames keep size and place');
  assert.equal((await replicaFrame('late')).src, null);
  // Compared again after two more frames (up to three times) if the reloaded frame had not
  // painted yet, as the fidelity suite does.
  let share2 = 0;
  for (let i = 0; i < 3 && share2 < 1; i++) {
    await ctx.customer.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    share2 = Math.max(share2, await framePixels('allowed', 'moved-frame'));
  }
  console.log(`# moved allowed frame: ${(share2 * 100).toFixed(2)} % identical pixels`);
  assert.ok(share2 >= 0.99, `moved allowed frame pixels ${share2}`);

  // Round trip so anything the agent would still request has been requested.
  await ctx.customer.evaluate(() => { document.querySelector('h1').textContent = 'done'; });
  await waitForReplica(ctx);
  const toRefused = agentRequests.filter((u) => u.startsWith(refused.origin));
  assert.deepEqual(toRefused, [], 'the agent\'s browser never contacted the refused origin');
  const beacons = agentRequests.filter((u) => u.startsWith(`${allowed.origin}/beacon`));
  assert.deepEqual(beacons, [], 'the allowed widget\'s script never ran in the replica');
  assert.ok(agentWidgetLoads() >= 1, 'the allowed widget was loaded by the replica');
});
