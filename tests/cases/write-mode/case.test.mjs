// Write mode end to end: the agent requests control, the customer's consent dialog grants it
// (the agent is told), then the agent's clicks, typing (plain, a React-like controlled input, an
// IME composition, Enter), checkbox, select and wheel act on the customer's page by node id; a
// site-restricted button refuses with a notice to the agent; the agent gives control back; the
// customer denies (button and Escape) and takes control back; the URL bar stays on the site.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitIn } from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-write-'));
const policyFile = path.join(tmp, 'dom-restrictions.json');
fs.writeFileSync(policyFile, JSON.stringify({
  version: 1,
  rules: [{ selector: '#danger', action: 'restrict' }],
}));
const PAGE = '/demo/write-fixture.html';

let ctx;
before(async () => {
  ctx = await setupCase('write-mode', {
    serverEnv: { COBROWSE_DOM_RESTRICTIONS: policyFile },
    site: { [PAGE]: path.join(here, 'page.html') },
  });
});
after(async () => { await ctx?.close(); });

const customerUi = (action) => ctx.customer.locator(`[data-cobrowse-action="${action}"]`).first();

async function agentMode(mode) {
  await waitIn(ctx, ctx.agent, `agent <html data-cobrowse-mode="${mode}">`,
    (m) => document.documentElement.dataset.cobrowseMode === m, mode);
}

async function customerText(id, text) {
  await waitIn(ctx, ctx.customer, `customer #${id} shows ${JSON.stringify(text)}`,
    ([id, t]) => document.getElementById(id)?.textContent === t, [id, text]);
}

async function customerValue(id, value) {
  await waitIn(ctx, ctx.customer, `customer #${id}.value === ${JSON.stringify(value)}`,
    ([id, v]) => document.getElementById(id)?.value === v, [id, value]);
}

/** Clicks the centre of the replica element #id as the agent (on the overlay above it). */
async function agentClick(id) {
  await waitIn(ctx, ctx.agent, `replica has #${id}`,
    (id) => !!document.getElementById('cobrowse-replica').contentDocument?.getElementById(id), id);
  const p = await ctx.agent.evaluate((id) => {
    const f = document.getElementById('cobrowse-replica');
    const fr = f.getBoundingClientRect();
    const scale = fr.width / f.offsetWidth || 1;
    const r = f.contentDocument.getElementById(id).getBoundingClientRect();
    return { x: fr.left + f.clientLeft + (r.left + r.width / 2) * scale, y: fr.top + f.clientTop + (r.top + r.height / 2) * scale };
  }, id);
  await ctx.agent.mouse.click(p.x, p.y);
}

async function requestAndGrant() {
  await ctx.agent.locator('#cobrowse-request-control').click();
  await customerUi('grant').waitFor({ state: 'visible' });
  await customerUi('grant').click();
  await agentMode('write');
}

test('grant, act by node id, restricted refusal, release, deny, revoke', { timeout: 180_000 }, async () => {
  await openCustomer(ctx, PAGE);
  await ctx.customer.evaluate(() => {
    window.__modes = [];
    window.Cobrowse.on('mode', (m) => window.__modes.push(m));
  });
  const token = await startSession(ctx);
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');

  // Pointer mode: an agent click is only a ring, nothing happens on the page.
  // (Proved below: ok-count ends at 1 after exactly one write-mode click on the same button.)
  await agentClick('ok-btn');
  await agentMode('pointer');
  assert.equal(await ctx.agent.locator('#cobrowse-nav').isHidden(), true, 'no navigation bar in pointer mode');

  // Consent dialog: accessible (role dialog, focus inside), grant.
  await ctx.agent.locator('#cobrowse-request-control').click();
  await customerUi('grant').waitFor({ state: 'visible' });
  const dialog = await ctx.customer.evaluate(() => {
    const host = document.querySelector('[data-cobrowse-ui]');
    const root = host.shadowRoot;
    const grant = root.querySelector('[data-cobrowse-action="grant"]');
    const dlg = grant.closest('[role="dialog"], [role="alertdialog"], dialog');
    return { role: dlg && (dlg.getAttribute('role') || dlg.tagName.toLowerCase()), focused: dlg ? dlg.contains(root.activeElement) : false };
  });
  assert.ok(dialog.role, 'the consent prompt is a dialog');
  assert.ok(dialog.focused, 'focus moved into the consent dialog');
  for (let i = 0; i < 3; i++) await ctx.customer.keyboard.press('Tab');
  const trapped = await ctx.customer.evaluate(() => {
    const root = document.querySelector('[data-cobrowse-ui]').shadowRoot;
    const dlg = root.querySelector('[data-cobrowse-action="grant"]').closest('[role="dialog"]');
    return { inside: dlg.contains(root.activeElement), modal: dlg.getAttribute('aria-modal'), label: !!dlg.getAttribute('aria-labelledby') };
  });
  assert.deepEqual(trapped, { inside: true, modal: 'true', label: true }, 'Tab stays in the labelled modal dialog');
  await customerUi('grant').click();
  await agentMode('write');
  assert.equal(await ctx.agent.locator('#cobrowse-nav').isVisible(), true, 'navigation bar in write mode');
  await waitIn(ctx, ctx.customer, 'customer mode event "write"', () => window.__modes.includes('write'));

  // Typing into a plain input, then a special key.
  await agentClick('plain');
  await ctx.agent.keyboard.type('Hello agent');
  await customerValue('plain', 'Hello agent');
  await ctx.agent.keyboard.press('Enter');
  await customerText('last-key', 'Enter');

  // A React-like controlled input only sees native-setter writes + input events.
  await agentClick('controlled');
  await ctx.agent.keyboard.type('state ok');
  await customerText('state', 'state ok');

  // IME composition (Chromium's own composition events via CDP), committed as composed text.
  const cdp = await ctx.agent.context().newCDPSession(ctx.agent);
  await cdp.send('Input.imeSetComposition', { text: 'にほん', selectionStart: 3, selectionEnd: 3 });
  await cdp.send('Input.insertText', { text: '日本' });
  await customerText('state', 'state ok日本');

  // Checkbox and select.
  await agentClick('check');
  await waitIn(ctx, ctx.customer, 'checkbox checked', () => document.getElementById('check').checked);
  await agentClick('sel');
  await ctx.agent.locator('#cobrowse-select').selectOption({ index: 2 });
  await customerText('sel-state', 'c');

  // Restricted element: refused with a notice; a normal button after it works (same order).
  await agentClick('danger');
  await waitIn(ctx, ctx.agent, 'refusal notice', () =>
    /refused/i.test(document.getElementById('cobrowse-mode').textContent)
    && document.getElementById('cobrowse-mode').dataset.refusal === 'restricted');
  await agentClick('ok-btn');
  await customerText('ok-count', '1');
  assert.equal(await ctx.customer.locator('#danger-count').textContent(), '0', 'restricted button not clicked');

  // Wheel scrolls the customer's window.
  const box = await ctx.agent.locator('#cobrowse-overlay').boundingBox();
  await ctx.agent.mouse.move(box.x + 100, box.y + 100);
  await ctx.agent.mouse.wheel(0, 400);
  await waitIn(ctx, ctx.customer, 'customer scrolled', () => window.scrollY > 100);

  // The agent gives control back.
  await ctx.agent.locator('#cobrowse-release-control').click();
  await agentMode('pointer');
  await waitIn(ctx, ctx.customer, 'customer back in pointer mode', () => window.__modes.at(-1) === 'pointer');
  await agentClick('ok-btn');

  // Deny with the button, then with Escape.
  await ctx.agent.locator('#cobrowse-request-control').click();
  await customerUi('deny').waitFor({ state: 'visible' });
  await customerUi('deny').click();
  await waitIn(ctx, ctx.agent, 'agent told: declined', () =>
    /declined/i.test(document.getElementById('cobrowse-mode').textContent));
  await agentMode('pointer');
  await ctx.agent.locator('#cobrowse-request-control').click();
  await customerUi('deny').waitFor({ state: 'visible' });
  await ctx.customer.keyboard.press('Escape');
  await waitIn(ctx, ctx.agent, 'agent told: declined after Escape', () =>
    /declined/i.test(document.getElementById('cobrowse-mode').textContent)
    && document.documentElement.dataset.cobrowseMode === 'pointer');

  // The customer takes control back.
  await requestAndGrant();
  await customerUi('revoke').click();
  await agentMode('pointer');
  await waitIn(ctx, ctx.agent, 'agent told: customer took control back', () =>
    /took control back/i.test(document.getElementById('cobrowse-mode').textContent));
  // Pointer-mode clicks on the button (three of them above) never reached the page.
  assert.equal(await ctx.customer.locator('#ok-count').textContent(), '1');

  // Navigation bar: other origins are refused by the customer's side; the site's own pages work.
  await requestAndGrant();
  await ctx.agent.locator('#cobrowse-nav-url').fill('https://evil.example/phish');
  await ctx.agent.locator('#cobrowse-nav-go').click();
  await waitIn(ctx, ctx.agent, 'off-origin navigation refused', () =>
    /refused/i.test(document.getElementById('cobrowse-mode').textContent)
    && document.getElementById('cobrowse-mode').dataset.refusal === 'off_origin');
  assert.match(ctx.customer.url(), /write-fixture\.html$/);
  await ctx.agent.locator('#cobrowse-nav-url').fill('/demo/form.html');
  await ctx.agent.locator('#cobrowse-nav-go').click();
  await ctx.customer.waitForURL(/\/demo\/form\.html$/);
  await waitIn(ctx, ctx.agent, 'the replica follows to form.html', () =>
    !!document.getElementById('cobrowse-replica').contentDocument?.getElementById('checkout'));
});
