// Live changes: text, attributes, classes and SVG attributes changed on the customer's page reach
// the replica; so do the home page's own timer-driven changes. The agent page reports how long
// those changes took to paint, and the server's render-latency histogram counts them.
import { after, before, test } from 'node:test';
import {
  activeSession, compareScreenshots, setupCase, waitForReplica, waitIn, WAIT_MS,
} from '../../lib/harness.mjs';
import { freePort } from '../../lib/server.mjs';
import assert from 'node:assert/strict';

let ctx;
let metricsUrl;
before(async () => {
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  ctx = await setupCase('live-changes', { serverEnv: { COBROWSE_METRICS_LISTEN: `127.0.0.1:${port}` } });
});
after(async () => { await ctx?.close(); });

const RENDERED = 'cobrowse_agent_render_latency_seconds_count';

/**
 * A series' value (its name with any labels, as exposed) on the server's internal metrics listener (0 while it is absent: a
 * histogram appears with its first sample).
 */
async function metric(series) {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/**
 * Polls /metrics until `series` is above `floor` (the agent's report goes up to a second after
 * the paint, and the server is another process: there is no browser event to wait on).
 */
async function metricAbove(series, floor) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await metric(series);
    if (v > floor) return v;
    if (Date.now() > deadline) throw ctx.fail(`${series} stayed at ${v} (expected above ${floor})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('text and attribute changes follow', { timeout: 120_000 }, async () => {
  await activeSession(ctx, '/demo/?still=1');
  const c = ctx.customer;
  // Both pages' sockets compress: Chromium offered permessage-deflate and the server answered,
  // so everything below crosses the wire compressed.
  const deflated = await metric('cobrowse_websocket_upgrades_total{compression="deflate"}');
  assert.ok(deflated >= 2, `${deflated} compressed sockets (customer and agent expected)`);
  // The first page's paint is reported.
  const rendered = await metricAbove(RENDERED, 0);

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
  // The changes' paints are reported too.
  await metricAbove(RENDERED, rendered);
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
