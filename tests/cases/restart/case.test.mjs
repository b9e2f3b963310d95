// Restart: the server (embedded storage) is killed with SIGKILL and started again over the same
// port and data directory while a customer and an agent are connected. Both pages say that they
// are reconnecting, come back to the same session (the server re-adopted it from its store), and
// the replica follows the customer's page again; the session does not end.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  activeSession, customerState, setupCase, waitForCustomerState, waitForReplica, waitIn,
} from '../../lib/harness.mjs';

let ctx;
before(async () => {
  // A short ping period so the pages notice the dead socket quickly (a SIGKILL resets it anyway).
  ctx = await setupCase('restart', { serverEnv: { COBROWSE_LIMITS_PING_INTERVAL: '500ms' } });
});
after(async () => { await ctx?.close(); });

/** Records when `selector`'s data attributes say "reconnecting", and when they stop saying it. */
const watchConnection = (page, selector) => page.evaluate((selector) => {
  window.__connection = [];
  const el = document.querySelector(selector);
  let was = false;
  new MutationObserver(() => {
    const now = Object.values(el.dataset).includes('reconnecting');
    if (now !== was) window.__connection.push(now ? 'reconnecting' : 'back');
    was = now;
  }).observe(el, { attributes: true });
}, selector);

test('a killed and restarted server keeps the session', { timeout: 120_000 }, async () => {
  const token = await activeSession(ctx, '/demo/?still=1');
  await watchConnection(ctx.customer, '[data-cobrowse-ui]');
  await watchConnection(ctx.agent, 'html');

  await ctx.server.kill();
  for (const [name, page] of [['customer', ctx.customer], ['agent', ctx.agent]]) {
    await waitIn(ctx, page, `the ${name} page to say it is reconnecting`,
      () => window.__connection.includes('reconnecting'));
  }
  await ctx.server.restart();
  for (const [name, page] of [['customer', ctx.customer], ['agent', ctx.agent]]) {
    await waitIn(ctx, page, `the ${name} page to be back`,
      () => window.__connection.at(-1) === 'back', undefined, 30_000);
  }
  await waitForCustomerState(ctx, 'active');

  // The same session goes on: a change on the page reaches the replica.
  await ctx.customer.evaluate(() => {
    document.querySelector('h1').firstChild.data = 'Changed after the restart';
  });
  await waitForReplica(ctx);
  const replicaTitle = await ctx.agent.evaluate(() =>
    document.getElementById('cobrowse-replica').contentDocument.querySelector('h1').textContent);
  assert.match(replicaTitle, /Changed after the restart/);
  // Neither page ended its session, and the number is still live on the server.
  assert.equal(await customerState(ctx.customer), 'active');
  assert.equal(await ctx.agent.evaluate(() => document.documentElement.dataset.cobrowseState), 'active');
  const live = await fetch(ctx.url(`/cobrowse/rest/live/sessions/${token}`),
    { headers: { Authorization: `Bearer ${ctx.agentToken}` } });
  assert.equal(live.status, 200);
  assert.equal((await live.json()).state, 'active');
});
