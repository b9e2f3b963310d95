// A page whose old libraries replaced globals before the snippet ran (MooTools' own `Window` and
// `Request`, an ES5 shim of `Object.getOwnPropertyDescriptor` that throws on DOM accessors) still
// co-browses: the client finds its window, creates the session with `fetch`, hooks the page,
// and the agent sees the page, its changes and a value set by script. Each of these stopped the
// session before (TodoMVC's epitome and troopjs apps).
import { after, before, test } from 'node:test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { activeSession, setupCase, waitForReplica } from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let ctx;
before(async () => {
  ctx = await setupCase('page-globals', { site: { '/fixture/globals.html': path.join(here, 'page.html') } });
});
after(async () => { await ctx?.close(); });

test('a page with replaced Window, Request and getOwnPropertyDescriptor co-browses', { timeout: 120_000 }, async () => {
  await activeSession(ctx, '/fixture/globals.html');
  await ctx.customer.evaluate(() => { window.addItem(); window.clearField(); });
  await waitForReplica(ctx);
});
