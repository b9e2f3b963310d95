// Masking proven on the wire: canary strings put into masked fields (site rule, page-added rule,
// URL-pattern rule, password, hidden element) before the session, typed during it, set by script
// (autofill-like, with and without events), changed as text and attributes by script, in link
// parameters, and restored on reload never appear in ANY frame the server received (the server's
// test-only frame capture, COBROWSE_TEST_CAPTURE_FRAMES), in any request the customer's browser
// sent the server, nor in the session's history. The same for what real pages hold: a password
// revealed by a "show password" button (and typed after), card, security-code and one-time-code
// fields (by `autocomplete`), a hidden input, a masked web component's shadow root and a masked
// same-origin frame (also a srcdoc one; also changed later), elements a rule masks inside a plain
// shadow root and a plain frame, and the page's URL parameter and
// title the site masks. A masked checkbox's, select's and canvas's state never reaches the agent.
// Control canaries in unmasked places ARE found, so the scan can fail. Also: hidden elements
// arrive as same-size empty boxes; the customer sees a marker.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  agentHeaders, joinAgent, openCustomer, sessionInfo, setupCase, startSession, waitForCustomerState, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-privacy-'));
const captureFile = path.join(tmp, 'frames.bin');
const policyFile = path.join(tmp, 'dom-restrictions.json');
fs.writeFileSync(policyFile, JSON.stringify({
  version: 1,
  rules: [
    { selector: '.secret', action: 'mask' },
    { selector: '#card-box', action: 'hide' },
    { selector: '#by-url', action: 'mask', urlPattern: '*/privacy-fixture*' },
    { selector: '#never-here', action: 'mask', urlPattern: '*/some-other-page*' },
    { selector: 'input[type=submit]', action: 'restrict' },
    { selector: '.secret-host', action: 'mask' },
    { selector: '#pay-frame, #srcdoc-frame', action: 'mask' },
  ],
}));

const PAGE = '/demo/privacy-fixture.html';
const FRAME = '/demo/privacy-frame.html';
// The customer arrives with an account number the site masks and an OAuth token (always masked).
const ADDRESS = `${PAGE}?acct=CanaryUrl-Acct-4701&q=VisibleControl-Query-6666#access_token=CanaryOauth-4703`;
const SECRETS = [
  'CanaryPre-Card-5521', 'CanaryPre-Pw-7730', // set by the page before the session
  'CanaryText-Initial-6604', 'CanaryAttr-Title-1187', 'CanaryAlt-3321', // masked text / attributes
  'CanaryHidden-Box-4410', 'CanaryHidden-Input-8812', 'CanaryUrl-Masked-9090',
  'CanaryTyped-Card-1049', 'CanaryTyped-Pw-2290', 'CanaryTyped-Notes-3381', // typed
  'CanaryAuto-Card-6671', 'CanaryAutoSilent-Card-6672', // autofill-like programmatic sets
  'CanaryScript-Text-7782', 'CanaryScript-Title-7783', 'CanaryScript-Node-7784', // script changes
  'CanaryReload-Card-8893', // restored on reload
  'CanaryHref-5150', // URL parameter of a masked link
  'CanaryPre-Revealed-4100', 'CanaryRevealed-Pw-4101', // a password, then shown as text and typed
  'CanaryCc-Number-4202', 'CanaryOtp-4203', 'CanaryCsc-4204', 'CanaryPre-Otp-4206', // autocomplete
  'CanaryCsrf-4301', 'CanaryCsrf-Later-4302', 'CanaryCsrf-Attr-4303', // hidden input
  'CanaryShadow-Text-4401', 'CanaryShadow-Value-4402', 'CanaryShadow-Later-4403', 'CanaryShadow-Typed-4405',
  'CanaryFrame-Text-4501', 'CanaryFrame-Value-4502', 'CanaryFrame-Later-4503', 'CanarySrcdoc-4504',
  'CanaryFrame-Attr-4505',
  'CanaryShadow-Inner-4406', 'CanaryShadow-Cc-4407', 'CanaryFrame-Inner-4506', // masked by their own rule
  'CanaryUrl-Acct-4701', 'CanaryTitle-4702', 'CanaryOauth-4703', 'CanaryUrl-Push-4704', // address, title
];
const CONTROLS = [
  'VisibleControl-Plain-1111', 'VisibleControl-Url-2207', 'VisibleControl-AfterReload-3333',
  'VisibleControl-Shadow-4444', 'VisibleControl-Frame-5555', 'VisibleControl-Query-6666',
];

let ctx;
before(async () => {
  ctx = await setupCase('privacy-masking', {
    serverEnv: { COBROWSE_TEST_CAPTURE_FRAMES: captureFile, COBROWSE_DOM_RESTRICTIONS: policyFile },
    site: { [PAGE]: path.join(here, 'page.html'), [FRAME]: path.join(here, 'frame.html') },
  });
});
after(async () => { await ctx?.close(); });

function captured() {
  return fs.existsSync(captureFile) ? fs.readFileSync(captureFile) : Buffer.alloc(0);
}

function occurrences(buf, s) {
  let n = 0;
  for (const needle of [Buffer.from(s, 'utf8'), Buffer.from(s, 'utf16le')]) {
    let i = buf.indexOf(needle);
    while (i !== -1) { n++; i = buf.indexOf(needle, i + 1); }
  }
  return n;
}

async function replicaText(id) {
  return ctx.agent.evaluate((id) => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    return doc?.documentElement?.outerHTML.includes(id) ?? false;
  }, id);
}

async function waitReplicaHas(what, text) {
  await waitIn(ctx, ctx.agent, what, (t) => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    if (!doc || !doc.documentElement) return false;
    if (doc.documentElement.outerHTML.includes(t)) return true;
    return [...doc.querySelectorAll('input, textarea')].some((e) => e.value === t);
  }, text);
}

/** The state of a control in the replica (top document). */
async function replicaControl(sel) {
  return ctx.agent.evaluate((sel) => {
    const el = document.getElementById('cobrowse-replica').contentDocument.querySelector(sel);
    return el ? { checked: el.checked, selectedIndex: el.selectedIndex } : null;
  }, sel);
}

/** True when the replica shows a customer frame on its canvas `sel` (the agent paints it as the
 * canvas's background, marking the element `data-cobrowse-canvas`). */
async function replicaCanvasShown(sel) {
  return ctx.agent.evaluate((sel) => {
    const c = document.getElementById('cobrowse-replica').contentDocument.querySelector(sel);
    return c ? c.hasAttribute('data-cobrowse-canvas') : null;
  }, sel);
}

test('no masked canary reaches the server; controls do', { timeout: 180_000 }, async () => {
  // Every request the customer's browser sends the co-browse server (REST bodies included).
  const requests = [];
  ctx.customer.on('request', (r) => {
    if (r.url().startsWith(ctx.url('/'))) requests.push(`${r.method()} ${r.url()}\n${r.postData() ?? ''}`);
  });
  await openCustomer(ctx, ADDRESS);
  const c = ctx.customer;

  const token = await startSession(ctx);
  // The customer sees which fields the agent cannot see (once the client is loaded: a page view
  // without a session runs only the loader).
  await waitIn(ctx, c, 'mask marker on #card', () =>
    getComputedStyle(document.getElementById('card')).outlineStyle === 'dashed');
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');
  await waitReplicaHas('replica shows the page', 'first load');

  // Typed during the session.
  await c.locator('#card').fill('');
  await c.locator('#card').pressSequentially('CanaryTyped-Card-1049');
  await c.locator('#pw').fill('');
  await c.locator('#pw').pressSequentially('CanaryTyped-Pw-2290');
  await c.locator('#notes').pressSequentially('CanaryTyped-Notes-3381');
  // Autofill-like: set by script with the events autofill fires, and silently.
  await c.evaluate(() => {
    const card = document.getElementById('card');
    card.value = 'CanaryAuto-Card-6671';
    card.dispatchEvent(new Event('input', { bubbles: true }));
    card.dispatchEvent(new Event('change', { bubbles: true }));
    card.value = 'CanaryAutoSilent-Card-6672';
    card.dispatchEvent(new Event('change', { bubbles: true }));
  });
  // Masked text changed by script: text, attribute, inserted node.
  await c.evaluate(() => {
    const p = document.getElementById('secret-text');
    p.textContent = 'CanaryScript-Text-7782';
    p.title = 'CanaryScript-Title-7783';
    const s = document.createElement('span');
    s.textContent = 'CanaryScript-Node-7784';
    p.appendChild(s);
    document.getElementById('card-box').append(' more hidden CanaryScript-Node-7784');
  });
  // The "show password" eye turns the field into text; what is typed next is still the password.
  await c.locator('#eye').click();
  assert.equal(await c.locator('#revealed').getAttribute('type'), 'text');
  await c.locator('#revealed').fill('');
  await c.locator('#revealed').pressSequentially('CanaryRevealed-Pw-4101');
  // Card fields and a one-time code, masked by their autocomplete alone.
  await c.locator('#cc').pressSequentially('CanaryCc-Number-4202');
  await c.locator('#cvc').pressSequentially('CanaryCsc-4204');
  await c.locator('#otp').fill('');
  await c.locator('#otp').pressSequentially('CanaryOtp-4203');
  // Chosen and checked under a mask: the agent must not learn which.
  await c.locator('#exp-month').selectOption('12');
  await c.locator('#plan').selectOption('Gold');
  await c.locator('#consent').check();
  // Typed inside the masked web component; changed later by script there and in the frame.
  await c.locator('#shadow-host').locator('#shadow-input').fill('');
  await c.locator('#shadow-host').locator('#shadow-input').pressSequentially('CanaryShadow-Typed-4405');
  await c.evaluate(() => window.changeInside());
  // A single-page navigation to another masked address (reported with the next DOM change).
  await c.evaluate(() => {
    history.pushState(null, '', `${location.pathname}?acct=CanaryUrl-Push-4704&q=VisibleControl-Query-6666`);
    document.getElementById('loads').dataset.step = 'pushed';
  });
  await c.locator('#control').pressSequentially('VisibleControl-Plain-1111');
  await waitReplicaHas('the control canary typed last reached the agent', 'VisibleControl-Plain-1111');

  // Everything above was sent before the control: the replica shows no chosen state.
  assert.equal((await replicaControl('#plan'))?.selectedIndex, 0, 'a masked select shows no choice');
  assert.equal((await replicaControl('#exp-month'))?.selectedIndex, 0, 'the expiry month shows no choice');
  assert.equal((await replicaControl('#consent'))?.checked, false, 'a masked checkbox shows no state');
  // The plain canvas's pixels arrive; the masked one stays blank.
  await waitIn(ctx, ctx.agent, 'the plain canvas is drawn in the replica', () =>
    !!document.getElementById('cobrowse-replica').contentDocument.querySelector('#canvas-plain[data-cobrowse-canvas]'));
  assert.equal(await replicaCanvasShown('#canvas-secret'), false, 'the masked canvas stays blank');

  // Hidden: a same-size empty box in the replica.
  const box = await ctx.agent.evaluate(() => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    const el = doc.querySelector('[data-cobrowse-hidden]');
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { w: r.width, h: r.height, text: el.textContent, children: el.children.length };
  });
  assert.ok(box, 'the hidden element is in the replica as a box');
  assert.equal(box.text, '');
  assert.equal(box.children, 0);
  assert.ok(Math.abs(box.w - 240) <= 1 && Math.abs(box.h - 60) <= 1, `box size ${box.w}x${box.h}`);

  // Restored on reload: the page restores a saved value into the masked field.
  await c.evaluate(() => sessionStorage.setItem('restore', 'CanaryReload-Card-8893'));
  await c.reload();
  await waitForCustomerState(ctx, 'active');
  await waitReplicaHas('the reloaded page reached the agent', 'reloaded');
  await c.locator('#control').pressSequentially('VisibleControl-AfterReload-3333');
  await waitReplicaHas('the control canary after reload reached the agent', 'VisibleControl-AfterReload-3333');

  // The session's history: the addresses and titles the server kept.
  const info = await sessionInfo(ctx, token);
  assert.equal(info.status, 200);
  const history = await fetch(ctx.url(`/cobrowse/rest/history/sessions/${info.body.historyId}`), { headers: agentHeaders(ctx) });
  assert.equal(history.status, 200);
  const record = await history.json();
  const kept = JSON.stringify(record);
  assert.ok(record.pages.length > 0, `history has pages: ${kept}`);
  assert.ok(record.pages.every((p) => p.url.includes('acct=*') && /^[* ]*$/.test(p.title ?? '')), `history pages are masked: ${kept}`);
  assert.ok(requests.some((r) => r.includes('acct=*')), 'the session was created with the masked address');

  const frames = captured();
  assert.ok(frames.length > 0, 'the server captured frames');
  const found = Object.fromEntries(CONTROLS.map((s) => [s, occurrences(frames, s)]));
  for (const s of CONTROLS) assert.ok(found[s] > 0, `control canary ${s} must be found (the scan works)`);
  const leaks = SECRETS.map((s) => [s, occurrences(frames, s)]).filter(([, n]) => n > 0);
  console.log(`# canary scan: ${frames.length} bytes of inbound frames, ${SECRETS.length} masked canaries, ` +
    `${leaks.length} found; controls found ${JSON.stringify(found)}`);
  assert.deepEqual(leaks, [], 'masked canaries reached the server');
  const sentElsewhere = SECRETS.filter((s) => requests.some((r) => r.includes(s)) || kept.includes(s));
  assert.deepEqual(sentElsewhere, [], 'masked canaries in a request to the server or in the history');
  for (const s of SECRETS) assert.equal(await replicaText(s), false, `${s} in the replica`);
});
