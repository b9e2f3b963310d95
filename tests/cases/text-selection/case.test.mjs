// Text selection: what the customer selects — a word, a drag across elements, text in
// an input and a textarea — is selected in the replica too (same text, same control offsets). In
// masked content (a site mask rule, a password) the offsets the agent gets count placeholder
// characters, so a selection says nothing the same-length placeholder does not already show.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { framesOf } from '../../lib/frames.mjs';
import {
  joinAgent, openCustomer, setupCase, startSession, waitForCustomerState, waitForReplica,
  waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

let ctx;
let captureFile;

/** Selection frames (version 1, tag 24; inside `Seq` frames on a link) the server has received
 * so far, and their bytes. */
function selectionFrames() {
  const buf = fs.existsSync(captureFile) ? fs.readFileSync(captureFile) : Buffer.alloc(0);
  let n = 0;
  let bytes = 0;
  for (let at = 0; at + 4 <= buf.length;) {
    const len = buf.readUInt32BE(at);
    for (const f of framesOf(buf.subarray(at + 4, at + 4 + len))) {
      if (f[0] === 1 && f[1] === 24) { n += 1; bytes += f.length; }
    }
    at += 4 + len;
  }
  return { n, bytes };
}

before(async () => {
  captureFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-e2e-selection-cap-')), 'frames.bin');
  ctx = await setupCase('text-selection', {
    serverEnv: { COBROWSE_TEST_CAPTURE_FRAMES: captureFile },
    site: { '/fixture/selection.html': path.join(here, 'page.html') },
  });
});
after(async () => { await ctx?.close(); });

/** The document selection's text on the customer's page. */
const customerText = () => ctx.customer.evaluate(() => getSelection().toString());

/** Waits until the replica's document selection reads `text`. */
async function replicaSelects(text, what) {
  await waitIn(ctx, ctx.agent, `replica selection ${what}: ${JSON.stringify(text)}`, (t) => {
    const doc = document.getElementById('cobrowse-replica').contentDocument;
    return doc?.getSelection()?.toString() === t;
  }, text);
}

/** Waits until replica control `id` has selection [start, end]. */
async function replicaControl(id, start, end) {
  await waitIn(ctx, ctx.agent, `replica #${id} selection ${start}..${end}`, ([i, s, e]) => {
    const el = document.getElementById('cobrowse-replica').contentDocument?.getElementById(i);
    return el && el.selectionStart === s && el.selectionEnd === e;
  }, [id, start, end]);
}

test('the customer\'s selection shows in the replica, masked content by placeholder offsets', { timeout: 120_000 }, async () => {
  await openCustomer(ctx, '/fixture/selection.html');
  const token = await startSession(ctx);
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);

  // A double-clicked word.
  await ctx.customer.dblclick('#one b');
  const word = await customerText();
  assert.equal(word.trim(), 'quick');
  await replicaSelects(word, 'double-clicked word');

  // A drag from the first paragraph into the second (boundaries in different elements).
  const a = await ctx.customer.locator('#one b').boundingBox();
  const b = await ctx.customer.locator('#two i').boundingBox();
  await ctx.customer.click('h1'); // collapses the word's selection (a press inside it would drag it)
  await ctx.customer.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  const beforeDrag = selectionFrames();
  await ctx.customer.evaluate(() => {
    window.__selChanges = 0;
    document.addEventListener('selectionchange', () => { window.__selChanges += 1; });
  });
  await ctx.customer.mouse.down();
  await ctx.customer.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await ctx.customer.mouse.up();
  const dragged = await customerText();
  assert.match(dragged, /ick brown[\s\S]*Pack my box/, `selection spans both paragraphs: ${JSON.stringify(dragged)}`);
  await replicaSelects(dragged, 'drag across paragraphs');
  const afterDrag = selectionFrames();
  const events = await ctx.customer.evaluate(() => window.__selChanges);
  console.log(`# drag: ${events} selectionchange events on the page, ${afterDrag.n - beforeDrag.n} Selection frames ` +
    `sent (${afterDrag.bytes - beforeDrag.bytes} bytes; one per animation frame at most, only when changed)`);

  // Text controls: keyboard selection in an input and a textarea.
  await ctx.customer.click('#name');
  await ctx.customer.keyboard.press('End');
  for (let i = 0; i < 8; i++) await ctx.customer.keyboard.press('Shift+ArrowLeft');
  assert.deepEqual(await ctx.customer.evaluate(() => [document.activeElement.selectionStart, document.activeElement.selectionEnd]), [4, 12]);
  await replicaControl('name', 4, 12);
  await ctx.customer.click('#note');
  await ctx.customer.keyboard.press('Control+Home');
  await ctx.customer.keyboard.press('Shift+ArrowDown');
  const noteSel = await ctx.customer.evaluate(() => [document.activeElement.selectionStart, document.activeElement.selectionEnd]);
  assert.ok(noteSel[1] > noteSel[0]);
  await replicaControl('note', noteSel[0], noteSel[1]);

  // Clicking elsewhere (a caret, no selection) clears the replica's selection.
  await ctx.customer.click('#elsewhere');
  await ctx.customer.evaluate(() => getSelection().removeAllRanges());
  await replicaSelects('', 'cleared');

  // Masked text (site rule): "😀😀 1234 end", the customer selects "1234" (UTF-16 5..9). The
  // replica holds "** **** ***"; placeholder offsets 3..7 select "****" — raw UTF-16 offsets
  // would select "** *" there.
  // (Added now: the DOM comparison of waitForReplica knows nothing of masks.)
  await ctx.customer.evaluate(() => {
    const p = document.createElement('p');
    p.id = 'secret';
    p.className = 'secret';
    p.textContent = '😀😀 1234 end';
    document.getElementById('two').after(p);
  });
  await waitIn(ctx, ctx.agent, 'the masked paragraph in the replica', () =>
    document.getElementById('cobrowse-replica').contentDocument?.getElementById('secret')?.textContent === '** **** ***');
  await ctx.customer.evaluate(() => {
    const t = document.getElementById('secret').firstChild;
    getSelection().setBaseAndExtent(t, 5, t, 9);
  });
  assert.equal(await customerText(), '1234');
  await replicaSelects('****', 'masked text by placeholder characters');
  assert.equal(await ctx.agent.evaluate(() =>
    document.getElementById('cobrowse-replica').contentDocument.getSelection().anchorOffset), 3);

  // A password "a😀b" with "b" selected (UTF-16 3..4): the replica's "***" has 2..3 selected.
  await ctx.customer.click('#pw');
  await ctx.customer.keyboard.type('a😀b');
  await ctx.customer.keyboard.press('End');
  await ctx.customer.keyboard.press('Shift+ArrowLeft');
  assert.deepEqual(await ctx.customer.evaluate(() => [document.activeElement.selectionStart, document.activeElement.selectionEnd]), [3, 4]);
  await replicaControl('pw', 2, 3);
  assert.equal(await ctx.agent.evaluate(() =>
    document.getElementById('cobrowse-replica').contentDocument.getElementById('pw').value), '***');

  // A word double-clicked inside a same-origin iframe: that frame's document has the selection.
  await ctx.customer.frameLocator('#fr').locator('#inner b').dblclick();
  const framed = await ctx.customer.frameLocator('#fr').locator('#inner').evaluate(() => getSelection().toString());
  assert.equal(framed.trim(), 'framed');
  await waitIn(ctx, ctx.agent, `replica frame selection ${JSON.stringify(framed)}`, (t) => {
    const f = document.getElementById('cobrowse-replica').contentDocument?.getElementById('fr');
    return f?.contentDocument?.getSelection()?.toString() === t;
  }, framed);
});
