// Inline images: an <img> whose src is a blob: URL (which exists only in the customer's
// page) reaches the replica as a data: URL when it is small, so the agent sees the picture; a
// larger one than the cap (64 KiB by default) stays an empty box of its size; one under a mask
// rule is never read — its bytes are in no frame the server received (test-only frame capture).
// An http(s) image the site selects (`inlineImages.selector`), which the agent's browser is refused
// (as without the customer's login cookie), is inlined too.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import {
  AGENT, joinAgent, openCustomer, setupCase, startSession, waitForCustomerState,
  waitForReplica, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

let ctx;
let captureFile;
before(async () => {
  // The "private" image: only the customer may load it (the agent's request is refused below).
  const png = new PNG({ width: 48, height: 32 });
  for (let i = 0; i < png.data.length; i += 4) { png.data[i] = 200; png.data[i + 1] = 90; png.data[i + 2] = (i / 4) % 48 * 5; png.data[i + 3] = 255; }
  captureFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-e2e-images-cap-')), 'frames.bin');
  ctx = await setupCase('inline-images', {
    serverEnv: { COBROWSE_TEST_CAPTURE_FRAMES: captureFile },
    site: {
      '/fixture/images.html': path.join(here, 'page.html'),
      '/fixture/private.png': PNG.sync.write(png),
    },
  });
});
after(async () => { await ctx?.close(); });

/** The replica's `<img id>`: its src and natural size. */
const replicaImg = (id) => ctx.agent.evaluate((i) => {
  const img = document.getElementById('cobrowse-replica').contentDocument?.getElementById(i);
  return img ? { src: img.getAttribute('src'), w: img.naturalWidth, h: img.naturalHeight, box: [img.offsetWidth, img.offsetHeight] } : null;
}, id);

/** The base64 payload of a blob image on the customer's page, as a data: URL would carry it. */
const base64Of = (id) => ctx.customer.evaluate(async (i) => {
  const blob = await (await fetch(document.getElementById(i).src)).blob();
  const url = await new Promise((res) => { const r = new FileReader(); r.onload = () => res(r.result); r.readAsDataURL(blob); });
  return url.slice(url.indexOf(',') + 1);
}, id);

test('small blob: images are inlined for the agent; large and masked ones are not', { timeout: 120_000 }, async () => {
  // As if the image needed the customer's login cookie: the agent's browser is refused.
  let agentAsked = 0;
  await ctx.agent.route('**/fixture/private.png', (route) => { agentAsked += 1; return route.fulfill({ status: 403, body: 'login required' }); });
  await openCustomer(ctx, '/fixture/images.html');
  // One image exists before the session (arrives in the snapshot), the others come later.
  await ctx.customer.evaluate(() => window.addBlobImage('early', 64, 48, { hue: 20 }));
  const token = await startSession(ctx);
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');

  await waitIn(ctx, ctx.agent, 'the early blob image inlined in the replica', () => {
    const img = document.getElementById('cobrowse-replica').contentDocument?.getElementById('early');
    return img && /^data:image\/png;base64,/.test(img.getAttribute('src') || '') && img.complete && img.naturalWidth === 64;
  });
  // The site-selected http(s) image (`inlineImages.selector`) is fetched by the customer's browser
  // and inlined, although the agent's own request for it was refused.
  await waitIn(ctx, ctx.agent, 'the private image inlined in the replica', () => {
    const img = document.getElementById('cobrowse-replica').contentDocument?.getElementById('private');
    return img && /^data:image\/png;base64,/.test(img.getAttribute('src') || '') && img.complete && img.naturalWidth === 48;
  });
  assert.ok(agentAsked >= 1, 'the agent\'s browser tried the URL itself first and was refused');
  await ctx.customer.evaluate(() => Promise.all([
    window.addBlobImage('late', 120, 80, { hue: 140 }),
    window.addBlobImage('big', 200, 200, { noise: true }), // ~160 KB of PNG: over the cap
    window.addBlobImage('masked', 40, 40, { hue: 300, className: 'secret' }),
  ]));
  await waitIn(ctx, ctx.agent, 'the late blob image inlined in the replica', () => {
    const img = document.getElementById('cobrowse-replica').contentDocument?.getElementById('late');
    return img && /^data:image\/png;base64,/.test(img.getAttribute('src') || '') && img.complete && img.naturalWidth === 120;
  });
  // A control image added now and inlined means the sampler has had later ticks than the ones
  // that fetched (or skipped) the big and masked images: whatever it would send for them is sent.
  await ctx.customer.evaluate(() => window.addBlobImage('control', 30, 20, { hue: 60 }));
  await waitIn(ctx, ctx.agent, 'the control blob image inlined in the replica', () => {
    const img = document.getElementById('cobrowse-replica').contentDocument?.getElementById('control');
    return img && /^data:image\/png;base64,/.test(img.getAttribute('src') || '');
  });

  const early = await replicaImg('early');
  const late = await replicaImg('late');
  assert.deepEqual([late.w, late.h, ...late.box], [120, 80, 120, 80]);
  assert.deepEqual([early.w, early.h], [64, 48]);
  const big = await replicaImg('big');
  assert.equal(big.src, null, 'over the cap: not inlined (the blob: URL itself is dropped)');
  assert.deepEqual(big.box, [200, 200], 'an empty box of the image\'s size');
  const masked = await replicaImg('masked');
  assert.equal(masked.src, null, 'masked images are never inlined');

  // The picture is the customer's, pixel for pixel.
  const a = PNG.sync.read(await ctx.customer.locator('#late').screenshot());
  const b = PNG.sync.read(await ctx.agent.frameLocator(AGENT.replica).locator('#late').screenshot());
  assert.deepEqual([b.width, b.height], [a.width, a.height]);
  const diff = pixelmatch(a.data, b.data, null, a.width, a.height, { threshold: 0.1 });
  assert.equal(diff, 0, 'inlined image pixel-identical');

  // The masked image's bytes never left the customer's browser; the inlined one's did (so the
  // scan can fail).
  const frames = fs.readFileSync(captureFile).toString('latin1');
  const maskedB64 = await base64Of('masked');
  const lateB64 = await base64Of('late');
  assert.ok(frames.includes(lateB64.slice(0, 200)), 'control: the inlined image is in the capture');
  assert.ok(!frames.includes(maskedB64.slice(0, 200)), 'the masked image is in no frame');

  // The rest of the page is still equal (images compared by src are left out of this check:
  // the replica's data: URL stands for the customer's blob: URL).
  await ctx.customer.evaluate(() => { for (const i of [...document.images]) i.remove(); });
  // (The private image's inlined src differs from its URL by design; it is removed too.)
  await waitForReplica(ctx);
});
