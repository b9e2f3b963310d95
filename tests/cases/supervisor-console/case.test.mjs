// The supervisor console (www/admin/, served at /cobrowse/admin/) in a real browser. A supervisor
// (the server is given a supervisor token) opens the console, sees the live session of a
// customer on the site's origin with its agent and the page the customer is on, ends it (the
// customer sees the end), and finds it in the history by agent and by time range, a page at a
// time. The plain agent credential is refused (REST 403, and the page says so); so is a request
// with no credential (401). The observer link goes to the agent page with `observe=1`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  WAIT_MS, agentHeaders, agentUrl, openCustomer, setupCase, startSession, waitForAgentState,
  waitForCustomerState, waitIn,
} from '../../lib/harness.mjs';

const SUPERVISOR = 'e2e-supervisor-token-0123456789abcdef';
const supervisorHeaders = { authorization: `Bearer ${SUPERVISOR}` };

let ctx;
before(async () => {
  ctx = await setupCase('supervisor-console', {
    serverEnv: { COBROWSE_AUTH_SUPERVISOR_TOKEN: SUPERVISOR },
  });
});
after(async () => { await ctx?.close(); });

/** Opens the console in a fresh page and signs in with `credential`. */
async function openConsole(credential) {
  const page = await ctx.browser.newPage();
  const answer = await page.goto(ctx.url('/cobrowse/admin/'));
  assert.equal(answer.status(), 200);
  const csp = answer.headers()['content-security-policy'] || '';
  assert.match(csp, /script-src 'self';/, 'no inline script on the console');
  await waitIn(ctx, page, 'the console is ready', () => document.documentElement.dataset.adminReady === 'yes');
  await page.locator('#admin-credential').fill(credential);
  await page.locator('#admin-login button[type="submit"]').click();
  return page;
}

/** A session made and ended over REST (another customer, as far as history is concerned). */
async function endedSession() {
  const created = await fetch(ctx.url('/cobrowse/rest/live/sessions'), { method: 'POST' });
  assert.equal(created.status, 201);
  const { token } = await created.json();
  const stop = await fetch(ctx.url(`/cobrowse/rest/live/sessions/${token}/stop`), {
    method: 'POST', headers: supervisorHeaders,
  });
  assert.equal(stop.status, 200);
  return token;
}

/** The history table's session numbers, in order. */
const historyTokens = (page) => page.locator('#admin-history tbody tr')
  .evaluateAll((rows) => rows.map((r) => r.dataset.token));

/** Searches with the form's values set to `values` (ids without `admin-`), waits for `count` rows. */
async function search(page, values, count, what) {
  // The last answer's rows go first, so the wait below sees this search's.
  await page.evaluate((v) => {
    for (const [k, value] of Object.entries(v)) document.getElementById(`admin-${k}`).value = value;
    document.querySelector('#admin-history tbody').replaceChildren();
    document.getElementById('admin-page').textContent = '';
  }, values);
  await page.locator('#admin-search button[type="submit"]').click();
  await waitIn(ctx, page, what, (n) => document.querySelectorAll('#admin-history tbody tr').length === n
    && document.getElementById('admin-page').textContent !== '', count);
}

/** `ms` as a datetime-local value in the browser's time zone (seconds precision). */
const local = (page, ms) => page.evaluate((t) => {
  const d = new Date(t);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}, ms);

test('a supervisor sees a live session, ends it and finds it in the history', { timeout: 180_000 }, async () => {
  // Whole seconds: the range inputs have seconds precision.
  const start = Math.floor(Date.now() / 1000) * 1000;
  await openCustomer(ctx);
  const token = await startSession(ctx);
  await ctx.agent.goto(agentUrl(ctx, `sid=${token}`).replace('slave.html#', 'slave.html?agentId=jane#'));
  await waitForAgentState(ctx, 'active');
  await waitForCustomerState(ctx, 'active');

  const page = await openConsole(SUPERVISOR);
  const row = page.locator(`#admin-live tbody tr[data-token="${token}"]`);
  await row.waitFor({ timeout: WAIT_MS });
  await waitIn(ctx, page, 'the row names the agent', (t) => {
    const r = document.querySelector(`#admin-live tr[data-token="${t}"]`);
    return r?.dataset.state === 'active' && r.querySelector('.agents')?.textContent === 'jane';
  }, token);
  // The page the customer is on, on the site's origin, as its browser sent it.
  const shown = await row.locator('td.url').textContent();
  assert.ok(shown.startsWith(ctx.siteUrl('/demo/')), `current page: ${shown}`);
  const observe = await row.locator('a.observe').getAttribute('href');
  assert.ok(observe.endsWith(`/cobrowse/slave.html#sid=${token}&observe=1`), observe);
  assert.ok(!observe.includes(SUPERVISOR), 'the link does not carry the credential');

  // Ending takes two clicks; the customer sees the end.
  const end = row.locator('button.end');
  await end.click();
  await end.click();
  await waitForCustomerState(ctx, 'ended');
  await waitIn(ctx, page, 'the ended session leaves the live list',
    (t) => !document.querySelector(`#admin-live tr[data-token="${t}"]`), token);
  assert.match(await page.locator('#admin-status').textContent(), new RegExp(token));

  // Two more sessions, without an agent.
  const others = [await endedSession(), await endedSession()];
  const end_ = Date.now() + 1000;

  // By agent: only jane's, ended by the supervisor (api_stop).
  await search(page, { agent: 'jane' }, 1, 'one session of jane');
  assert.deepEqual(await historyTokens(page), [token]);
  assert.equal(await page.locator('#admin-history tbody tr td[data-reason]').getAttribute('data-reason'), 'api_stop');
  // Each row links its audit recording's replay page (the credential goes along only on a click).
  const found = page.locator('#admin-history tbody tr');
  const replayHref = await found.locator('a.replay').getAttribute('href');
  assert.equal(new URL(replayHref).pathname, '/cobrowse/replay.html');
  assert.equal(new URL(replayHref).hash, `#id=${await found.getAttribute('data-history-id')}`);

  // By time range: all three in [start, end), newest first; none in the hour before.
  const from = await local(page, start);
  const to = await local(page, end_);
  await search(page, { agent: '', from, to, limit: '20' }, 3, 'three sessions in the range');
  assert.deepEqual(await historyTokens(page), [others[1], others[0], token]);
  await search(page, { from: await local(page, start - 3_600_000), to: from }, 0, 'none before');
  assert.equal(await page.locator('#admin-history-empty').isVisible(), true);

  // Paging: two per page.
  await search(page, { from, to, limit: '2' }, 2, 'the first page of two');
  assert.deepEqual(await historyTokens(page), [others[1], others[0]]);
  assert.equal(await page.locator('#admin-prev').isDisabled(), true);
  await page.locator('#admin-next').click();
  await waitIn(ctx, page, 'the second page', () => document.getElementById('admin-page').textContent.includes('2')
    && document.querySelectorAll('#admin-history tbody tr').length === 1);
  assert.deepEqual(await historyTokens(page), [token]);
  assert.equal(await page.locator('#admin-next').isDisabled(), true);
  await page.locator('#admin-prev').click();
  await waitIn(ctx, page, 'back on the first page', () => document.getElementById('admin-page').textContent.includes('1')
    && document.querySelectorAll('#admin-history tbody tr').length === 2);
  await page.close();
});

test('an agent credential and no credential are refused', { timeout: 60_000 }, async () => {
  const list = ctx.url('/cobrowse/rest/supervisor/sessions');
  const none = await fetch(list);
  assert.equal(none.status, 401);
  assert.equal((await none.json()).error.code, 'unauthorized');
  const agent = await fetch(list, { headers: agentHeaders(ctx) });
  assert.equal(agent.status, 403);
  assert.equal((await agent.json()).error.code, 'forbidden');
  const history = await fetch(ctx.url('/cobrowse/rest/supervisor/history'), { headers: agentHeaders(ctx) });
  assert.equal(history.status, 403);

  // The page says so, and shows nothing.
  const page = await openConsole(ctx.agentToken);
  await waitIn(ctx, page, 'the refusal is shown', () =>
    document.getElementById('admin-status').dataset.error === 'forbidden');
  assert.match(await page.locator('#admin-status').textContent(), /no supervisor role/);
  assert.equal(await page.locator('#admin-main').isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('cobrowse-supervisor-auth')), null);
  await page.close();

  const stranger = await openConsole('f'.repeat(64));
  await waitIn(ctx, stranger, 'a made-up credential is refused', () =>
    document.getElementById('admin-status').dataset.error === 'unauthorized');
  assert.equal(await stranger.locator('#admin-main').isVisible(), false);
  await stranger.close();
});
