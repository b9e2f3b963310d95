// Late join: the customer's page changes 10,000 times before any agent joins; the agent that joins
// then gets the current page at once (snapshot + log from the server's cache), then live changes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  joinAgent, openCustomer, sessionInfo, setupCase, startSession, waitForCustomerState,
  waitForReplica,
} from '../../lib/harness.mjs';

let ctx;
before(async () => { ctx = await setupCase('late-join'); });
after(async () => { await ctx?.close(); });

test('an agent joining after 10,000 mutations sees the current page', { timeout: 180_000 }, async () => {
  await openCustomer(ctx, '/demo/burst.html');
  const token = await startSession(ctx);
  for (let i = 0; i < 10; i++) {
    await ctx.customer.evaluate(() => window.demoBurst(1000, 1));
  }
  const before = await sessionInfo(ctx, token);
  assert.equal(before.body?.state, 'idle', 'no agent has joined yet');

  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx, { timeout: 60_000 });

  await ctx.customer.evaluate(() => window.demoBurst(1000, 3));
  await waitForReplica(ctx, { timeout: 60_000 });
});
