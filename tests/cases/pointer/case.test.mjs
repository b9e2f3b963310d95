// Pointers both ways: the customer's mouse shows on the agent page over the replica, the agent's
// mouse over the replica shows on the customer's page, at the same page coordinates.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AGENT, UI, activeSession, setupCase, waitIn } from '../../lib/harness.mjs';

let ctx;
before(async () => { ctx = await setupCase('pointer'); });
after(async () => { await ctx?.close(); });

const pointerAt = ({ sel, x, y, slack }) => {
  const find = (root) => {
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) {
        const inner = find(el.shadowRoot);
        if (inner) return inner;
      }
    }
    return null;
  };
  const el = find(document);
  if (!el || el.hidden) return false;
  const px = Number(el.dataset.x);
  const py = Number(el.dataset.y);
  return Math.abs(px - x) <= slack && Math.abs(py - y) <= slack;
};

test('customer pointer shows on the agent page', { timeout: 120_000 }, async () => {
  await activeSession(ctx, '/demo/?still=1');
  await ctx.customer.mouse.move(10, 10);
  await ctx.customer.mouse.move(230, 170, { steps: 5 });
  await waitIn(ctx, ctx.agent, `${AGENT.customerPointer} at (230, 170)`, pointerAt,
    { sel: AGENT.customerPointer, x: 230, y: 170, slack: 0 });
  await ctx.customer.mouse.move(420, 310, { steps: 5 });
  await waitIn(ctx, ctx.agent, `${AGENT.customerPointer} at (420, 310)`, pointerAt,
    { sel: AGENT.customerPointer, x: 420, y: 310, slack: 0 });
});

test('agent pointer shows on the customer page', { timeout: 120_000 }, async () => {
  const box = await ctx.agent.locator(AGENT.replica).boundingBox();
  assert.ok(box, 'the replica frame is laid out');
  // The replica is shown 1:1 (the agent's window is larger than the customer's), so the agent's
  // pointer at (x, y) inside the frame is at (x, y) on the customer's page (±1 px for rounding).
  await ctx.agent.mouse.move(box.x + 5, box.y + 5);
  await ctx.agent.mouse.move(box.x + 300, box.y + 200, { steps: 5 });
  await waitIn(ctx, ctx.customer, `${UI.agentPointer} at (300, 200)`, pointerAt,
    { sel: UI.agentPointer, x: 300, y: 200, slack: 1 });
});
