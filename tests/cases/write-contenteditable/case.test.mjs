// Write mode in contenteditable editors end to end: in pointer mode the agent's click and typing
// into a contenteditable paragraph reach nothing; in write mode the agent clicks inside the
// paragraph's text, types (with a non-ASCII character and a Backspace) and the customer's DOM has
// the text at the caret the click put there, with the page's beforeinput listener seeing each
// step; a framework-like editor that handles beforeinput itself updates its own model; a masked
// contenteditable refuses with a notice to the agent and stays unchanged.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitIn } from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-edit-'));
const policyFile = path.join(tmp, 'dom-restrictions.json');
fs.writeFileSync(policyFile, JSON.stringify({
  version: 1,
  rules: [{ selector: '.secret', action: 'mask' }],
}));
const PAGE = '/demo/edit-fixture.html';

let ctx;
before(async () => {
  ctx = await setupCase('write-contenteditable', {
    serverEnv: { COBROWSE_DOM_RESTRICTIONS: policyFile },
    site: { [PAGE]: path.join(here, 'page.html') },
  });
});
after(async () => { await ctx?.close(); });

const customerUi = (action) => ctx.customer.locator(`[data-cobrowse-action="${action}"]`).first();
const text = (id) => ctx.customer.evaluate((id) => document.getElementById(id).textContent, id);

async function agentMode(mode) {
  await waitIn(ctx, ctx.agent, `agent <html data-cobrowse-mode="${mode}">`,
    (m) => document.documentElement.dataset.cobrowseMode === m, mode);
}

async function customerText(id, t) {
  await waitIn(ctx, ctx.customer, `customer #${id} shows ${JSON.stringify(t)}`,
    ([id, t]) => document.getElementById(id)?.textContent === t, [id, t]);
}

/** Clicks as the agent (on the overlay) just left of the boundary after character `offset` of
 * the replica element #id's first text node, or at the element's centre without an offset. */
async function agentClick(id, offset) {
  await waitIn(ctx, ctx.agent, `replica has #${id}`,
    (id) => !!document.getElementById('cobrowse-replica').contentDocument?.getElementById(id), id);
  const p = await ctx.agent.evaluate(([id, offset]) => {
    const f = document.getElementById('cobrowse-replica');
    const fr = f.getBoundingClientRect();
    const scale = fr.width / f.offsetWidth || 1;
    const el = f.contentDocument.getElementById(id);
    let x; let y;
    if (offset === undefined) {
      const r = el.getBoundingClientRect();
      x = r.left + r.width / 2; y = r.top + r.height / 2;
    } else {
      const range = f.contentDocument.createRange();
      range.setStart(el.firstChild, offset - 1);
      range.setEnd(el.firstChild, offset);
      const r = range.getBoundingClientRect();
      x = r.right - 1; y = r.top + r.height / 2; // right half of the character: caret after it
    }
    return { x: fr.left + f.clientLeft + x * scale, y: fr.top + f.clientTop + y * scale };
  }, [id, offset]);
  await ctx.agent.mouse.click(p.x, p.y);
}

async function requestAndGrant() {
  await ctx.agent.locator('#cobrowse-request-control').click();
  await customerUi('grant').waitFor({ state: 'visible' });
  await customerUi('grant').click();
  await agentMode('write');
}

test('typing into contenteditable: caret by node id, beforeinput, pointer mode, masked refusal', { timeout: 180_000 }, async () => {
  await openCustomer(ctx, PAGE);
  const token = await startSession(ctx);
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');

  // Pointer mode: a click into the paragraph and typing are not actions.
  await agentClick('note', 5);
  await ctx.agent.keyboard.type('zz');
  await ctx.agent.keyboard.press('Backspace');
  await agentMode('pointer');

  // Write mode: the caret goes after "Hello" (where the agent clicked), not to the start or end.
  await requestAndGrant();
  await agentClick('note', 5);
  await ctx.agent.keyboard.type(', agentx');
  await ctx.agent.keyboard.press('Backspace');
  await ctx.agent.keyboard.type(' ü');
  await customerText('note', 'Hello, agent ü world');
  const seen = await ctx.customer.evaluate(() => window.__beforeinput);
  assert.deepEqual(seen.map(([t]) => t).filter((t, i, a) => a.indexOf(t) === i),
    ['insertText', 'deleteContentBackward'], 'the page saw insert and delete steps in beforeinput');
  assert.ok(seen.some(([t, d]) => t === 'insertText' && d.includes('ü')), 'the special character arrived as text');
  assert.ok(!seen.some(([, d]) => d?.includes('z')), 'nothing typed in pointer mode reached the page');
  // The replica follows the customer's DOM.
  await waitIn(ctx, ctx.agent, 'replica shows the edit', () =>
    document.getElementById('cobrowse-replica').contentDocument.getElementById('note').textContent === 'Hello, agent ü world');

  // A framework-like editor handles beforeinput itself; its model is what changes.
  await agentClick('fw');
  await ctx.agent.keyboard.type('s!x');
  await ctx.agent.keyboard.press('Backspace');
  await customerText('fw', 'drafts!');
  assert.equal(await ctx.customer.evaluate(() => window.__model), 'drafts!');

  // A masked contenteditable: the agent cannot type into what it cannot see.
  await agentClick('secret');
  await ctx.agent.keyboard.type('x');
  await waitIn(ctx, ctx.agent, 'refusal notice', () =>
    document.getElementById('cobrowse-mode').dataset.refusal === 'restricted');
  assert.equal(await text('secret'), 'PIN 4711');
  assert.equal(await text('secret-changes'), '0');

  // Back in pointer mode, typing reaches nothing: a later write-mode step is the only change.
  await ctx.agent.locator('#cobrowse-release-control').click();
  await agentMode('pointer');
  await agentClick('note', 5);
  await ctx.agent.keyboard.type('zz');
  await requestAndGrant();
  await agentClick('note', 5);
  await ctx.agent.keyboard.type('!');
  await customerText('note', 'Hello!, agent ü world');
});
