// Join by link: the agent opens `slave.html#sid=<number>` (how agent desktops embed it) and sees the
// page with inline SVG, in the SVG namespace, pixel for pixel.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  compareScreenshots, joinAgent, openCustomer, setupCase, startSession, waitForCustomerState,
  waitForReplica,
} from '../../lib/harness.mjs';

let ctx;
before(async () => { ctx = await setupCase('join-by-sid'); });
after(async () => { await ctx?.close(); });

test('an agent joins with #sid= in the URL and sees the SVG page', { timeout: 120_000 }, async () => {
  await openCustomer(ctx, '/demo/svg.html');
  const token = await startSession(ctx);
  await joinAgent(ctx, token, { via: 'hash' });
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);

  const ns = await ctx.agent.evaluate(() => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    const circle = doc.getElementById('summit');
    return circle ? circle.namespaceURI : null;
  });
  assert.equal(ns, 'http://www.w3.org/2000/svg', 'SVG elements are rebuilt in the SVG namespace');

  const shot = await compareScreenshots(ctx, 'svg');
  console.log(`# screenshot difference: ${(shot.share * 100).toFixed(3)} % of ${shot.width}×${shot.height} px`);
  assert.ok(shot.share < 0.01, `replica differs in ${(shot.share * 100).toFixed(2)} % of pixels (see ${shot.diffPath})`);
});
