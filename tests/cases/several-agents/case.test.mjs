// Several agents in one session, in real pages: the customer on the site's origin, two agents on
// slave.html with desktop JWTs (their `sub` is who they are). The second joins as an observer
// (`#sid=N&observe=1`), sees the live replica and cannot act (its request and its clicks in write
// mode are refused, shown as `not_in_control`); it asks for control, the first agent gives it; the
// session drops back to pointer mode, and the new controller acts only after the customer consents
// again. The customer's UI lists who is watching, by identity, and follows the first agent leaving.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  agentUrl, openCustomer, setupCase, startSession, waitForAgentState, waitForCustomerState,
  waitForReplica, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PAGE = '/fixture/several-agents.html';
const SECRET = crypto.randomBytes(32).toString('hex');

/** An HS256 JWT for `sub`, signed like an agent desktop would. */
function jwt(sub) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 600;
  const signed = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp })}`;
  return `${signed}.${crypto.createHmac('sha256', SECRET).update(signed).digest('base64url')}`;
}

let ctx;
before(async () => {
  ctx = await setupCase('several-agents', {
    serverEnv: { COBROWSE_AUTH_JWT_SECRET: SECRET },
    site: { [PAGE]: path.join(here, 'page.html') },
  });
});
after(async () => { await ctx?.close(); });

const customerUi = (action) => ctx.customer.locator(`[data-cobrowse-action="${action}"]`).first();

/** The customer UI's watcher list as `name:control` strings (inside its open shadow root). */
async function watchers(expected) {
  await waitIn(ctx, ctx.customer, `customer lists ${JSON.stringify(expected)}`, (want) => {
    const root = document.querySelector('[data-cobrowse-ui]')?.shadowRoot;
    const items = [...(root?.querySelectorAll('[data-cobrowse-watcher]') ?? [])];
    const got = items.map((li) => `${li.dataset.agent}:${li.dataset.control}`);
    const shown = items.every((li) => li.textContent.includes(li.dataset.agent) && li.offsetParent !== null);
    return shown && JSON.stringify(got) === JSON.stringify(want);
  }, expected);
}

async function control(page, role) {
  await waitIn(ctx, page, `<html data-cobrowse-control="${role}">`,
    (r) => document.documentElement.dataset.cobrowseControl === r, role);
}

async function mode(page, m) {
  await waitIn(ctx, page, `<html data-cobrowse-mode="${m}">`,
    (m) => document.documentElement.dataset.cobrowseMode === m, m);
}

async function refusal(page, code) {
  await waitIn(ctx, page, `#cobrowse-mode[data-refusal="${code}"]`,
    (c) => document.getElementById('cobrowse-mode')?.dataset.refusal === c, code);
}

/** Clicks the centre of the replica element #id as that agent (on the overlay above it). */
async function replicaClick(page, id) {
  const p = await page.evaluate((id) => {
    const f = document.getElementById('cobrowse-replica');
    const fr = f.getBoundingClientRect();
    const scale = fr.width / f.offsetWidth || 1;
    const r = f.contentDocument.getElementById(id).getBoundingClientRect();
    return { x: fr.left + f.clientLeft + (r.left + r.width / 2) * scale, y: fr.top + f.clientTop + (r.top + r.height / 2) * scale };
  }, id);
  await page.mouse.click(p.x, p.y);
}

async function pressed(n) {
  await waitIn(ctx, ctx.customer, `the page counted ${n} press(es)`,
    (n) => document.getElementById('pressed')?.textContent === String(n), n);
}

async function grantWriteMode(page) {
  await page.locator('#cobrowse-request-control').click();
  await customerUi('grant').waitFor({ state: 'visible' });
  await customerUi('grant').click();
  await mode(page, 'write');
}

test('an observer watches, cannot act, gets control handed over and needs consent again', { timeout: 180_000 }, async () => {
  await openCustomer(ctx, PAGE);
  const token = await startSession(ctx);

  // Alice joins as the agent: she holds control, and the customer sees her name.
  const alice = ctx.agent;
  await alice.goto(agentUrl(ctx, `sid=${token}`, { auth: jwt('alice@desk') }));
  await waitForAgentState(ctx, 'active', alice);
  await waitForCustomerState(ctx, 'active');
  await control(alice, 'control');
  await watchers(['alice@desk:true']);

  // Bob, a supervisor, joins to watch (the fragment a supervisor console links to).
  const bob = await ctx.browser.newPage('bob');
  await bob.goto(agentUrl(ctx, `sid=${token}&observe=1`, { auth: jwt('bob@sup') }));
  await waitForAgentState(ctx, 'active', bob);
  await control(bob, 'observe');
  await waitForReplica(ctx, { agent: bob });
  await watchers(['alice@desk:true', 'bob@sup:false']);
  assert.equal(await bob.locator('#cobrowse-agents li[data-control="true"]').getAttribute('data-agent'), 'alice@desk');
  assert.equal(await bob.locator('#cobrowse-ask-control').isVisible(), true, 'an observer may ask for control');
  assert.equal(await alice.locator('#cobrowse-ask-control').isVisible(), false, 'the controller has nothing to ask');

  // Live: a change on the customer's page reaches the observer's replica.
  await ctx.customer.locator('#press').click();
  await pressed(1);
  await waitForReplica(ctx, { agent: bob });

  // The observer cannot act: its write-mode request is refused, visibly, and never reaches the
  // customer; in write mode (granted to alice) its click is refused too and the page is untouched.
  await bob.locator('#cobrowse-request-control').click();
  await refusal(bob, 'not_in_control');
  assert.equal(await customerUi('grant').isVisible(), false, 'no consent dialog for the observer');
  await grantWriteMode(alice);
  await mode(bob, 'write');
  await replicaClick(bob, 'press');
  await refusal(bob, 'not_in_control');
  await replicaClick(alice, 'press');
  await pressed(2);

  // Hand-over: bob asks, alice is asked (with his name) and gives.
  await bob.locator('#cobrowse-ask-control').click();
  await alice.locator('#cobrowse-control-request').waitFor({ state: 'visible' });
  assert.match(await alice.locator('#cobrowse-control-request').textContent(), /bob@sup/);
  await alice.locator('#cobrowse-give-control').click();
  await control(bob, 'control');
  await control(alice, 'observe');
  await watchers(['alice@desk:false', 'bob@sup:true']);

  // Write mode does not pass with control: everyone is back in pointer mode, bob's click only
  // points, and he acts after the customer consents again.
  await mode(bob, 'pointer');
  await mode(alice, 'pointer');
  await replicaClick(bob, 'press');
  await grantWriteMode(bob);
  await replicaClick(bob, 'press');
  await pressed(3);
  await replicaClick(alice, 'press');
  await refusal(alice, 'not_in_control');

  // Alice leaves; the session goes on with bob, and the customer's list follows.
  await alice.locator('#cobrowse-exit').click();
  await waitForAgentState(ctx, 'ended', alice);
  await watchers(['bob@sup:true']);
  await waitForCustomerState(ctx, 'active');
  await replicaClick(bob, 'press');
  await pressed(4);
});
