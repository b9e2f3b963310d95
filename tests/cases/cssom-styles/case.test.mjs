// CSSOM fidelity: a page styled only through the CSSOM — insertRule into an empty
// <style>, a grouping rule, a constructed sheet adopted by the document and one adopted by a
// shadow root — looks the same for the agent, before and after the page changes its rules live,
// and a :hover menu opens in the replica under the customer's pointer and under the agent's own.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  AGENT, compareScreenshots, openCustomer, setupCase, startSession, joinAgent, waitForCustomerState,
  waitForReplica, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let ctx;
before(async () => {
  // The fixture is a page of the customer's site (its own origin, like the demo pages).
  ctx = await setupCase('cssom-styles', { site: { '/fixture/cssom.html': path.join(here, 'page.html') } });
});
after(async () => { await ctx?.close(); });

/** Computed style `prop` of the replica element with id `id` (inside `host`'s shadow root if given). */
function replicaStyle(id, prop, host = null) {
  return ctx.agent.evaluate(([sel, i, p, h]) => {
    const doc = document.querySelector(sel).contentDocument;
    const scope = h ? doc.getElementById(h)?.shadowRoot : doc;
    const el = scope?.getElementById(i);
    return el ? getComputedStyle(el)[p] : null;
  }, [AGENT.replica, id, prop, host]);
}

function waitReplicaStyle(id, prop, want, host = null) {
  return waitIn(ctx, ctx.agent, `replica #${id} ${prop} = ${want}`, ([sel, i, p, w, h]) => {
    const doc = document.querySelector(sel)?.contentDocument;
    const scope = h ? doc?.getElementById(h)?.shadowRoot : doc;
    const el = scope?.getElementById(i);
    return !!el && getComputedStyle(el)[p] === w;
  }, [AGENT.replica, id, prop, want, host]);
}

test('CSSOM-only styles, live CSSOM changes and :hover reach the replica', { timeout: 120_000 }, async () => {
  await openCustomer(ctx, '/fixture/cssom.html');
  const token = await startSession(ctx);
  await joinAgent(ctx, token, { via: 'hash' });
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);

  // Snapshot: rules that exist only in the CSSOM.
  await waitReplicaStyle('box', 'backgroundColor', 'rgb(0, 128, 0)');
  assert.equal(await replicaStyle('box', 'borderTopColor'), 'rgb(0, 0, 255)', '@media rule inserted by script');
  await waitReplicaStyle('constructed', 'color', 'rgb(255, 0, 0)');
  await waitReplicaStyle('inner', 'backgroundColor', 'rgb(128, 0, 128)', 'card');
  assert.equal(await replicaStyle('sub', 'display'), 'none');

  const first = await compareScreenshots(ctx, 'snapshot');
  console.log(`# snapshot: ${(first.share * 100).toFixed(3)} % of pixels differ`);
  assert.ok(first.share < 0.01, `replica differs in ${(first.share * 100).toFixed(2)} % of pixels (see ${first.diffPath})`);

  // Live: insertRule / deleteRule / replaceSync while the agent watches.
  await ctx.customer.evaluate(() => window.lateStyles());
  await waitReplicaStyle('late', 'backgroundColor', 'rgb(255, 165, 0)');
  await waitReplicaStyle('constructed', 'color', 'rgb(0, 0, 139)');
  const bodyBg = await ctx.agent.evaluate((sel) => getComputedStyle(document.querySelector(sel).contentDocument.body).backgroundColor, AGENT.replica);
  assert.equal(bodyBg, 'rgb(240, 255, 240)', 'deleteRule + insertRule at index 0 replayed in order');
  const live = await compareScreenshots(ctx, 'live');
  console.log(`# live changes: ${(live.share * 100).toFixed(3)} % of pixels differ`);
  assert.ok(live.share < 0.01, `replica differs in ${(live.share * 100).toFixed(2)} % of pixels (see ${live.diffPath})`);

  // The customer hovers the menu: its :hover rule applies in the replica.
  await ctx.customer.hover('#menu');
  await waitReplicaStyle('sub', 'display', 'block');
  const hovered = await compareScreenshots(ctx, 'customer-hover');
  console.log(`# customer hover: ${(hovered.share * 100).toFixed(3)} % of pixels differ`);
  assert.ok(hovered.share < 0.01, `hovered replica differs in ${(hovered.share * 100).toFixed(2)} % (see ${hovered.diffPath})`);
  await ctx.customer.mouse.move(600, 500);
  await waitReplicaStyle('sub', 'display', 'none');

  // The agent's own pointer over the menu opens it in the agent's view.
  const box = await ctx.agent.evaluate((sel) => {
    const frame = document.querySelector(sel);
    const f = frame.getBoundingClientRect();
    const r = frame.contentDocument.getElementById('menu').getBoundingClientRect();
    return { x: f.left + frame.clientLeft + r.left + 10, y: f.top + frame.clientTop + r.top + 5 };
  }, AGENT.replica);
  await ctx.agent.mouse.move(box.x, box.y);
  await waitReplicaStyle('sub', 'display', 'block');
});
