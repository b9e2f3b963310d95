// Defence in depth, customer side: the customer takes control back, but its `Mode(Revoked)` frame
// is dropped on the way (playwright's WebSocket route), so the server still believes write mode
// and relays the agent's next action. The customer's page must refuse it by itself: nothing
// happens on the page, the agent sees the refusal, and the refusal frame in the server's capture
// came from the customer. (The server's own refusal outside write mode is proven by
// `cargo test -p cobrowse-server --test it modes::`.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { framesOf } from '../../lib/frames.mjs';
import { WAIT_MS, activeSession, setupCase, waitIn } from '../../lib/harness.mjs';

const TAG_MODE = 14; // protocol::tags::MODE
const TAG_REFUSED = 16; // protocol::tags::REFUSED
const REVOKED = 3; // ModeChange::Revoked variant index
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-refuse-'));
const captureFile = path.join(tmp, 'frames.bin');

let ctx;
before(async () => {
  ctx = await setupCase('customer-refuses', { serverEnv: { COBROWSE_TEST_CAPTURE_FRAMES: captureFile } });
});
after(async () => { await ctx?.close(); });

/** The inbound frames of the capture file (4-byte big-endian length + bytes each). */
function frames() {
  const buf = fs.readFileSync(captureFile);
  const out = [];
  for (let i = 0; i + 4 <= buf.length;) {
    const n = buf.readUInt32BE(i);
    out.push(buf.subarray(i + 4, i + 4 + n));
    i += 4 + n;
  }
  return out;
}

test('the customer refuses an action the server let through', { timeout: 120_000 }, async () => {
  let dropRevoke = true;
  let dropped = 0;
  await ctx.customer.routeWebSocket(/\/cobrowse\/ws$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      // The whole message goes when it carries the revoke (with whatever else its task sent).
      const carried = typeof m === 'string' ? [] : framesOf(m);
      if (dropRevoke && carried.some((f) => f[1] === TAG_MODE && f[2] === REVOKED)) {
        dropped++;
        return;
      }
      server.send(m);
    });
  });
  await activeSession(ctx, '/demo/form.html');
  await ctx.agent.locator('#cobrowse-request-control').click();
  const ui = (a) => ctx.customer.locator(`[data-cobrowse-action="${a}"]`).first();
  await ui('grant').click();
  await waitIn(ctx, ctx.agent, 'agent in write mode', () => document.documentElement.dataset.cobrowseMode === 'write');

  await ui('revoke').click();
  // Wait for the observable: the route saw (and dropped) the Revoked frame.
  for (const deadline = Date.now() + WAIT_MS; dropped === 0;) {
    if (Date.now() > deadline) throw ctx.fail('the customer never sent Mode(Revoked)');
    await new Promise((r) => setTimeout(r, 10)); // polling an observable, not a fixed delay
  }
  assert.equal(dropped, 1, 'the customer sent exactly one Revoked, which was dropped');
  assert.equal(await ctx.agent.evaluate(() => document.documentElement.dataset.cobrowseMode), 'write',
    'the agent was not told (the server never heard the revoke)');

  // The agent types into #name: the server relays the action, the customer refuses it.
  const p = await ctx.agent.evaluate(() => {
    const f = document.getElementById('cobrowse-replica');
    const fr = f.getBoundingClientRect();
    const r = f.contentDocument.getElementById('name').getBoundingClientRect();
    return { x: fr.left + f.clientLeft + r.left + r.width / 2, y: fr.top + f.clientTop + r.top + r.height / 2 };
  });
  await ctx.agent.mouse.click(p.x, p.y);
  await ctx.agent.keyboard.type('agent');
  await waitIn(ctx, ctx.agent, 'refusal shown to the agent', () =>
    /refused/i.test(document.getElementById('cobrowse-mode').textContent)
    && document.getElementById('cobrowse-mode').dataset.refusal === 'not_in_write_mode');
  assert.equal(await ctx.customer.locator('#name').inputValue(), '', 'nothing was typed on the page');
  const refusals = frames().flatMap(framesOf).filter((f) => f[1] === TAG_REFUSED);
  assert.ok(refusals.length > 0, 'the refusal came from the customer (agents never send Refused)');
  console.log(`# customer-side refusals captured: ${refusals.length}`);
});
