// Safe replay: a hostile customer page (a corpus of 150+ XSS vectors: script elements, inline
// handlers on many tags, javascript:/data: URLs, srcdoc, meta refresh, base hijack, object/embed,
// forms, target=_top, SVG/MathML tricks, CSS url() vectors, and attributes injected by mutation
// while the agent watches) is replayed to the agent. Every payload records itself on `top` and
// requests /cobrowse/xss-beacon; the agent side must show neither, even after every replica
// element is clicked, focused, hovered and every form submitted. The agent page's CSP header is
// strict and the replica's sandbox never allows scripts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitIn, staticDirWith } from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const PAGE = '/cobrowse/demo/hostile-fixture.html';

let ctx;
before(async () => { ctx = await setupCase('safe-replay', { serverEnv: { COBROWSE_STATIC_DIR: staticDirWith('hostile-fixture.html', path.join(here, 'page.html')) } }); });
after(async () => { await ctx?.close(); });

test('nothing from the hostile page executes on the agent side', { timeout: 180_000 }, async () => {
  const beacons = [];
  ctx.agent.on('request', (r) => { if (r.url().includes('xss-beacon')) beacons.push(r.url()); });
  const dialogs = [];
  ctx.agent.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });

  await openCustomer(ctx, PAGE);
  const corpus = await ctx.customer.evaluate(() => window.__corpusSize);
  const token = await startSession(ctx);
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');
  const agentUrl = ctx.agent.url();
  const replicaHas = (sel) => waitIn(ctx, ctx.agent, `replica has ${sel}`, (s) =>
    !!document.getElementById('cobrowse-replica').contentDocument?.querySelector(s), sel);
  await replicaHas('#vectors > *');

  const mutated = await ctx.customer.evaluate(() => window.injectLater());
  await replicaHas('#injected-done');

  // Poke everything in the replica from the agent realm, as curious code might.
  const poked = await ctx.agent.evaluate(() => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    let n = 0;
    for (const el of doc.querySelectorAll('*')) {
      n++;
      try { el.dispatchEvent(new MouseEvent('mouseover', { bubbles: true })); } catch {}
      try { el.focus?.(); } catch {}
      try { el.click?.(); } catch {}
    }
    for (const f of doc.querySelectorAll('form')) {
      try { f.requestSubmit(); } catch {}
      try { f.submit(); } catch {}
    }
    return n;
  });
  // Round trip after the poking: the customer changes a marker, the agent shows it.
  await ctx.customer.evaluate(() => { document.querySelector('h1').textContent = 'Hostile page done'; });
  await waitIn(ctx, ctx.agent, 'marker round trip', () =>
    document.getElementById('cobrowse-replica').contentDocument?.querySelector('h1')?.textContent === 'Hostile page done');
  await waitIn(ctx, ctx.agent, 'replica images settled', () =>
    [...document.getElementById('cobrowse-replica').contentDocument.images].every((i) => i.complete));

  const result = await ctx.agent.evaluate(() => {
    const f = document.getElementById('cobrowse-replica');
    const frames = [];
    const walk = (w) => { try { frames.push(w.__xss); for (let i = 0; i < w.frames.length; i++) walk(w.frames[i]); } catch {} };
    walk(f.contentWindow);
    return {
      topMarker: window.__xss ?? null,
      frameMarkers: frames.filter((x) => x !== undefined),
      sandbox: f.getAttribute('sandbox'),
      nestedSandboxes: [...f.contentDocument.querySelectorAll('iframe')].map((i) => i.getAttribute('sandbox')),
      scripts: f.contentDocument.querySelectorAll('script').length,
      handlers: [...f.contentDocument.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
      jsUrls: [...f.contentDocument.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^\s*(javascript|vbscript):/i.test(a.value))).length,
    };
  });
  console.log(`# safe replay: corpus ${corpus} vectors + ${mutated + 3} mutation-time injections; ` +
    `${poked} replica elements poked; agent beacons ${beacons.length}; markers ${JSON.stringify(result.topMarker)}`);
  assert.ok(corpus >= 100, `corpus has ${corpus} vectors`);
  // The payloads are live code: on the customer's own page (where they are the site's scripts)
  // many of them did run, so their absence on the agent side means something.
  const ranOnCustomer = await ctx.customer.evaluate(() => (window.__xss || []).length);
  console.log(`# payloads that ran on the customer's own page: ${ranOnCustomer}`);
  assert.ok(ranOnCustomer > 10, 'the corpus payloads are executable (they ran on the customer page)');
  assert.equal(result.topMarker, null, 'a payload ran with access to the agent page');
  assert.deepEqual(result.frameMarkers, [], 'a payload ran inside the replica');
  assert.deepEqual(beacons, [], 'the agent side requested a beacon');
  assert.deepEqual(dialogs, []);
  assert.equal(ctx.agent.url(), agentUrl, 'the agent page was not navigated');
  assert.ok(!/allow-scripts/.test(result.sandbox ?? ''), `replica sandbox ${result.sandbox}`);
  assert.ok(result.nestedSandboxes.every((s) => s !== null && !/allow-scripts/.test(s)), `nested ${result.nestedSandboxes}`);
  assert.equal(result.handlers, 0, 'inline handlers in the replica');
  assert.equal(result.jsUrls, 0, 'script URLs in the replica');

  // The agent page's own CSP header.
  const res = await fetch(ctx.url('/cobrowse/slave.html'));
  const csp = res.headers.get('content-security-policy') ?? '';
  const directive = (name) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? '';
  const scriptSrc = directive('script-src') || directive('default-src');
  assert.ok(scriptSrc, `CSP has script-src: ${csp}`);
  assert.ok(!/'unsafe-inline'|'unsafe-eval'|\*|data:/.test(scriptSrc), `script-src is strict: ${scriptSrc}`);
  assert.match(directive('object-src'), /'none'/);
  console.log(`# agent CSP: ${csp}`);
});
