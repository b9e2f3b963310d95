// Values set by script: apps write `value`, `checked`, `indeterminate`, `selectedIndex` and
// `selected` from code, or call `form.reset()` (a todo list clears its field after Enter), which
// fires no input event and changes no attribute. Each such write shows in the agent's replica (DOM and pixels), also
// through a value tracker defined before the session (as React's is); a password set by script
// reaches the agent only as a placeholder and is in no frame the customer sent.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { AGENT, activeSession, compareScreenshots, setupCase, waitForReplica } from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CANARY = 'Canary-Script-Pw-5821';

let ctx;
before(async () => {
  ctx = await setupCase('script-values', { site: { '/fixture/values.html': path.join(here, 'page.html') } });
});
after(async () => { await ctx?.close(); });

/** The replica control's live state. */
function replicaState(id) {
  return ctx.agent.evaluate(([sel, i]) => {
    const el = document.querySelector(sel).contentDocument.getElementById(i);
    if (el.localName === 'select') return { selected: [...el.options].map((o) => o.selected) };
    if (el.type === 'checkbox' || el.type === 'radio') return { checked: el.checked, indeterminate: el.indeterminate };
    return { value: el.value };
  }, [AGENT.replica, id]);
}

test('values, checks and selections set by script reach the replica', { timeout: 120_000 }, async () => {
  const sent = [];
  ctx.customer.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(Buffer.from(f.payload))));
  await activeSession(ctx, '/fixture/values.html');
  const run = (fn, ...args) => ctx.customer.evaluate(([f, a]) => window[f](...a), [fn, args]);

  const steps = [
    ['clearTodo', 'todo', { value: '' }],
    ['clearControlled', 'controlled', { value: '' }],
    ['check', 'done', { checked: true, indeterminate: false }],
    ['mixed', 'all', { checked: true, indeterminate: true }],
    ['express', 'ship-exp', { checked: true, indeterminate: false }],
    ['rewrite', 'notes', { value: 'rewritten by script' }],
    ['large', 'size', { selected: [false, false, true] }],
    ['blue', 'colour', { selected: [false, false, true] }],
    ['olives', 'toppings', { selected: [false, true, false] }],
    ['edit', 'resettable', { value: 'edited by script' }],
    ['resetForm', 'resettable', { value: 'the default' }],
  ];
  for (const [fn, id, want] of steps) {
    await run(fn);
    // The DOM comparison reads live properties (value, checked, indeterminate, selected).
    await waitForReplica(ctx);
    assert.deepEqual(await replicaState(id), want, `${fn}: replica #${id}`);
  }
  assert.deepEqual(await replicaState('ship-std'), { checked: false, indeterminate: false }, 'the radio it unchecked');

  const shot = await compareScreenshots(ctx, 'set-by-script');
  assert.ok(shot.share < 0.01, `${(shot.share * 100).toFixed(2)} % of pixels differ (${shot.diffPath})`);

  await run('secret', CANARY);
  await waitForReplica(ctx);
  const pw = await replicaState('secret');
  assert.equal(pw.value.length, CANARY.length, 'a same-length placeholder');
  assert.notEqual(pw.value, CANARY);
  const leaked = sent.filter((b) => b.includes(CANARY) || b.includes(Buffer.from(CANARY, 'utf16le')));
  assert.equal(leaked.length, 0, `${leaked.length} of ${sent.length} frames carried the password`);
});
