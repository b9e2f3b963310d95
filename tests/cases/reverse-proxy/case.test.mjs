// Same-origin deployment behind a reverse proxy: the site's own origin (Debian's nginx running
// the operators' sample `ci/nginx/same-origin.conf`) serves the shop and proxies /cobrowse/ —
// loader, client, REST and the WebSocket upgrade — to the co-browse server. The customer's page
// talks only to its own origin (every request and the WebSocket go through nginx), the server
// hands out URLs on that origin, and the session works: the agent (on the server's own origin)
// joins by number and a DOM change reaches the replica.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  AGENT, ROOT, UI, WAIT_MS, joinAgent, openCustomer, setupCase, startSession, waitForCustomerState,
  waitForReplica, waitIn,
} from '../../lib/harness.mjs';
import { render, startNginx } from '../../lib/nginx.mjs';
import { freePort } from '../../lib/server.mjs';
import { SITE_HOST } from '../../lib/site.mjs';

let ctx;
let nginx;
let shop;
let shopRoot;
before(async () => {
  // The server trusts the proxy in front of it, as operators of this set-up configure it
  // (ci/nginx/same-origin.conf): nginx reaches it from 127.0.0.1.
  ctx = await setupCase('reverse-proxy', { serverEnv: { COBROWSE_NETWORK_TRUSTED_PROXIES: '127.0.0.1' } });
  // The shop's document root: the demo pages as they are, their snippet naming their own origin.
  shopRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-e2e-shop-'));
  fs.chmodSync(shopRoot, 0o755);
  fs.cpSync(path.join(process.env.COBROWSE_E2E_WWW || path.join(ROOT, 'www'), 'demo'), path.join(shopRoot, 'demo'), { recursive: true });
  const listen = `${SITE_HOST}:${await freePort(SITE_HOST)}`;
  shop = `http://${listen}`;
  const conf = render(path.join(ROOT, 'ci', 'nginx', 'same-origin.conf'), [
    ['listen 127.0.0.1:8080', `listen ${listen}`],
    ['root /var/www/shop', `root ${shopRoot}`],
    ['proxy_pass http://127.0.0.1:8700', `proxy_pass ${ctx.server.url}`],
  ]);
  nginx = await startNginx({ serverConf: conf, listen });
});
after(async () => {
  if (nginx) fs.writeFileSync(path.join(ctx.resultsDir, 'nginx-access.log'), nginx.accessLog().join('\n'));
  await nginx?.stop();
  await ctx?.close();
  if (shopRoot) fs.rmSync(shopRoot, { recursive: true, force: true });
});

test('the site proxies /cobrowse/ and the customer never leaves its own origin', { timeout: 120_000 }, async () => {
  const requests = [];
  ctx.customer.on('request', (r) => requests.push(r.url()));
  const sockets = [];
  ctx.customer.on('websocket', (ws) => sockets.push(ws.url()));

  await openCustomer(ctx, `${shop}/demo/?still=1`);
  const token = await startSession(ctx);
  await joinAgent(ctx, token, { via: 'input' });
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);

  await ctx.customer.evaluate(() => { document.querySelector('h1').textContent = 'Proxied and live'; });
  await waitIn(ctx, ctx.agent, 'the DOM change in the replica', (sel) =>
    document.querySelector(sel)?.contentDocument?.querySelector('h1')?.textContent === 'Proxied and live', AGENT.replica);
  await waitForReplica(ctx);

  // The customer's browser asked only its own origin, for the client as for the socket.
  const elsewhere = requests.filter((u) => !u.startsWith(`${shop}/`) && !u.startsWith('data:'));
  assert.deepEqual(elsewhere, [], 'the customer page talked to another origin');
  // The client under its content-hashed name (the loader names it).
  const WASM = /\/cobrowse\/js\/client\/cobrowse_client_bg\.[0-9a-f]{16}\.wasm$/;
  assert.ok(requests.some((u) => u.startsWith(`${shop}/`) && WASM.test(u)), requests.join('\n'));
  assert.deepEqual(sockets, [`${shop.replace(/^http/, 'ws')}/cobrowse/ws`]);
  // …and nginx passed the upgrade through (101; logged when the socket closes, so the customer
  // ends the session first) and served the client from the server.
  await ctx.customer.locator(UI.exit).first().click();
  await waitForCustomerState(ctx, 'ended');
  const deadline = Date.now() + WAIT_MS;
  while (!nginx.accessLog().includes('GET /cobrowse/ws 101') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = nginx.accessLog();
  assert.ok(log.includes('GET /cobrowse/ws 101'), log.join('\n'));
  assert.ok(log.some((l) => /^GET \/cobrowse\/js\/client\/cobrowse_client_bg\.[0-9a-f]{16}\.wasm 200/.test(l)), log.join('\n'));
  assert.ok(log.includes('POST /cobrowse/rest/live/sessions 201'), log.join('\n'));
  assert.ok(!ctx.site.hits.length, `the harness's own site was used: ${ctx.site.hits}`);
});
