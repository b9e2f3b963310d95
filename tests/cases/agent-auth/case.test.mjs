// Who may watch, in a real browser. With every default the server generates an agent token and
// logs the agent page URL that carries it in the fragment; a stranger who opens the agent page
// with only the session number is refused (shown, not retried), the agent with the logged URL
// joins, the credential leaves the address bar at once and survives a reload in sessionStorage,
// and the page's CSP lets it open sockets to its own origin only. A server configured for JWTs
// from an agent desktop lets an agent in with a signed token (its `sub` is the identity the
// server records) and refuses an expired one.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  AGENT, agentUrl, openCustomer, setupCase, startSession, waitForAgentState, waitForCustomerState,
  waitForReplica, waitIn,
} from '../../lib/harness.mjs';

/** An HS256 JWT, signed like an agent desktop would. */
function jwt(payload, secret) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const signed = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${signed}.${crypto.createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

/** Waits until the agent page shows a final refusal with `data-error="unauthorized"`. */
async function refused(ctx, page) {
  await waitForAgentState(ctx, 'ended', page);
  await waitIn(ctx, page, 'the refusal is shown as unauthorized', (sel) =>
    document.querySelector(sel)?.dataset.error === 'unauthorized', AGENT.status);
}

let ctx;
before(async () => { ctx = await setupCase('agent-auth'); });
after(async () => { await ctx?.close(); });

test('with the defaults only the generated credential lets an agent watch', { timeout: 120_000 }, async () => {
  // The operator's URL, from the server's log: the token in the fragment, never the query.
  const logged = ctx.server.log().match(/http:\/\/\S+\/cobrowse\/slave\.html\S*/)?.[0];
  assert.ok(logged, `no agent page URL in the log:\n${ctx.server.log()}`);
  const url = new URL(logged);
  assert.equal(url.search, '', 'no credential in the query');
  assert.equal(url.hash, `#auth=${ctx.agentToken}`);
  assert.match(ctx.agentToken, /^[0-9a-f]{64}$/);

  await openCustomer(ctx);
  const token = await startSession(ctx);

  // A stranger with the number only: the lookup is refused, shown, and not tried again.
  const stranger = await ctx.browser.newPage('stranger');
  const lookups = [];
  stranger.on('request', (r) => { if (r.url().includes('/rest/live/sessions/')) lookups.push(r.url()); });
  await stranger.goto(agentUrl(ctx, `sid=${token}`, { auth: null }));
  await refused(ctx, stranger);
  assert.equal(lookups.length, 1, `a refusal is final: ${lookups}`);
  // A made-up credential fares no better (a new query string: a real load, not a hash change).
  await stranger.goto(ctx.url(`/cobrowse/slave.html?n=2#sid=${token}&auth=${'f'.repeat(64)}`));
  await refused(ctx, stranger);
  assert.equal(await ctx.customer.evaluate(() => window.Cobrowse.state()), 'idle', 'nobody joined');

  // The agent with the logged URL (plus the number) joins; the lookup carried the credential.
  const authorizations = [];
  ctx.agent.on('request', (r) => {
    if (r.url().includes('/rest/live/sessions/')) authorizations.push(r.headers().authorization);
  });
  await ctx.agent.goto(`${logged}&sid=${token}`);
  await waitForAgentState(ctx, 'active');
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);
  assert.deepEqual(authorizations, [`Bearer ${ctx.agentToken}`]);

  // The credential left the address bar at once (not in history or the URL anyone sees) and is
  // kept for this tab only.
  const where = await ctx.agent.evaluate(() => ({
    href: location.href,
    stored: sessionStorage.getItem('cobrowse-agent-auth'),
  }));
  assert.ok(!where.href.includes(ctx.agentToken), where.href);
  assert.ok(where.href.endsWith(`#sid=${token}`), where.href);
  assert.equal(where.stored, ctx.agentToken);

  // A reload (the fragment now holds only the number) rejoins with the kept credential.
  await ctx.agent.reload();
  await waitForAgentState(ctx, 'active');
  assert.equal(authorizations.length, 2);
  assert.equal(authorizations[1], `Bearer ${ctx.agentToken}`);

  // The page opens sockets to its own origin and no other host (CSP connect-src).
  const site = new URL(ctx.siteUrl('/')).host;
  const violation = await ctx.agent.evaluate((host) => new Promise((resolve) => {
    document.addEventListener('securitypolicyviolation', (e) => resolve(`${e.violatedDirective} ${e.blockedURI}`), { once: true });
    try {
      // Not refused by the policy: the socket fails or opens, and says so after any violation.
      const ws = new WebSocket(`ws://${host}/x`);
      ws.onopen = () => resolve('opened');
      ws.onclose = () => setTimeout(() => resolve('closed without a violation'), 0);
    } catch {
      // Chromium refuses a blocked URL in the constructor; the violation event follows.
    }
  }), site);
  assert.match(violation, /connect-src/, violation);
  await stranger.context().close();
});

test('an agent desktop\'s JWT lets its agent in under its own identity', { timeout: 120_000 }, async () => {
  const secret = 'the-agent-desktop-secret-0123456789abcdef';
  const issuer = 'https://desk.example';
  const jwtCtx = await setupCase('agent-auth-jwt', {
    serverEnv: { COBROWSE_AUTH_JWT_SECRET: secret, COBROWSE_AUTH_JWT_ISSUER: issuer },
  });
  try {
    assert.equal(jwtCtx.agentToken, null, 'a configured credential: nothing is generated');
    const now = Math.floor(Date.now() / 1000);
    await openCustomer(jwtCtx);
    const token = await startSession(jwtCtx);

    const expired = jwt({ sub: 'jane@desk', iss: issuer, exp: now - 3600 }, secret);
    await jwtCtx.agent.goto(agentUrl(jwtCtx, `sid=${token}`, { auth: expired }));
    await refused(jwtCtx, jwtCtx.agent);

    // The page declares another identity; the token's `sub` is the one that counts.
    const good = jwt({ sub: 'jane@desk', iss: issuer, exp: now + 600 }, secret);
    await jwtCtx.agent.goto(jwtCtx.url(`/cobrowse/slave.html?agentId=declared-by-the-page#sid=${token}&auth=${good}`));
    await waitForAgentState(jwtCtx, 'active', jwtCtx.agent);
    await waitForCustomerState(jwtCtx, 'active');
    await waitForReplica(jwtCtx);

    // The server recorded the desktop's identity, not the one the page declared.
    const headers = { authorization: `Bearer ${good}` };
    const live = await (await fetch(jwtCtx.url(`/cobrowse/rest/live/sessions/${token}`), { headers })).json();
    const history = await (await fetch(jwtCtx.url(`/cobrowse/rest/history/sessions/${live.historyId}`), { headers })).json();
    assert.equal(history.agentId, 'jane@desk');
  } finally {
    await jwtCtx.close();
  }
});
