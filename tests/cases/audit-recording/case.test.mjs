// Audit recording end to end: with recording on for the customer's site (and only it), a session
// in which the agent takes control and clicks is stored; over REST only with the agent credential;
// the stored frames hold no masked canary (the customer's browser masked them) but do hold the
// unmasked control; the replay page (replay.html#id=…) marks the agent's actions and the mode
// changes, and seeking to a moment rebuilds the replica exactly as the live agent saw it then
// (the same DOM normal form as the live comparison), also seeking back after the end; both
// pointers are drawn; playing runs to the end.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  agentHeaders, joinAgent, openCustomer, sessionInfo, setupCase, startSession, waitForCustomerState,
  waitForReplica, waitIn, WAIT_MS,
} from '../../lib/harness.mjs';
import { normaliseInBrowser } from '../../lib/dom.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-audit-'));
const policyFile = path.join(tmp, 'dom-restrictions.json');
fs.writeFileSync(policyFile, JSON.stringify({ version: 1, rules: [{ selector: '.secret', action: 'mask' }] }));

const PAGE = '/demo/audit-fixture.html';
const CANARIES = ['CanaryRec-Card-9911', 'CanaryRec-Typed-9912'];
const CONTROL = 'VisibleControl-Rec-1234';

let ctx;
before(async () => {
  ctx = await setupCase('audit-recording', {
    serverEnv: ({ siteOrigin }) => ({
      COBROWSE_DOM_RESTRICTIONS: policyFile,
      COBROWSE_RECORDING_ENABLED: 'true',
      // Only the customer's site: the per-site switch is what an operator sets.
      COBROWSE_RECORDING_ORIGINS: siteOrigin,
      COBROWSE_RECORDING_CHUNK_BYTES: '1024',
    }),
    site: { [PAGE]: path.join(here, 'page.html') },
  });
});
after(async () => { await ctx?.close(); });

/** The recording's entries (`cobrowse_protocol::recording`): magic, then at/source/len/frame. */
function parseRecording(buf) {
  assert.equal(buf.subarray(0, 8).toString('latin1'), 'CBREC01\n');
  const out = [];
  let pos = 8;
  while (pos < buf.length) {
    const at = Number(buf.readBigUInt64LE(pos));
    const source = buf[pos + 8];
    const len = buf.readUInt32LE(pos + 9);
    out.push({ at, source, frame: buf.subarray(pos + 13, pos + 13 + len) });
    pos += 13 + len;
  }
  assert.equal(pos, buf.length, 'entries end exactly at the end');
  return out;
}

function occurrences(buf, s) {
  let n = 0;
  for (const needle of [Buffer.from(s, 'utf8'), Buffer.from(s, 'utf16le')]) {
    let i = buf.indexOf(needle);
    while (i !== -1) { n++; i = buf.indexOf(needle, i + 1); }
  }
  return n;
}

async function rest(p, headers = agentHeaders(ctx)) {
  return fetch(ctx.url(`/cobrowse/rest/history/sessions/${p}`), { headers });
}

/** The replica's normal form on `page` (the live agent page or the replay page). */
async function replicaForm(page, baseUrl) {
  const f = await page.evaluate(normaliseInBrowser, { which: 'replica', baseUrl });
  assert.ok(!f.error, f.error);
  return { title: f.title, body: f.body };
}

async function agentClick(id) {
  const p = await ctx.agent.evaluate((id) => {
    const f = document.getElementById('cobrowse-replica');
    const fr = f.getBoundingClientRect();
    const scale = fr.width / f.offsetWidth || 1;
    const r = f.contentDocument.getElementById(id).getBoundingClientRect();
    return { x: fr.left + f.clientLeft + (r.left + r.width / 2) * scale, y: fr.top + f.clientTop + (r.top + r.height / 2) * scale };
  }, id);
  await ctx.agent.mouse.move(p.x - 5, p.y - 5);
  await ctx.agent.mouse.click(p.x, p.y);
}

/** Waits until the live replica's text includes `text` (the page masks a field, so the replica
 * never equals the customer's page as a whole: that is the point). */
async function replicaHas(text) {
  await waitIn(ctx, ctx.agent, `replica shows ${JSON.stringify(text)}`, (t) => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    return !!doc?.body && (doc.body.textContent.includes(t) || [...doc.querySelectorAll('input')].some((e) => e.value.includes(t)));
  }, text);
}

async function seek(page, offset) {
  await page.evaluate((v) => {
    const s = document.getElementById('cobrowse-replay-seek');
    s.value = String(v);
    s.dispatchEvent(new Event('input', { bubbles: true }));
  }, offset);
}

test('a recorded session is stored, masked, and replayed and seeked as the agent saw it', { timeout: 180_000 }, async () => {
  await openCustomer(ctx, PAGE);
  const c = ctx.customer;
  await c.locator('#card').fill(CANARIES[0]);
  await c.locator('#name').fill(CONTROL);
  const token = await startSession(ctx);
  const { body: live } = await sessionInfo(ctx, token);
  const historyId = live.historyId;
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');
  await replicaHas(CONTROL);
  await c.locator('#card').pressSequentially(CANARIES[1]);
  await c.mouse.move(40, 30);
  await c.mouse.move(60, 50);

  // Write mode: requested, granted by the customer, then the agent clicks the page's button.
  await ctx.agent.locator('#cobrowse-request-control').click();
  const grant = c.locator('[data-cobrowse-action="grant"]').first();
  await grant.waitFor({ state: 'visible' });
  await grant.click();
  await waitIn(ctx, ctx.agent, 'agent in write mode', () => document.documentElement.dataset.cobrowseMode === 'write');
  await agentClick('go');
  await waitIn(ctx, c, 'customer shows the agent\'s click', () => document.getElementById('log').textContent === 'Clicked 1');
  await replicaHas('Clicked 1');

  // What the agent sees now, and when (the server's clock is this machine's clock).
  const baseUrl = await c.evaluate(() => document.baseURI);
  const seen = await replicaForm(ctx.agent, baseUrl);
  const seenAt = Date.now();
  assert.match(JSON.stringify(seen.body), /Clicked 1/);

  // A later change, then the agent ends the session.
  await agentClick('go');
  await waitIn(ctx, c, 'second click', () => document.getElementById('log').textContent === 'Clicked 1Clicked 2');
  await replicaHas('Clicked 2');
  const finalForm = await replicaForm(ctx.agent, baseUrl);
  await ctx.agent.locator('#cobrowse-exit').click();
  await waitForCustomerState(ctx, 'ended');

  // Stored over REST: the agent credential is required; the last chunk lands after the end.
  assert.equal((await rest(`${historyId}/recording`, {})).status, 401);
  assert.equal((await rest(`${historyId}/recording/frames`, { authorization: 'Bearer wrong' })).status, 401);
  let entries;
  let bytes;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const r = await rest(`${historyId}/recording/frames`);
    if (r.status === 200) {
      bytes = Buffer.from(await r.arrayBuffer());
      entries = parseRecording(bytes);
      // The session's end (a server event) is the last thing recorded.
      if (entries.length && entries.at(-1).source === 2) break;
    }
    if (Date.now() > deadline) throw ctx.fail(`recording never complete (last HTTP ${r.status})`);
    await new Promise((res) => setTimeout(res, 100));
  }
  const info = await (await rest(`${historyId}/recording`)).json();
  assert.equal(info.historyId, historyId);
  assert.equal(info.frames, entries.length);
  assert.equal(info.bytes, bytes.length - 8);
  assert.ok(info.chunks > 1, `bounded chunks: ${JSON.stringify(info)}`);
  assert.ok(entries.some((e) => e.source === 1), 'agent frames recorded');

  // The canary scan over the stored recording: masked values never, the control yes.
  for (const s of CANARIES) assert.equal(occurrences(bytes, s), 0, `masked ${s} is in the stored recording`);
  assert.ok(occurrences(bytes, CONTROL) > 0, 'the unmasked control is recorded (the scan can fail)');

  // Replay page, on the server's origin, with the agent credential in the fragment.
  const replay = ctx.agent;
  await replay.goto(ctx.url(`/cobrowse/replay.html#id=${historyId}&auth=${encodeURIComponent(ctx.agentToken)}`));
  await waitIn(ctx, replay, 'replay ready', () => document.documentElement.dataset.cobrowseReplay === 'paused');
  const startedAt = Number(await replay.evaluate(() => document.documentElement.dataset.startedAt));
  assert.equal(startedAt, entries[0].at);
  const kinds = await replay.evaluate(() => [...document.querySelectorAll('.cobrowse-replay-marker')].map((m) => m.dataset.kind));
  assert.ok(kinds.filter((k) => k === 'action').length >= 2, `action markers: ${kinds}`);
  assert.ok(kinds.filter((k) => k === 'mode').length >= 2, `mode markers (request, grant): ${kinds}`);

  // Seek to the moment captured: the replica equals what the agent saw then.
  await seek(replay, seenAt - startedAt);
  assert.deepEqual(await replicaForm(replay, baseUrl), seen);
  // Both pointers were on the page then (the agent's over the button it had just clicked).
  const pointers = await replay.evaluate(() => ['customer', 'agent'].map((p) => !document.getElementById(`cobrowse-pointer-${p}`).hidden));
  assert.deepEqual(pointers, [true, true], 'both pointers shown');
  // To the end: the final state; and back: rebuilt from a snapshot.
  await seek(replay, entries.at(-1).at - startedAt);
  assert.deepEqual(await replicaForm(replay, baseUrl), finalForm);
  await seek(replay, seenAt - startedAt);
  assert.deepEqual(await replicaForm(replay, baseUrl), seen);

  // Play at 2× from the start (the recording lasts seconds: long enough to see it playing): it
  // runs to the end and stops there.
  await seek(replay, 0);
  await replay.locator('#cobrowse-replay-speed').selectOption('2');
  await replay.locator('#cobrowse-replay-play').click();
  await waitIn(ctx, replay, 'playing', () => document.documentElement.dataset.cobrowseReplay === 'playing');
  await waitIn(ctx, replay, 'played to the end', () => document.documentElement.dataset.cobrowseReplay === 'paused');
  assert.deepEqual(await replicaForm(replay, baseUrl), finalForm);

  // A session of a site without recording would answer 404 like an unknown id.
  assert.equal((await rest(`${crypto.randomUUID()}/recording`)).status, 404);
});

// Storage cost: a realistic minute of co-browsing on the demo checkout form — the customer's
// pointer moving the whole time (real mouse events, ~30 per second before the client coalesces
// them), typing into fields, scrolling; the agent's pointer following. The recording's bytes per
// session-minute are written to tests/results/audit-recording/recording-cost.json (README and
// server/README quote them).
test('storage cost per session-minute of a realistic session', { timeout: 180_000 }, async () => {
  const MINUTE = 60_000;
  await openCustomer(ctx, '/demo/form.html');
  const token = await startSession(ctx);
  const { body: live } = await sessionInfo(ctx, token);
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);
  const c = ctx.customer;
  const start = Date.now();
  const text = 'Kari Nordmann, Storgata 1, 0155 Oslo';
  let i = 0;
  while (Date.now() - start < MINUTE) {
    // A second of activity: pointers, a few keys, now and then a scroll.
    for (let k = 0; k < 30; k++) {
      const x = 100 + ((i * 7 + k * 5) % 500);
      const y = 100 + ((i * 11 + k * 3) % 400);
      await c.mouse.move(x, y);
      await ctx.agent.mouse.move(200 + (x % 300), 150 + (y % 200));
      await new Promise((r) => setTimeout(r, 33));
    }
    if (i % 2 === 0) await c.locator('#name').pressSequentially(text[i % text.length]);
    if (i % 10 === 5) await c.mouse.wheel(0, i % 20 === 5 ? 300 : -300);
    i++;
  }
  const seconds = (Date.now() - start) / 1000;
  await ctx.agent.locator('#cobrowse-exit').click();
  await waitForCustomerState(ctx, 'ended');
  let info;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const r = await rest(`${live.historyId}/recording`);
    if (r.status === 200) {
      info = await r.json();
      const frames = parseRecording(Buffer.from(await (await rest(`${live.historyId}/recording/frames`)).arrayBuffer()));
      if (frames.at(-1)?.source === 2) break;
    }
    if (Date.now() > deadline) throw ctx.fail('recording never complete');
    await new Promise((res) => setTimeout(res, 100));
  }
  const perMinute = Math.round((info.bytes / seconds) * 60);
  const result = { seconds, bytes: info.bytes, frames: info.frames, chunks: info.chunks, bytesPerMinute: perMinute };
  fs.writeFileSync(path.join(ctx.resultsDir, 'recording-cost.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`recording cost: ${JSON.stringify(result)}`);
  assert.ok(info.frames > 0 && info.bytes > 0);
});
