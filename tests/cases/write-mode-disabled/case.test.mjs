// `session.writeModeAllowed=false`: the agent page has no request button at all (the contract says
// absent, not just hidden) and no write-mode controls are shown.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { activeSession, setupCase } from '../../lib/harness.mjs';

let ctx;
before(async () => {
  ctx = await setupCase('write-mode-disabled', { serverEnv: { COBROWSE_SESSION_WRITE_MODE_ALLOWED: 'false' } });
});
after(async () => { await ctx?.close(); });

test('no request button, no write controls', { timeout: 120_000 }, async () => {
  await activeSession(ctx, '/demo/form.html');
  assert.equal(await ctx.agent.locator('#cobrowse-request-control').count(), 0, 'request button absent');
  assert.equal(await ctx.agent.locator('#cobrowse-nav').isHidden(), true);
  assert.equal(await ctx.agent.locator('#cobrowse-release-control').isHidden(), true);
  assert.equal(await ctx.agent.evaluate(() => document.documentElement.dataset.cobrowseMode), 'pointer');
});
