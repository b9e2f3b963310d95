// Media state: the customer plays, pauses and seeks an <audio>; the agent's replica
// element follows (playing muted, paused, at the customer's time within a second).
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  AGENT, joinAgent, openCustomer, setupCase, startSession, waitForCustomerState,
  waitForReplica, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A mono 8 kHz 8-bit PCM WAV of `seconds` of silence. */
function silenceWav(seconds) {
  const n = 8000 * seconds;
  const b = Buffer.alloc(44 + n, 128);
  b.write('RIFF', 0); b.writeUInt32LE(36 + n, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24); b.writeUInt32LE(8000, 28); b.writeUInt16LE(1, 32); b.writeUInt16LE(8, 34);
  b.write('data', 36); b.writeUInt32LE(n, 40);
  return b;
}

let ctx;
before(async () => {
  ctx = await setupCase('media-state', {
    site: { '/fixture/media.html': path.join(here, 'page.html'), '/fixture/silence.wav': silenceWav(6) },
  });
});
after(async () => { await ctx?.close(); });

/** Waits until the replica's <audio> is playing (muted), or paused near `at` seconds. */
const replicaAudio = (at, what) => waitIn(ctx, ctx.agent, what, ([sel, t]) => {
  const el = document.querySelector(sel)?.contentDocument?.getElementById('a');
  if (!el) return false;
  return t === null ? !el.paused && el.muted : el.paused && Math.abs(el.currentTime - t) < 0.6;
}, [AGENT.replica, at]);

test('play, pause and seek of an <audio> follow on the agent side', { timeout: 120_000 }, async () => {
  await openCustomer(ctx, '/fixture/media.html');
  const token = await startSession(ctx);
  await joinAgent(ctx, token, { via: 'hash' });
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);

  await ctx.customer.evaluate(async () => { const a = document.getElementById('a'); a.muted = true; await a.play(); });
  await replicaAudio(null, 'replica audio playing (muted)');

  await ctx.customer.evaluate(() => { const a = document.getElementById('a'); a.pause(); a.currentTime = 3.5; });
  await replicaAudio(3.5, 'replica audio paused at 3.5 s');
  const t = await ctx.agent.evaluate((sel) => document.querySelector(sel).contentDocument.getElementById('a').currentTime, AGENT.replica);
  console.log(`# replica time after the customer's seek to 3.5 s: ${t.toFixed(2)} s`);
  assert.ok(Math.abs(t - 3.5) < 0.6);
});
