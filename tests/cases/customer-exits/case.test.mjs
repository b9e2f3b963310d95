// The customer ends the session: the agent is told, the server ends it, the number is dead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  UI, activeSession, setupCase, waitForAgentState, waitForCustomerState, waitForSessionInfo,
} from '../../lib/harness.mjs';

let ctx;
before(async () => { ctx = await setupCase('customer-exits'); });
after(async () => { await ctx?.close(); });

test('customer exit ends the session on both sides', { timeout: 120_000 }, async () => {
  const token = await activeSession(ctx, '/demo/?still=1');
  await ctx.customer.locator(UI.exit).first().click();
  await waitForCustomerState(ctx, 'ended');
  await waitForAgentState(ctx, 'ended');
  const info = await waitForSessionInfo(ctx, token, 'ended or gone',
    (r) => r.status === 404 || r.status === 410 || r.body?.state === 'ended');
  assert.ok(info.status !== 200 || info.body.state === 'ended');
  const status = await ctx.agent.locator('#cobrowse-status').textContent();
  assert.ok(status.trim().length > 0, 'the agent page says why it ended');
});
