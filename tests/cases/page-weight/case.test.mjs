// What a page view costs a site, and when the client comes: a page of the demo shop without a
// session loads only the loader from the co-browse server (brotli, under the 10 KB budget,
// short-lived with an ETag), asks for no client file and observes nothing; the button press loads
// the client (content-hashed names, brotli, immutable) and starts a session; after the customer
// moves to another page of the site the session resumes there, which loads the client at once,
// and the agent sees the new page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  UI, joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitForReplica, waitIn,
} from '../../lib/harness.mjs';

/** Budget of the loader over the wire (compressed body), from the product's promise. */
const LOADER_BUDGET = 10 * 1024;

let ctx;
/** Every answer the customer's browser got from the co-browse server: url, status, headers, bytes. */
const answers = [];
before(async () => {
  ctx = await setupCase('page-weight');
  // Count observers the page starts, before any script of the page runs.
  await ctx.customer.addInitScript(() => {
    window.__observing = 0;
    const observe = MutationObserver.prototype.observe;
    MutationObserver.prototype.observe = function (...args) {
      window.__observing += 1;
      return observe.apply(this, args);
    };
  });
  ctx.customer.on('requestfinished', async (req) => {
    if (!req.url().startsWith(ctx.url('/'))) return;
    const res = await req.response();
    const sizes = await req.sizes();
    answers.push({
      url: req.url(),
      path: new URL(req.url()).pathname,
      status: res?.status(),
      headers: (await res?.allHeaders()) ?? {},
      body: sizes.responseBodySize,
      wire: sizes.responseBodySize + sizes.responseHeadersSize,
    });
  });
});
after(async () => {
  await ctx?.close();
});

const clientAnswers = () => answers.filter((a) => a.path.includes('/cobrowse/js/client/'));
const settled = () => ctx.customer.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));

test('a page view: the loader only, compressed and cacheable, no client, no observer', { timeout: 60_000 }, async () => {
  await openCustomer(ctx, '/demo/?still=1');
  await ctx.customer.evaluate(() => window.Cobrowse.ready);
  await settled();
  const loader = answers.find((a) => a.path === '/cobrowse/js/cobrowse.js');
  assert.ok(loader, `the loader was fetched: ${answers.map((a) => a.path).join(', ')}`);
  assert.equal(loader.headers['content-encoding'], 'br');
  assert.ok(loader.headers.vary?.toLowerCase().includes('accept-encoding'), loader.headers.vary);
  assert.equal(loader.headers['cache-control'], 'public, max-age=300');
  assert.ok(loader.headers.etag, 'the loader revalidates by ETag');
  assert.ok(loader.body <= LOADER_BUDGET, `loader ${loader.body} B over the wire, budget ${LOADER_BUDGET}`);
  assert.deepEqual(clientAnswers().map((a) => a.path), [], 'no client file on a page view without a session');
  assert.equal(await ctx.customer.evaluate(() => window.__observing), 0, 'no MutationObserver observes the page');
  assert.equal(await ctx.customer.evaluate(() => window.Cobrowse.state()), 'idle');
  const total = answers.reduce((n, a) => n + a.wire, 0);
  console.log(`# page view without a session: ${answers.length} request(s) to the co-browse server, ${total} B over the wire (loader body ${loader.body} B, brotli)`);
});

test('the press loads the client (hashed, brotli, immutable); a session resumes on the next page', { timeout: 120_000 }, async () => {
  const token = await startSession(ctx);
  const wasm = clientAnswers().find((a) => a.path.endsWith('.wasm'));
  const glue = clientAnswers().find((a) => a.path.endsWith('.js'));
  assert.ok(wasm && glue, `the client came after the press: ${clientAnswers().map((a) => a.path).join(', ')}`);
  for (const a of [wasm, glue]) {
    assert.match(a.path, /\/cobrowse_client(_bg)?\.[0-9a-f]{16}\.(js|wasm)$/);
    assert.equal(a.headers['content-encoding'], 'br', a.path);
    assert.equal(a.headers['cache-control'], 'public, max-age=31536000, immutable', a.path);
    assert.equal(a.headers['access-control-allow-origin'], ctx.site.origin, a.path);
  }
  assert.ok(await ctx.customer.evaluate(() => window.__observing) > 0, 'capture observes once a session runs');
  console.log(`# client over the wire: glue ${glue.body} B, wasm ${wasm.body} B (brotli)`);

  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);

  // Another page of the site: no button press, the kept session loads the client at once.
  await ctx.customer.goto(ctx.siteUrl('/demo/form.html'));
  await waitForCustomerState(ctx, 'active');
  const resumed = await ctx.customer.evaluate(() => performance.getEntriesByType('resource')
    .map((e) => e.name).filter((n) => n.includes('/cobrowse/js/client/')));
  assert.ok(resumed.some((n) => n.endsWith('.wasm')), `the resumed page loaded the client: ${resumed.join(', ')}`);
  assert.equal(await ctx.customer.locator(UI.token).first().textContent().then((t) => t.replace(/\D/g, '')), token);
  await waitIn(ctx, ctx.agent, 'the replica shows the form page', () =>
    !!document.getElementById('cobrowse-replica').contentDocument.getElementById('checkout'));
  await waitForReplica(ctx);
});
