// Safe replay: a hostile customer page (a corpus of 150+ XSS vectors: script elements, inline
// handlers on many tags, javascript:/data: URLs, srcdoc, meta refresh, base hijack, object/embed,
// forms, target=_top, SVG/MathML tricks, CSS url() vectors, and attributes injected by mutation
// while the agent watches) is replayed to the agent. Every payload records itself on `top` and
// requests /cobrowse/xss-beacon; the agent side must show neither, even after every replica
// element is clicked, focused, hovered and every form submitted. Prefixed and namespaced element
// names (`x:script`, `x:iframe`, `svg:script`, createElementNS with odd prefixes) yield no live
// script, frame, base, style, link or plugin in the replica, and nothing the replica loads learns
// the agent page's URL, although the hostile page asks for `unsafe-url` by `<meta name=referrer>`
// and `referrerpolicy`: the replica's elements send no Referer, and no agent-side request sends
// more than the agent's origin (Chromium's style-sheet image loads, whatever the policy). The agent page's CSP
// header is strict and the replica's sandbox never allows scripts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitIn } from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const PAGE = '/demo/hostile-fixture.html';

let ctx;
before(async () => { ctx = await setupCase('safe-replay', { site: { [PAGE]: path.join(here, 'page.html') } }); });
after(async () => { await ctx?.close(); });

test('nothing from the hostile page executes on the agent side', { timeout: 180_000 }, async () => {
  const beacons = [];
  const referers = [];
  ctx.agent.on('request', (r) => {
    if (r.url().includes('xss-beacon')) beacons.push(r.url());
    // The headers the browser really sent (after its referrer policy).
    referers.push(r.headerValue('referer').then((v) => [r.url(), v], () => [r.url(), null]));
  });
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
      // `createElementNS` with a prefixed name makes the real element (`x:script` → a script
      // with prefix `x`); the replica must make none.
      withPrefix: [...f.contentDocument.querySelectorAll('*')].filter((e) => e.prefix !== null)
        .map((e) => `${e.prefix}:${e.localName}`),
      frames: f.contentDocument.querySelectorAll('iframe').length,
      plugins: f.contentDocument.querySelectorAll('object, embed, applet').length,
      prefixed: [...f.contentDocument.querySelectorAll('*')].filter((e) => e.localName.startsWith('x:'))
        .map((e) => `${e.localName}=${e.constructor.name}`),
      referrerPolicies: [...f.contentDocument.querySelectorAll('[referrerpolicy], meta[name=referrer i]')]
        .map((e) => e.outerHTML.slice(0, 120)),
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
  assert.equal(result.scripts, 0, 'script elements in the replica');
  assert.equal(result.plugins, 0, 'plugin elements in the replica');
  assert.deepEqual(result.withPrefix, [], 'elements made from prefixed names');
  // Frames: exactly the page's own <iframe>s (captured or blank), none from a prefixed name.
  const frameCount = await ctx.customer.evaluate(() => document.querySelectorAll('#vectors iframe').length);
  assert.equal(result.frames, frameCount, 'replica frames');
  assert.ok(result.prefixed.length >= 8 && result.prefixed.every((p) => p.endsWith('=HTMLUnknownElement')),
    `prefixed names are unknown elements: ${result.prefixed}`);
  assert.deepEqual(result.referrerPolicies.filter((h) => !h.includes('data-cobrowse-injected')), [],
    'referrer policies from the customer page');
  const sent = await Promise.all(referers);
  const siteRequests = sent.filter(([u]) => u.startsWith(ctx.siteUrl('/')));
  assert.ok(siteRequests.length > 0, 'the replica loaded something from the customer site');
  // The elements that asked for `unsafe-url` (and the page's <meta name=referrer>) send none.
  const probes = sent.filter(([u]) => u.includes('/referrer-probe.'));
  assert.ok(probes.length >= 2, `the probes were requested: ${JSON.stringify(sent)}`);
  assert.deepEqual(probes.filter(([, v]) => v), [], 'replica elements sent a Referer');
  // Chromium sends the origin with style-sheet image loads whatever the referrer policy says;
  // never more: no request names the agent page (its path, session number or credential).
  const named = sent.filter(([, v]) => v && !/^https?:\/\/[^/]+\/$/.test(v));
  assert.deepEqual(named, [], 'agent-side requests whose Referer names the agent page');
  const withOrigin = sent.filter(([, v]) => v).length;
  console.log(`# referrer: ${sent.length} agent-side requests (${siteRequests.length} to the customer site); ` +
    `${withOrigin} carry the agent origin (style-sheet images), none more`);
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
