// The agent ends the session: the customer is told and their UI goes back to rest; the server ends it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AGENT, activeSession, setupCase, waitForAgentState, waitForCustomerState, waitForSessionInfo,
} from '../../lib/harness.mjs';

let ctx;
before(async () => { ctx = await setupCase('agent-exits'); });
after(async () => { await ctx?.close(); });

test('agent exit ends the session on both sides', { timeout: 120_000 }, async () => {
  const token = await activeSession(ctx, '/demo/form.html');
  await ctx.agent.locator(AGENT.exit).click();
  await waitForAgentState(ctx, 'ended');
  await waitForCustomerState(ctx, 'ended');
  const info = await waitForSessionInfo(ctx, token, 'ended or gone',
    (r) => r.status === 404 || r.status === 410 || r.body?.state === 'ended');
  assert.ok(info.status !== 200 || info.body.state === 'ended');
});
