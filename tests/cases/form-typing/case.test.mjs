// Form typing: every kind of field, typed with real key events, shows on the agent's side; the
// password shows as a same-length placeholder and its value never leaves the customer's browser
// (checked on every WebSocket frame the customer's page sent).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { activeSession, setupCase, waitForReplica } from '../../lib/harness.mjs';

const CANARY = 'Canary-Pw-93741';

let ctx;
before(async () => { ctx = await setupCase('form-typing'); });
after(async () => { await ctx?.close(); });

test('typed values, checks, radio and select follow; the password never leaves', { timeout: 120_000 }, async () => {
  const sent = [];
  ctx.customer.on('websocket', (ws) => {
    ws.on('framesent', (frame) => sent.push(Buffer.from(frame.payload)));
  });
  await activeSession(ctx, '/demo/form.html');
  const c = ctx.customer;

  await c.locator('#name').pressSequentially('Kari Nordmann');
  await c.locator('#email').fill('kari.nordmann@example.invalid');
  await c.locator('#password').pressSequentially(CANARY);
  await c.locator('#qty').fill('3');
  await c.locator('#country').selectOption('dk');
  await c.locator('#delivery-express').check();
  await c.locator('#newsletter').check();
  await c.locator('#terms').uncheck();
  await c.locator('#notes').fill('');
  await c.locator('#notes').pressSequentially('Ring twice,\nthen wait.');
  await waitForReplica(ctx);

  const replica = await ctx.agent.evaluate(() => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    return {
      name: doc.getElementById('name').value,
      password: doc.getElementById('password').value,
      html: doc.documentElement.outerHTML,
    };
  });
  assert.equal(replica.name, 'Kari Nordmann');
  assert.equal(replica.password.length, CANARY.length, 'the agent sees a placeholder of the same length');
  assert.notEqual(replica.password, CANARY);
  assert.ok(!replica.html.includes(CANARY), 'the password is nowhere in the replica');

  assert.ok(sent.length > 0, 'the customer page sent WebSocket frames');
  const leaked = sent.filter((b) => b.includes(CANARY) || b.includes(Buffer.from(CANARY, 'utf16le')));
  assert.equal(leaked.length, 0, `${leaked.length} of ${sent.length} frames carried the password`);
});
