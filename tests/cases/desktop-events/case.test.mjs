// Agent desktop: the sample desktop page (www/desktop/), served from another origin than the
// Cobrowse server like a contact centre's desktop, starts from the pasted 9-digit number: it
// looks the number up over REST (a mistyped one is refused there), follows the session's event
// stream itself (the npm package's desktop client: a ticket, then a cross-origin EventSource),
// embeds slave.html in an iframe, and receives the session's events by postMessage while a real
// customer session runs: `state`, `join` and `activated` (with the real activation time, as the
// REST lookup says), then `ended` after the desktop stops the session over REST — the same
// events on both paths. The server lists the desktop's origin in static.agentDesktopOrigins;
// the agent page posts to that origin only.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  ROOT, WAIT_MS, openCustomer, sessionInfo, setupCase, startSession, waitForCustomerState, waitIn,
} from '../../lib/harness.mjs';

let ctx;
before(async () => {
  ctx = await setupCase('desktop-events', {
    serverEnv: ({ siteOrigin }) => ({ COBROWSE_STATIC_AGENT_DESKTOP_ORIGINS: siteOrigin }),
    site: { '/desktop/': path.join(ROOT, 'www', 'desktop') },
  });
});
after(async () => { await ctx?.close(); });

/** The events the desktop page listed (from the agent page, or `#desktop-stream`): `[{ type, token, text }]`. */
const listed = (page, list = '#desktop-events') => page.$$eval(`${list} li`, (lis) =>
  lis.map((li) => ({ type: li.dataset.type, token: li.dataset.token, text: li.textContent })));

test('the sample desktop receives the session events the embedded agent page posts', { timeout: 120_000 }, async () => {
  await openCustomer(ctx, '/demo/?still=1');
  const token = await startSession(ctx);

  const desk = ctx.agent;
  await desk.goto(ctx.siteUrl(`/desktop/index.html?server=${encodeURIComponent(ctx.server.url)}`));
  // A mistyped number is told by the REST lookup, and nothing opens.
  const wrong = token === '123456789' ? '987654321' : '123456789';
  await desk.locator('#desktop-sid').fill(wrong, { timeout: WAIT_MS });
  await desk.locator('#desktop-credential').fill(ctx.agentToken);
  await desk.locator('#desktop-start button[type="submit"]').click();
  await waitIn(ctx, desk, 'the lookup\'s refusal in #desktop-status', () =>
    document.querySelector('#desktop-status')?.dataset.error === 'unknown_session');
  assert.equal(await desk.locator('#desktop-agent').getAttribute('src'), null, 'no agent page for a wrong number');

  await desk.locator('#desktop-sid').fill(token.replace(/(\d{3})(?=\d)/g, '$1 '));
  await desk.locator('#desktop-start button[type="submit"]').click();

  await waitForCustomerState(ctx, 'active');
  await waitIn(ctx, desk, 'an `activated` event in the desktop', () =>
    document.querySelector('#desktop-events li[data-type="activated"]') !== null);
  const events = await listed(desk);
  assert.deepEqual(events.slice(0, 3).map((e) => e.type), ['state', 'join', 'activated'],
    `events: ${JSON.stringify(events)}`);
  assert.ok(events.every((e) => e.token === token), 'every event names the session');

  // The activation time the desktop got is the one the server keeps (not the creation time).
  const info = await sessionInfo(ctx, token);
  assert.equal(info.body.state, 'active');
  const activated = events.find((e) => e.type === 'activated');
  assert.ok(activated.text.includes(`activatedAt=${new Date(info.body.activatedAt).toISOString()}`),
    `${activated.text} vs activatedAt ${info.body.activatedAt}`);

  // The desktop ends the session over REST; the agent page reports the end.
  await desk.locator('#desktop-stop').click();
  await waitForCustomerState(ctx, 'ended');
  await waitIn(ctx, desk, 'an `ended` event in the desktop', () =>
    document.querySelector('#desktop-events li[data-type="ended"]') !== null);
  const ended = (await listed(desk)).find((e) => e.type === 'ended');
  assert.match(ended.text, /\(api_stop\)/);

  // The desktop's own stream saw the session from its idle start to the end, the same events.
  await waitIn(ctx, desk, 'an `ended` event on the desktop\'s stream', () =>
    document.querySelector('#desktop-stream li[data-type="ended"]') !== null);
  const stream = await listed(desk, '#desktop-stream');
  assert.deepEqual(stream.slice(0, 3).map((e) => e.type), ['state', 'join', 'activated'],
    `stream: ${JSON.stringify(stream)}`);
  assert.match(stream[0].text, /state=idle/);
  const same = (e) => e.text;
  assert.equal(same(stream.find((e) => e.type === 'activated')), same(activated));
  assert.equal(same(stream.find((e) => e.type === 'ended')), same(ended));
});
