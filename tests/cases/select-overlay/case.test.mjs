// Native <select> popups: the browser draws a select's open popup outside the page (it is not in
// the DOM), so the replica cannot show it. When the customer opens one, the agent page lays its
// own list (#cobrowse-select-popup) over the replica's select, with the replica's options and the
// highlighted one, and removes it when the customer's popup closes (Escape, a choice, a press
// elsewhere). A masked select's list shows the replica's placeholder texts and no highlight.
// Headless Chromium does open the popup (`select:matches(':open')` says so), but a screenshot
// cannot show it, so the case asserts the customer's events and state and the agent's overlay DOM.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  AGENT, joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const POPUP = '#cobrowse-select-popup';

let ctx;
before(async () => {
  ctx = await setupCase('select-overlay', { site: { '/fixture/select.html': path.join(here, 'page.html') } });
  await openCustomer(ctx, '/fixture/select.html');
  const token = await startSession(ctx);
  await joinAgent(ctx, token, { via: 'hash' });
  await waitForCustomerState(ctx, 'active');
  // (Not the whole-DOM comparison: the masked select's texts differ on purpose.)
  await waitIn(ctx, ctx.agent, 'both selects in the replica', (sel) => {
    const doc = document.querySelector(sel)?.contentDocument;
    return !!doc?.getElementById('size') && !!doc.getElementById('card');
  }, AGENT.replica);
  await seen();
});
after(async () => { await ctx?.close(); });

/** The agent's overlay as plain data (`null` while hidden or absent). */
const overlay = () => ctx.agent.evaluate((sel) => {
  const el = document.querySelector(sel);
  if (!el || el.hidden) return null;
  const options = [...el.querySelectorAll('[role=option]')];
  return {
    role: el.getAttribute('role'),
    node: el.dataset.node,
    texts: options.map((o) => o.textContent),
    highlighted: options.filter((o) => o.getAttribute('aria-selected') === 'true').map((o) => Number(o.dataset.index)),
    disabled: options.filter((o) => o.getAttribute('aria-disabled') === 'true').map((o) => Number(o.dataset.index)),
    box: el.getBoundingClientRect().toJSON(),
  };
}, POPUP);

const shown = (what) => waitIn(ctx, ctx.agent, what, (sel) => {
  const el = document.querySelector(sel);
  return !!el && !el.hidden && el.querySelectorAll('[role=option]').length > 0;
}, POPUP);
const closed = (what) => waitIn(ctx, ctx.agent, what, (sel) => {
  const el = document.querySelector(sel);
  return !el || el.hidden;
}, POPUP);
/** The customer's select `id` has its popup open (or not): the browser's own word. */
const customerOpen = (id) => ctx.customer.evaluate((i) => document.getElementById(i).matches(':open'), id);
const seen = () => ctx.customer.evaluate(() => window.seen.splice(0));

/** The replica's option texts of select `id`: what the overlay must list. */
const replicaTexts = (id) => ctx.agent.evaluate(([sel, i]) => [...document.querySelector(sel).contentDocument
  .getElementById(i).options].map((o) => o.text), [AGENT.replica, id]);

test('nothing is shown while no popup is open', async () => {
  assert.equal(await overlay(), null);
});

test('a click opens the overlay over the select with the options and the selected one; Escape closes it', { timeout: 60_000 }, async () => {
  await ctx.customer.click('#size');
  assert.equal(await customerOpen('size'), true, 'the customer popup is open');
  assert.deepEqual(await seen(), ['mousedown:size']);
  await shown('overlay for #size');
  const o = await overlay();
  assert.equal(o.role, 'listbox');
  assert.deepEqual(o.texts, ['Small', 'Medium', 'Large', 'Extra large']);
  assert.deepEqual(o.texts, await replicaTexts('size'));
  assert.deepEqual(o.highlighted, [1]);
  assert.deepEqual(o.disabled, [3]);
  // Under the replica's select (shown 1:1), as wide as it at least.
  const frame = await ctx.agent.locator(AGENT.replica).boundingBox();
  const sel = await ctx.customer.locator('#size').boundingBox();
  assert.ok(Math.abs(o.box.left - (frame.x + sel.x)) <= 1, `left ${o.box.left} vs ${frame.x + sel.x}`);
  assert.ok(Math.abs(o.box.top - (frame.y + sel.y + sel.height)) <= 1, `top ${o.box.top} vs ${frame.y + sel.y + sel.height}`);
  assert.ok(o.box.width >= sel.width - 1);

  await ctx.customer.keyboard.press('Escape');
  assert.equal(await customerOpen('size'), false);
  await closed('overlay closed after Escape');
});

test('the keyboard opens it; choosing an option closes it, and the next opening highlights the choice', { timeout: 60_000 }, async () => {
  await ctx.customer.focus('#size');
  await ctx.customer.keyboard.press('Alt+ArrowDown');
  assert.equal(await customerOpen('size'), true);
  await shown('overlay after Alt+ArrowDown');
  await ctx.customer.keyboard.press('ArrowDown');
  await ctx.customer.keyboard.press('Enter');
  assert.equal(await ctx.customer.evaluate(() => document.getElementById('size').value), 'Large');
  assert.ok((await seen()).includes('change:size'), 'the customer committed a choice');
  await closed('overlay closed after the choice');

  await ctx.customer.click('#size');
  await shown('overlay open again');
  assert.deepEqual((await overlay()).highlighted, [2]);
  // A press elsewhere closes the customer's popup (focus leaves the select).
  await ctx.customer.click('#notes');
  assert.equal(await customerOpen('size'), false);
  assert.ok((await seen()).includes('focusout:size'));
  await closed('overlay closed after a press elsewhere');
});

test("a masked select's overlay shows the replica's placeholders and no highlight", { timeout: 60_000 }, async () => {
  await ctx.customer.click('#card');
  assert.equal(await customerOpen('card'), true);
  await shown('overlay for the masked select');
  const o = await overlay();
  assert.deepEqual(o.texts, await replicaTexts('card'));
  assert.ok(o.texts.every((t) => !t.includes('CANARY')), `masked texts: ${o.texts}`);
  assert.deepEqual(o.highlighted, []);
  await ctx.customer.keyboard.press('Escape');
  await closed('masked overlay closed');
});
