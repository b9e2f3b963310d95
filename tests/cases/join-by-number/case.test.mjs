// Join by number: the customer clicks the button and reads the 9-digit number; the agent types it
// into the agent page. Both sides see the session become active, the server agrees over REST, and
// the agent sees the customer's page (DOM and pixels).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  compareScreenshots, joinAgent, openCustomer, sessionInfo, setupCase, startSession,
  waitForCustomerState, waitForReplica, waitForSessionInfo,
} from '../../lib/harness.mjs';

let ctx;
before(async () => { ctx = await setupCase('join-by-number'); });
after(async () => { await ctx?.close(); });

test('an agent joins by typing the number the customer reads out', { timeout: 120_000 }, async () => {
  await openCustomer(ctx, '/demo/?still=1');
  const token = await startSession(ctx);
  assert.match(token, /^[1-9]\d{8}$/, 'the session number is 9 digits');

  const idle = await sessionInfo(ctx, token);
  assert.equal(idle.status, 200, `GET session: ${JSON.stringify(idle.body)}`);
  assert.equal(idle.body.state, 'idle');
  assert.equal(idle.body.token, token);

  await joinAgent(ctx, token, { via: 'input' });
  await waitForCustomerState(ctx, 'active');
  const active = await waitForSessionInfo(ctx, token, 'state active', (r) => r.body?.state === 'active');
  assert.equal(active.status, 200);

  await waitForReplica(ctx);
  const shot = await compareScreenshots(ctx, 'home');
  console.log(`# screenshot difference: ${(shot.share * 100).toFixed(3)} % of ${shot.width}×${shot.height} px`);
  assert.ok(shot.share < 0.01, `replica differs from the customer's page in ${(shot.share * 100).toFixed(2)} % of pixels (see ${shot.diffPath})`);
});
