// Masking proven on the wire: canary strings put into masked fields (site rule, page-added rule,
// URL-pattern rule, password, hidden element) before the session, typed during it, set by script
// (autofill-like, with and without events), changed as text and attributes by script, in link
// parameters, and
// restored on reload never appear in ANY frame the server received (the server's test-only frame
// capture, COBROWSE_TEST_CAPTURE_FRAMES). Control canaries in unmasked places ARE found, so the
// scan can fail. Also: hidden elements arrive as same-size empty boxes; the customer sees a marker.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitIn, staticDirWith } from '../../lib/harness.mjs';

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
  ],
}));

const PAGE = '/cobrowse/demo/privacy-fixture.html';
const SECRETS = [
  'CanaryPre-Card-5521', 'CanaryPre-Pw-7730', // set by the page before the session
  'CanaryText-Initial-6604', 'CanaryAttr-Title-1187', 'CanaryAlt-3321', // masked text / attributes
  'CanaryHidden-Box-4410', 'CanaryHidden-Input-8812', 'CanaryUrl-Masked-9090',
  'CanaryTyped-Card-1049', 'CanaryTyped-Pw-2290', 'CanaryTyped-Notes-3381', // typed
  'CanaryAuto-Card-6671', 'CanaryAutoSilent-Card-6672', // autofill-like programmatic sets
  'CanaryScript-Text-7782', 'CanaryScript-Title-7783', 'CanaryScript-Node-7784', // script changes
  'CanaryReload-Card-8893', // restored on reload
  'CanaryHref-5150', // URL parameter of a masked link
];
const CONTROLS = ['VisibleControl-Plain-1111', 'VisibleControl-Url-2207', 'VisibleControl-AfterReload-3333'];

let ctx;
before(async () => {
  ctx = await setupCase('privacy-masking', {
    serverEnv: { COBROWSE_TEST_CAPTURE_FRAMES: captureFile, COBROWSE_DOM_RESTRICTIONS: policyFile, COBROWSE_STATIC_DIR: staticDirWith('privacy-fixture.html', path.join(here, 'page.html')) },
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

test('no masked canary reaches the server; controls do', { timeout: 180_000 }, async () => {
  await openCustomer(ctx, PAGE);
  const c = ctx.customer;

  // The customer sees which fields the agent cannot see.
  await waitIn(ctx, c, 'mask marker on #card', () =>
    getComputedStyle(document.getElementById('card')).outlineStyle === 'dashed');

  const token = await startSession(ctx);
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
  await c.locator('#control').pressSequentially('VisibleControl-Plain-1111');
  await waitReplicaHas('the control canary typed last reached the agent', 'VisibleControl-Plain-1111');

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

  const frames = captured();
  assert.ok(frames.length > 0, 'the server captured frames');
  const found = Object.fromEntries(CONTROLS.map((s) => [s, occurrences(frames, s)]));
  for (const s of CONTROLS) assert.ok(found[s] > 0, `control canary ${s} must be found (the scan works)`);
  const leaks = SECRETS.map((s) => [s, occurrences(frames, s)]).filter(([, n]) => n > 0);
  console.log(`# canary scan: ${frames.length} bytes of inbound frames, ${SECRETS.length} masked canaries, ` +
    `${leaks.length} found; controls found ${JSON.stringify(found)}`);
  assert.deepEqual(leaks, [], 'masked canaries reached the server');
  for (const s of SECRETS) assert.equal(await replicaText(s), false, `${s} in the replica`);
});
