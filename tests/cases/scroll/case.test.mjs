// Scroll: the window's scroll position and a scrolled element's position follow the customer, and
// after a page load the replica starts at the top like the customer's new page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { activeSession, setupCase, waitForCustomerState, waitForReplica, waitIn } from '../../lib/harness.mjs';

let ctx;
before(async () => { ctx = await setupCase('scroll'); });
after(async () => { await ctx?.close(); });

const replicaScroll = () => {
  const frame = document.getElementById('cobrowse-replica');
  const win = frame.contentWindow;
  const box = frame.contentDocument.getElementById('scroll-box');
  return { y: win.scrollY, box: box ? box.scrollTop : null };
};

test('window and element scroll positions follow', { timeout: 120_000 }, async () => {
  await activeSession(ctx, '/demo/long.html');
  const c = ctx.customer;

  // A real wheel gesture over the page body, then read where the customer ended up.
  await c.mouse.move(400, 500);
  await c.mouse.wheel(0, 1500);
  await waitIn(ctx, c, 'the customer to scroll', () => window.scrollY > 0);
  await waitIn(ctx, c, 'the customer scroll to settle', () => new Promise((resolve) => {
    const y = window.scrollY;
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(window.scrollY === y)));
  }));
  const y = await c.evaluate(() => window.scrollY);
  await waitIn(ctx, ctx.agent, `replica window scrollY === ${y}`,
    (want) => document.getElementById('cobrowse-replica').contentWindow.scrollY === want, y);

  await c.evaluate(() => window.scrollTo(0, 3000));
  await waitIn(ctx, ctx.agent, 'replica window scrollY === 3000',
    () => document.getElementById('cobrowse-replica').contentWindow.scrollY === 3000);

  await c.evaluate(() => { window.scrollTo(0, 0); document.getElementById('scroll-box').scrollTop = 300; });
  await waitIn(ctx, ctx.agent, 'replica #scroll-box scrollTop === 300 and window at top',
    () => {
      const frame = document.getElementById('cobrowse-replica');
      return frame.contentWindow.scrollY === 0 && frame.contentDocument.getElementById('scroll-box')?.scrollTop === 300;
    });
  const seen = await ctx.agent.evaluate(replicaScroll);
  assert.deepEqual(seen, { y: 0, box: 300 });

  // A page load: the new page opens at its top, so the replica must too (a snapshot lists only
  // non-zero positions; the replica's window once kept the last page's offset).
  await c.evaluate(() => window.scrollTo(0, 3000));
  await waitIn(ctx, ctx.agent, 'replica window scrollY === 3000 before the page load',
    () => document.getElementById('cobrowse-replica').contentWindow.scrollY === 3000);
  await c.goto(ctx.siteUrl('/demo/long.html?page=2'));
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);
  assert.equal(await c.evaluate(() => window.scrollY), 0, 'the customer\'s new page is at its top');
  assert.deepEqual(await ctx.agent.evaluate(replicaScroll), { y: 0, box: 0 }, 'the replica of the new page is at its top');
});
