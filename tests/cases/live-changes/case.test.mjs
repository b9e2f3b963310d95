// Live changes: text, attributes, classes and SVG attributes changed on the customer's page reach
// the replica; so do the home page's own timer-driven changes.
import { after, before, test } from 'node:test';
import {
  activeSession, compareScreenshots, setupCase, waitForReplica, waitIn,
} from '../../lib/harness.mjs';
import assert from 'node:assert/strict';

let ctx;
before(async () => { ctx = await setupCase('live-changes'); });
after(async () => { await ctx?.close(); });

test('text and attribute changes follow', { timeout: 120_000 }, async () => {
  await activeSession(ctx, '/demo/?still=1');
  const c = ctx.customer;

  // Through the page's own UI: reorder, text + data attribute.
  await c.locator('#shuffle').click();
  await c.locator('.product .add').first().click();
  await c.locator('.product .add').nth(2).click();
  await waitForReplica(ctx);

  // Directly: a text node's data (characterData), attribute set / change / removal, class, style.
  await c.evaluate(() => {
    const h1 = document.querySelector('h1');
    h1.firstChild.data = 'Gear for short days too';
    h1.setAttribute('title', 'changed');
    const lead = document.querySelector('main > p.lead');
    lead.setAttribute('data-note', 'x');
    lead.removeAttribute('class');
    document.getElementById('products').classList.add('sale');
    document.querySelector('.product h2').style.color = 'rgb(140, 47, 57)';
  });
  await waitForReplica(ctx);
  await c.evaluate(() => document.querySelector('main > p[data-note]').removeAttribute('data-note'));
  await waitForReplica(ctx);
  const shot = await compareScreenshots(ctx, 'after-changes');
  assert.ok(shot.share < 0.01, `pixels differ: ${(shot.share * 100).toFixed(2)} % (see ${shot.diffPath})`);
});

test('the shop page\'s own timer changes follow', { timeout: 120_000 }, async () => {
  // Navigate the customer to the live home page (the session follows page loads).
  await ctx.customer.goto(ctx.siteUrl('/demo/'));
  await waitIn(ctx, ctx.customer, 'the timer to feature a product',
    () => document.querySelector('.product.featured .badge') !== null, undefined, 15_000);
  await waitForReplica(ctx);
});

test('SVG attribute changes and inserted SVG elements follow', { timeout: 120_000 }, async () => {
  await ctx.customer.goto(ctx.siteUrl('/demo/svg.html'));
  await waitForReplica(ctx);
  await ctx.customer.locator('#recolour').click();
  await ctx.customer.locator('#add-hut').click();
  await ctx.customer.locator('#add-hut').click();
  await waitForReplica(ctx);
  const huts = await ctx.agent.evaluate(() => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    return [...doc.querySelectorAll('#huts rect')].map((r) => r.namespaceURI);
  });
  assert.equal(huts.length, 4);
  assert.ok(huts.every((ns) => ns === 'http://www.w3.org/2000/svg'), `namespaces: ${huts}`);
});
