// The live path, form typing, write mode and masking with the customer in a browser other than
// Chromium (the agent stays in Chromium), shared by firefox.test.mjs and webkit.test.mjs: start,
// join by number, replica equal, live DOM changes incl. a page load and SVG; form typing with that
// browser's own key events; write mode granted in that browser, the agent's input acting on its
// page, revoked; masking — canaries in masked places are in no frame the server received from that
// customer (the server's test-only frame capture: neither BiDi nor classic WebDriver shows
// WebSocket frames), while control canaries are.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  UI, compareScreenshots, joinAgent, openCustomer, setupCase, startSession, waitForAgentState,
  waitForCustomerState, waitForReplica, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The server's restriction rules (the page adds `#notes`, see masking.html). */
const RULES = {
  version: 1,
  rules: [
    { selector: '.secret', action: 'mask' },
    { selector: '#vault', action: 'hide' },
  ],
};
const MASK_PAGE = '/fixture/masking.html';

/** How often `s` occurs in `buf`, as UTF-8 or UTF-16LE. */
function occurrences(buf, s) {
  let n = 0;
  for (const needle of [Buffer.from(s, 'utf8'), Buffer.from(s, 'utf16le')]) {
    for (let i = buf.indexOf(needle); i !== -1; i = buf.indexOf(needle, i + 1)) n += 1;
  }
  return n;
}

const SECRETS = [
  'CanaryOb-Pre-Card-2231', 'CanaryOb-Pre-Pw-2232', 'CanaryOb-Text-2233', 'CanaryOb-Title-2234',
  'CanaryOb-Vault-2235', 'CanaryOb-Typed-Card-2236', 'CanaryOb-Typed-Pw-2237', 'CanaryOb-Typed-Notes-2238',
  'CanaryOb-Auto-Card-2239', 'CanaryOb-Script-Text-2240', 'CanaryOb-Script-Title-2241',
  'CanaryOb-Member-2242',
];
const CONTROLS = ['VisibleOb-Text-3301', 'VisibleOb-Typed-3302', 'VisibleOb-AfterReload-3303'];

/**
 * Defines the live-path, typing, write-mode and masking tests for a customer in another browser: `name` is
 * the results folder, `label` the browser's name in test titles, `useCustomer(ctx)` puts that
 * browser in `ctx.customer` (lib/firefox.mjs, lib/webkit.mjs) and resolves to `{ version,
 * fresh() }`, `userAgent` must match its `navigator.userAgent`.
 */
export function customerBrowserSuite({ name, label, useCustomer, userAgent }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `cobrowse-${name}-`));
  const captureFile = path.join(tmp, 'frames.bin');
  const policyFile = path.join(tmp, 'dom-restrictions.json');
  fs.writeFileSync(policyFile, JSON.stringify(RULES));
  let ctx;
  let browser;
  before(async () => {
    ctx = await setupCase(name, {
      serverEnv: { COBROWSE_TEST_CAPTURE_FRAMES: captureFile, COBROWSE_DOM_RESTRICTIONS: policyFile },
      site: { [MASK_PAGE]: path.join(here, 'masking.html') },
    });
    browser = await useCustomer(ctx);
    console.log(`# customer browser: ${browser.version}`);
  });
  after(async () => {
    await ctx?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const replica = (fn, arg) => ctx.agent.evaluate(fn, arg);

  /** Starts a session in the browser on `page` (a fresh customer), joins it from Chromium and waits
   * until both are active and, unless the page has masked parts, the replica equals the page. */
  async function session(page, { via = 'hash', masked = false } = {}) {
    await browser.fresh();
    await openCustomer(ctx, page);
    const token = await startSession(ctx);
    await joinAgent(ctx, token, { via });
    await waitForCustomerState(ctx, 'active');
    if (!masked) await waitForReplica(ctx);
    return token;
  }

  /** The customer exits through the UI; both sides end. */
  async function exit() {
    await ctx.customer.locator(UI.exit).first().click();
    await waitForCustomerState(ctx, 'ended');
    await waitForAgentState(ctx, 'ended');
  }

  test(`${label}: live path — the customer starts, the agent joins by number, live changes follow`, { timeout: 120_000 }, async () => {
    await session('/demo/?still=1', { via: 'input' });
    const c = ctx.customer;
    assert.match(await c.evaluate(() => navigator.userAgent), userAgent, `the customer is ${label}`);
    // Printed, not asserted: two engines rasterise and break text differently (measured in the
    // README's "Tested browsers"); the DOM comparison above is the proof.
    const shot = await compareScreenshots(ctx, 'home');
    console.log(`# ${label} page vs Chromium replica: ${(shot.share * 100).toFixed(2)} % of ${shot.width}×${shot.height} px differ`);

    // Through the page's own UI (real clicks): reorder, add to cart.
    await c.locator('#shuffle').click();
    await c.locator('.product .add').first().click();
    await c.locator('.product .add').nth(2).click();
    await waitForReplica(ctx);

    // Directly: characterData, attribute set / change / removal, class, inline style.
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

    // A page load inside the session, and SVG: attribute changes and inserted elements.
    await c.goto(ctx.siteUrl('/demo/svg.html'));
    await waitForCustomerState(ctx, 'active');
    await waitForReplica(ctx);
    await c.locator('#recolour').click();
    await c.locator('#add-hut').click();
    await c.locator('#add-hut').click();
    await waitForReplica(ctx);
    const huts = await replica(() => [...document.getElementById('cobrowse-replica').contentDocument
      .querySelectorAll('#huts rect')].map((r) => r.namespaceURI));
    assert.equal(huts.length, 4);
    assert.ok(huts.every((ns) => ns === 'http://www.w3.org/2000/svg'), 'inserted huts are SVG elements');
    await exit();
  });

  test(`${label}: form typing — key events in every kind of field reach the agent`, { timeout: 120_000 }, async () => {
    await session('/demo/form.html');
    const c = ctx.customer;
    const PASSWORD = 'Canary-Other-Pw-5813';
    await c.locator('#name').pressSequentially('Kari Nordmann');
    await c.locator('#email').fill('kari.nordmann@example.invalid');
    await c.locator('#password').pressSequentially(PASSWORD);
    await c.locator('#qty').fill('3');
    await c.locator('#country').selectOption('dk');
    await c.locator('#delivery-express').check();
    await c.locator('#newsletter').check();
    await c.locator('#terms').uncheck();
    await c.locator('#notes').fill('');
    await c.locator('#notes').pressSequentially('Ring twice,\nthen wait.');
    await waitForReplica(ctx);

    const seen = await replica(() => {
      const doc = document.getElementById('cobrowse-replica').contentDocument;
      const v = (id) => doc.getElementById(id);
      return {
        name: v('name').value,
        email: v('email').value,
        password: v('password').value,
        qty: v('qty').value,
        country: v('country').value,
        express: v('delivery-express').checked,
        newsletter: v('newsletter').checked,
        terms: v('terms').checked,
        notes: v('notes').value,
        html: doc.documentElement.outerHTML,
      };
    });
    assert.equal(seen.name, 'Kari Nordmann');
    assert.equal(seen.email, 'kari.nordmann@example.invalid');
    assert.equal(seen.qty, '3');
    assert.equal(seen.country, 'dk');
    assert.deepEqual([seen.express, seen.newsletter, seen.terms], [true, true, false]);
    assert.equal(seen.notes, 'Ring twice,\nthen wait.');
    assert.equal(seen.password.length, PASSWORD.length, 'the agent sees a placeholder of the same length');
    assert.ok(!seen.html.includes(PASSWORD) && seen.password !== PASSWORD, 'the password is nowhere in the replica');
    await exit();
    const frames = fs.readFileSync(captureFile);
    assert.equal(occurrences(frames, PASSWORD), 0, 'the password is in no frame the server received');
  });

  /** Clicks the centre of the replica element `#id` as the agent (on the overlay above it), once
   * the customer has scrolled it into view and the replica followed. */
  async function agentClick(id) {
    const y = await ctx.customer.evaluate((i) => {
      document.getElementById(i).scrollIntoView({ block: 'center' });
      return window.scrollY;
    }, id);
    await waitIn(ctx, ctx.agent, `the replica scrolled to the customer's ${y}`, ([i, want]) => {
      const f = document.getElementById('cobrowse-replica');
      return f.contentWindow.scrollY === want && !!f.contentDocument.getElementById(i);
    }, [id, y]);
    const p = await ctx.agent.evaluate((i) => {
      const f = document.getElementById('cobrowse-replica');
      const fr = f.getBoundingClientRect();
      const scale = fr.width / f.offsetWidth || 1;
      const r = f.contentDocument.getElementById(i).getBoundingClientRect();
      return { x: fr.left + f.clientLeft + (r.left + r.width / 2) * scale, y: fr.top + f.clientTop + (r.top + r.height / 2) * scale };
    }, id);
    await ctx.agent.mouse.click(p.x, p.y);
  }

  const agentMode = (mode) => waitIn(ctx, ctx.agent, `agent <html data-cobrowse-mode="${mode}">`,
    (m) => document.documentElement.dataset.cobrowseMode === m, mode);

  test(`${label}: write mode — granted in this browser, the agent's typing, checkbox and select act on its page`, { timeout: 120_000 }, async () => {
    await session('/demo/form.html');
    const c = ctx.customer;
    const action = (a) => c.locator(`[data-cobrowse-action="${a}"]`).first();
    await ctx.agent.locator('#cobrowse-request-control').click();
    await action('grant').click();
    await agentMode('write');

    await agentClick('name');
    await ctx.agent.keyboard.type('Typed by the agent');
    await waitIn(ctx, c, 'the agent\'s typing in the customer\'s #name', () =>
      document.getElementById('name').value === 'Typed by the agent');
    await agentClick('newsletter');
    await waitIn(ctx, c, 'the agent\'s click checked #newsletter', () => document.getElementById('newsletter').checked);
    await agentClick('country');
    await ctx.agent.locator('#cobrowse-select').selectOption({ label: 'Finland' });
    await waitIn(ctx, c, 'the agent\'s choice in #country', () => document.getElementById('country').value === 'fi');
    await waitForReplica(ctx);

    // The customer takes control back; the agent's clicks are pointers again.
    await action('revoke').click();
    await agentMode('pointer');
    await agentClick('terms');
    await waitForReplica(ctx);
    assert.equal(await c.evaluate(() => document.getElementById('terms').checked), true, 'a pointer-mode click changed nothing');
    await exit();
  });

  test(`${label}: masking — canaries in masked places never leave the browser; controls do`, { timeout: 120_000 }, async () => {
    await session(MASK_PAGE, { masked: true });
    const c = ctx.customer;
    await waitIn(ctx, ctx.agent, 'the replica shows the page', () =>
      document.getElementById('cobrowse-replica').contentDocument?.getElementById('plain-text')?.textContent === 'VisibleOb-Text-3301');
    // Typed with the browser's key events; set by script with the events autofill fires; masked text and
    // attribute changed by script; a node added to the hidden box.
    await c.locator('#card').fill('');
    await c.locator('#card').pressSequentially('CanaryOb-Typed-Card-2236');
    await c.locator('#pw').pressSequentially('CanaryOb-Typed-Pw-2237');
    await c.locator('#notes').pressSequentially('CanaryOb-Typed-Notes-2238');
    await c.locator('#member').pressSequentially('CanaryOb-Member-2242');
    await c.evaluate(() => {
      const card = document.getElementById('card');
      card.value = 'CanaryOb-Auto-Card-2239';
      card.dispatchEvent(new Event('input', { bubbles: true }));
      card.dispatchEvent(new Event('change', { bubbles: true }));
      const p = document.getElementById('secret-text');
      p.textContent = 'CanaryOb-Script-Text-2240';
      p.title = 'CanaryOb-Script-Title-2241';
      document.getElementById('vault').append(' CanaryOb-Vault-2235');
    });
    await c.locator('#control').pressSequentially('VisibleOb-Typed-3302');
    await waitIn(ctx, ctx.agent, 'the control canary typed last reached the agent', (t) =>
      document.getElementById('cobrowse-replica').contentDocument.getElementById('control')?.value === t,
    'VisibleOb-Typed-3302');

    // The agent sees placeholders of the typed lengths and an empty box for the hidden element.
    const seen = await replica(() => {
      const doc = document.getElementById('cobrowse-replica').contentDocument;
      const box = doc.querySelector('[data-cobrowse-hidden]');
      return {
        card: doc.getElementById('card').value,
        notes: doc.getElementById('notes').value,
        html: doc.documentElement.outerHTML,
        box: box && { text: box.textContent, children: box.children.length },
      };
    });
    assert.equal(seen.card.length, 'CanaryOb-Auto-Card-2239'.length);
    assert.equal(seen.notes.length, 'CanaryOb-Typed-Notes-2238'.length);
    assert.deepEqual(seen.box, { text: '', children: 0 }, 'the hidden element is an empty box');

    // A reload inside the session: a browser that restores field values (Firefox does, without
    // events) puts the typed values back before the client's snapshot; the masked one must still
    // be a placeholder, the plain one must show.
    await c.reload();
    await waitForCustomerState(ctx, 'active');
    const restored = await c.evaluate(() => ({
      member: document.getElementById('member').value,
      control: document.getElementById('control').value,
    }));
    console.log(`# ${label} restored on reload: ${JSON.stringify(restored)}`);
    await c.locator('#control').pressSequentially('VisibleOb-AfterReload-3303');
    const control = `${restored.control}VisibleOb-AfterReload-3303`;
    await waitIn(ctx, ctx.agent, 'the replica\'s #control shows the restored and typed value', (t) =>
      document.getElementById('cobrowse-replica').contentDocument.getElementById('control')?.value === t, control);
    const member = await replica(() => document.getElementById('cobrowse-replica').contentDocument.getElementById('member').value);
    assert.equal(member.length, restored.member.length, 'the restored masked value is a placeholder of its length');
    if (restored.member) assert.notEqual(member, restored.member);
    await exit();

    const frames = fs.readFileSync(captureFile);
    const found = Object.fromEntries(CONTROLS.map((s) => [s, occurrences(frames, s)]));
    for (const s of CONTROLS) assert.ok(found[s] > 0, `control canary ${s} must be found (the scan works)`);
    const leaks = SECRETS.map((s) => [s, occurrences(frames, s)]).filter(([, n]) => n > 0);
    console.log(`# canary scan: ${frames.length} bytes of inbound frames, ${SECRETS.length} masked canaries, ` +
      `${leaks.length} found; controls found ${JSON.stringify(found)}`);
    assert.deepEqual(leaks, [], 'masked canaries reached the server');
    for (const s of SECRETS) assert.ok(!seen.html.includes(s), `${s} in the replica`);
  });
}
