// Strict Content-Security-Policy: the customer's page (on the site's origin) sends exactly the
// policy README.md ("Adding it to a site") tells sites to add for the snippet, under
// `default-src 'none'` and `style-src 'self'` (no 'unsafe-inline'), and loads the client with the
// snippet's script-tag form. A session completes: the customer starts it, the agent joins by
// number, a DOM change reaches the replica. Nothing of ours is refused by the policy (every
// `securitypolicyviolation` is recorded), while a canary inline style of the page is, so the
// policy is really enforced and the recording really works.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AGENT, UI, joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitForReplica,
  waitIn,
} from '../../lib/harness.mjs';

const PAGE = '/csp/shop.html';

/** The README's policy for the snippet, with this run's server as `https://cobrowse.example.com`. */
const csp = ({ serverUrl, wsUrl }) => [
  "default-src 'none'",
  `script-src ${serverUrl} 'wasm-unsafe-eval'`,
  `connect-src ${serverUrl} ${wsUrl}`,
  "style-src 'self'",
].join('; ');

/** The script-tag form of the snippet: no inline script for the policy to allow. */
const page = ({ serverUrl }) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>A shop with a strict policy</title>
  <link rel="stylesheet" href="shop.css">
  <script async src="${serverUrl}/cobrowse/js/cobrowse.js" data-server-url="${serverUrl}"></script>
</head>
<body>
  <h1>Nordlicht, strictly</h1>
  <p id="news">Opening hours: 9 to 5</p>
  <p id="canary" style="color: rgb(255, 0, 0)">An inline style the policy refuses</p>
</body>
</html>`;

let ctx;
before(async () => {
  ctx = await setupCase('csp-strict', {
    site: {
      [PAGE]: { body: page, headers: (vars) => ({ 'content-security-policy': csp(vars) }) },
      '/csp/shop.css': Buffer.from('body { font: 16px/1.4 sans-serif; margin: 24px; } h1 { color: rgb(20, 60, 110); }'),
    },
  });
});
after(async () => { await ctx?.close(); });

test('a session completes on a page with the documented strict CSP', { timeout: 120_000 }, async () => {
  // Recorded from the first byte of every document (an init script is not subject to the page's
  // policy); the target is retargeted to our UI's host for violations inside its shadow root.
  await ctx.customer.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push({
        directive: e.violatedDirective, blocked: e.blockedURI, target: e.target?.id || e.target?.nodeName || '',
      });
    });
  });
  const document = ctx.customer.waitForResponse((r) => r.url() === ctx.siteUrl(PAGE));
  await openCustomer(ctx, PAGE);
  const serverUrl = ctx.server.url;
  assert.equal((await document).headers()['content-security-policy'],
    csp({ serverUrl, wsUrl: serverUrl.replace(/^http/, 'ws') }));
  assert.ok(!ctx.site.hits.some((h) => h.startsWith('/cobrowse/')), `the site was asked for co-browse files: ${ctx.site.hits}`);

  // The policy is enforced: the canary's inline style is refused, and that refusal is recorded.
  const canary = await ctx.customer.evaluate(() => getComputedStyle(document.getElementById('canary')).color);
  assert.notEqual(canary, 'rgb(255, 0, 0)', 'the inline style attribute was refused');
  await waitIn(ctx, ctx.customer, 'the canary refusal is recorded', () =>
    window.__violations.some((v) => v.target === 'canary'));

  // Our UI is styled (its sheet applied, not refused).
  const launch = await ctx.customer.locator(UI.start).first().evaluate((b) => {
    const s = getComputedStyle(b);
    return { position: s.position, right: s.right, bottom: s.bottom };
  });
  assert.deepEqual(launch, { position: 'fixed', right: '16px', bottom: '16px' });

  const token = await startSession(ctx);
  await joinAgent(ctx, token, { via: 'input' });
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);

  await ctx.customer.evaluate(() => { document.getElementById('news').textContent = 'Closed on Sunday'; });
  await waitIn(ctx, ctx.agent, 'the DOM change in the replica', (sel) =>
    document.querySelector(sel)?.contentDocument?.getElementById('news')?.textContent === 'Closed on Sunday', AGENT.replica);
  await waitForReplica(ctx);

  const ours = await ctx.customer.evaluate(() => window.__violations.filter((v) => v.target !== 'canary'));
  assert.deepEqual(ours, [], 'the policy refused something of the co-browse client');
});
