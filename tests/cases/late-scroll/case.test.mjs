// Late content (replica gap): the customer's scroll box is scrolled into an image that
// the agent's browser loads later than the scroll arrives. The replica cannot reach the position
// at first (the box is still short) and must get there once the image has loaded, without a new
// scroll from the customer. The image request on the agent's side is held back by a route until
// the replica has applied the scroll, so the order is certain.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import {
  joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

let ctx;
before(async () => {
  // A 320×1200 picture with horizontal bands, so a wrong scroll position shows.
  const png = new PNG({ width: 320, height: 1200 });
  for (let y = 0; y < 1200; y++) {
    for (let x = 0; x < 320; x++) {
      const i = (y * 320 + x) * 4;
      const band = Math.floor(y / 100);
      png.data[i] = (band * 40) % 256; png.data[i + 1] = 120; png.data[i + 2] = 255 - band * 20; png.data[i + 3] = 255;
    }
  }
  ctx = await setupCase('late-scroll', {
    site: { '/fixture/late-scroll.html': path.join(here, 'page.html'), '/fixture/tall.png': PNG.sync.write(png) },
  });
});
after(async () => { await ctx?.close(); });

test('an element scroll the replica cannot reach yet is retried when its content loads', { timeout: 90_000 }, async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  await ctx.agent.route('**/fixture/tall.png', async (route) => { await gate; await route.continue(); });

  await openCustomer(ctx, '/fixture/late-scroll.html');
  await ctx.customer.evaluate(() => document.querySelector('#box img').decode());
  await ctx.customer.locator('#box').evaluate((b) => { b.scrollTop = 640; });
  assert.equal(await ctx.customer.locator('#box').evaluate((b) => b.scrollTop), 640);
  const token = await startSession(ctx);
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');

  // (Functions, not strings: the agent page's CSP forbids evaluating strings.)
  await waitIn(ctx, ctx.agent, 'the replica box, image not loaded yet', () => {
    const img = document.getElementById('cobrowse-replica').contentDocument?.querySelector('#box img');
    return img && !img.complete;
  });
  const early = await ctx.agent.evaluate(() =>
    document.getElementById('cobrowse-replica').contentDocument.getElementById('box').scrollTop);
  assert.equal(early, 0, 'while the image is held back the box cannot scroll (the case\'s precondition)');

  release();
  await waitIn(ctx, ctx.agent, 'the replica box at the customer\'s position once the image loaded', () => {
    const b = document.getElementById('cobrowse-replica').contentDocument?.getElementById('box');
    return b?.querySelector('img').complete && b.scrollTop === 640;
  });
});
