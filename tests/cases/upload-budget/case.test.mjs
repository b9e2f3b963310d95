// Mutation storms: a page that rewrites its DOM task after task for seconds (10,000 attribute
// changes and 1,000 items of 10 nodes per task) costs the customer's uplink at most the upload
// budget — a burst plus a steady rate, plus the one snapshot that resyncs the agent — and the
// agent still ends up with the page's final state. With the budget switched off in the site's
// config the same storm sends far more, so the bound is one the storm really tests.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { framesOf } from '../../lib/frames.mjs';
import { activeSession, setupCase, waitForCustomerState, waitForReplica } from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// The budget's documented defaults (`uploadBudget` in js-shim/README.md).
const BURST = 1024 * 1024;
const RATE = 25 * 1024;
// protocol::tags of the frames the budget pays for: Snapshot, then Mutations, Form, Sheet,
// Media, Canvas, Selection, Paint.
const SNAPSHOT = 4;
const COUNTED = new Set([SNAPSHOT, 5, 6, 12, 22, 23, 24, 26]);
// How long the page's script runs wild (its own clock).
const STORM_MS = 8000;

let ctx;
let captureFile;
before(async () => {
  captureFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-e2e-budget-cap-')), 'frames.bin');
  ctx = await setupCase('upload-budget', {
    serverEnv: { COBROWSE_TEST_CAPTURE_FRAMES: captureFile },
    site: { '/fixture/storm.html': path.join(here, 'page.html') },
  });
});
after(async () => { await ctx?.close(); });

const captured = () => (fs.existsSync(captureFile) ? fs.readFileSync(captureFile) : Buffer.alloc(0));

/** The counted frames the server received after byte `from` of the capture: their bytes as the
 * customer's budget weighs them (the frame inside a link's `Seq`), and the largest snapshot. */
function countedSince(from) {
  const buf = captured();
  let bytes = 0;
  let snapshots = 0;
  let largestSnapshot = 0;
  for (let at = from; at + 4 <= buf.length;) {
    const len = buf.readUInt32BE(at);
    if (at + 4 + len > buf.length) break;
    for (const f of framesOf(buf.subarray(at + 4, at + 4 + len))) {
      if (f[0] === 1 && COUNTED.has(f[1])) {
        bytes += f.length;
        if (f[1] === SNAPSHOT) { snapshots += 1; largestSnapshot = Math.max(largestSnapshot, f.length); }
      }
    }
    at += 4 + len;
  }
  return { bytes, snapshots, largestSnapshot };
}

/** Runs the storm in a fresh session on the page, waits until the replica equals the page, and
 * returns what the customer sent from just before the storm until then. */
async function stormOn(pagePath) {
  await activeSession(ctx, pagePath);
  const from = captured().length;
  const started = Date.now();
  const run = await ctx.customer.evaluate((ms) => window.storm(ms), STORM_MS);
  await waitForReplica(ctx, { timeout: 180_000 });
  const elapsed = (Date.now() - started) / 1000;
  const sent = countedSince(from);
  const bound = BURST + RATE * elapsed + sent.largestSnapshot;
  console.log(`# ${pagePath}: ${run.rounds} rounds in ${run.ms} ms; ${sent.bytes} bytes counted ` +
    `(${sent.snapshots} snapshots, largest ${sent.largestSnapshot}) in ${elapsed.toFixed(1)} s to an ` +
    `equal replica; budget bound ${Math.round(bound)}`);
  return { ...sent, elapsed, bound, rounds: run.rounds };
}

let on;
test('within the budget: burst + rate × elapsed + one snapshot, and the replica ends equal', { timeout: 300_000 }, async () => {
  on = await stormOn('/fixture/storm.html');
  assert.ok(on.rounds >= 3, `the storm ran ${on.rounds} rounds`);
  assert.ok(on.bytes <= on.bound, `${on.bytes} bytes sent, over the budget's ${Math.round(on.bound)}`);
  assert.ok(on.snapshots >= 1, 'the agent was resynced by a snapshot');
});

test('without the budget (uploadBudget.unlimited) the same storm sends far more', { timeout: 300_000 }, async () => {
  assert.ok(on, 'the first test ran');
  await ctx.customer.evaluate(() => window.Cobrowse.stop());
  await waitForCustomerState(ctx, 'ended');
  const off = await stormOn('/fixture/storm.html?budget=off');
  console.log(`# budget on: ${on.bytes} bytes; off: ${off.bytes} bytes (${(off.bytes / on.bytes).toFixed(1)}×)`);
  assert.ok(off.bytes > off.bound, `off: ${off.bytes} bytes, within the bound ${Math.round(off.bound)}: ` +
    'the storm is too small to test the budget');
  assert.ok(off.bytes > 2 * on.bytes, `off: ${off.bytes} bytes, on: ${on.bytes}`);
});
