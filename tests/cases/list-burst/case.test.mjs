// A list changed at speed: 1,000 adds/removes/moves/relabels/class toggles in one task, then
// 10 × 1,000 in ten tasks (ten MutationObserver callbacks). The replica ends up identical.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { activeSession, setupCase, waitForReplica, waitIn } from '../../lib/harness.mjs';

let ctx;
before(async () => { ctx = await setupCase('list-burst'); });
after(async () => { await ctx?.close(); });

async function burst(buttonId, expectDone) {
  const started = Date.now();
  await ctx.customer.locator(`#${buttonId}`).click();
  await waitIn(ctx, ctx.customer, `burst ${expectDone} done`,
    (n) => document.getElementById('burst-status').getAttribute('data-done') === String(n), expectDone);
  await waitForReplica(ctx, { timeout: 60_000 });
  return Date.now() - started;
}

test('1,000 mutations in one burst, then 10 × 1,000', { timeout: 180_000 }, async () => {
  await activeSession(ctx, '/demo/burst.html');
  const one = await burst('burst-1000', 1);
  console.log(`# 1,000 mutations: replica identical ${one} ms after the click (includes comparison polling)`);
  const ten = await burst('burst-10x1000', 2);
  console.log(`# 10 × 1,000 mutations: replica identical ${ten} ms after the click`);
  const items = await ctx.agent.evaluate(
    () => document.getElementById('cobrowse-replica').contentDocument.querySelectorAll('#burst-list li').length);
  assert.ok(items >= 50 && items <= 500, `replica list has ${items} items`);
});
