// CSS proxy: the customer's page links its theme from a second loopback origin (its
// "static host"), with a :hover menu. With that origin in `proxy.allowedExternalDomains` the
// replica loads the sheet (its @import, and an inline <style>'s @import) through `/cobrowse/css-proxy`, so the agent sees the
// customer's hover open the menu, and its own pointer over the menu opens it too; the agent's
// browser never fetches the theme from the other origin. Without the allow entry the sheet still
// renders, loaded directly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  AGENT, compareScreenshots, joinAgent, openCustomer, sessionInfo, setupCase, startSession,
  waitForCustomerState, waitForReplica, waitIn,
} from '../../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const MENU_CSS = `@import "extra.css";
body { margin: 0; font: 16px/1.4 sans-serif; }
#menu { display: inline-block; padding: 8px 16px; background: rgb(30, 60, 120) url(dot.svg) no-repeat right center; color: #fff; }
#sub { display: none; margin: 0; padding: 4px; background: rgb(250, 220, 90); color: #000; }
#menu:hover #sub { display: block; }
#menu:hover { background-color: rgb(200, 40, 40); }
`;
const EXTRA_CSS = `#extra { color: rgb(0, 128, 0); }
#menu:hover ~ #extra { color: rgb(128, 0, 128); }
`;
const INLINE_CSS = `#note { color: rgb(10, 20, 30); }
#menu:hover ~ #note { color: rgb(200, 100, 0); }
`;
const DOT_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><circle cx="4" cy="4" r="4" fill="white"/></svg>';

/** The site's static host: serves the theme, remembers every request (path and user agent). */
async function sheetHost() {
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push({ url: req.url, ua: req.headers['user-agent'] || '' });
    const send = (type, body) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'max-age=60' });
      res.end(body);
    };
    if (req.url === '/theme/menu.css') send('text/css', MENU_CSS);
    else if (req.url === '/theme/extra.css') send('text/css', EXTRA_CSS);
    else if (req.url === '/theme/inline.css') send('text/css', INLINE_CSS);
    else if (req.url === '/theme/dot.svg') send('image/svg+xml', DOT_SVG);
    else { res.writeHead(404); res.end(); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, hits, close: () => new Promise((r) => server.close(r)) };
}

let host;
/** The customer's page, a file of the site, linking its theme from the static host. */
let site;
before(async () => {
  host = await sheetHost();
  const page = fs.readFileSync(path.join(here, 'page.html'), 'utf8').replaceAll('SHEET_ORIGIN', host.origin);
  site = { '/fixture/css-proxy.html': Buffer.from(page) };
});
after(async () => { await host?.close(); });

/** Computed style `prop` of replica element `id` equals `want` (waited for). */
function waitReplicaStyle(ctx, id, prop, want) {
  return waitIn(ctx, ctx.agent, `replica #${id} ${prop} = ${want}`, ([sel, i, p, w]) => {
    const el = document.querySelector(sel)?.contentDocument?.getElementById(i);
    return !!el && getComputedStyle(el)[p] === w;
  }, [AGENT.replica, id, prop, want]);
}

/** The replica's theme `<link>` href and the computed styles the theme decides. */
function replicaTheme(ctx) {
  return ctx.agent.evaluate((sel) => {
    const doc = document.querySelector(sel).contentDocument;
    const style = (id, p) => getComputedStyle(doc.getElementById(id))[p];
    return {
      href: doc.querySelector('link[rel=stylesheet]')?.getAttribute('href'),
      page: location.origin,
      menuImage: style('menu', 'backgroundImage'),
    };
  }, AGENT.replica);
}

async function session(ctx) {
  await openCustomer(ctx, '/fixture/css-proxy.html');
  const token = await startSession(ctx);
  await joinAgent(ctx, token);
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);
  return token;
}

test('an allowed cross-origin theme goes through the CSS proxy and its :hover works both ways', { timeout: 120_000 }, async () => {
  const ctx = await setupCase('css-proxy', {
    serverEnv: { COBROWSE_PROXY_ALLOWED_EXTERNAL_DOMAINS: host.origin },
    site,
  });
  try {
    const agentRequests = [];
    ctx.agent.on('request', (r) => agentRequests.push(r.url()));
    const token = await session(ctx);
    const info = (await sessionInfo(ctx, token)).body;
    assert.deepEqual(info.allowedExternalDomains, [host.origin]);

    // The theme and its @import apply in the replica.
    await waitReplicaStyle(ctx, 'menu', 'backgroundColor', 'rgb(30, 60, 120)');
    await waitReplicaStyle(ctx, 'extra', 'color', 'rgb(0, 128, 0)');
    await waitReplicaStyle(ctx, 'note', 'color', 'rgb(10, 20, 30)');
    await waitReplicaStyle(ctx, 'sub', 'display', 'none');
    const theme = await replicaTheme(ctx);
    assert.equal(
      theme.href,
      `${theme.page}/cobrowse/css-proxy?url=${encodeURIComponent(`${host.origin}/theme/menu.css`)}`,
      'the replica links the theme through the proxy',
    );
    // url() resolved against the sheet's own origin, not the proxy's.
    assert.equal(theme.menuImage, `url("${host.origin}/theme/dot.svg")`);
    // No rule is copied twice: the proxied sheet carries each copy once, right after its rule,
    // and the agent's own pseudo-state sheet (adopted last) copies none of the proxied rules.
    const copies = await ctx.agent.evaluate((sel) => {
      const doc = document.querySelector(sel).contentDocument;
      const texts = (sheets) => [...sheets].flatMap((s) => [...s.cssRules].map((r) => r.cssText));
      const proxied = [...doc.styleSheets].find((s) => (s.href || '').includes('/cobrowse/css-proxy?url='));
      return {
        inProxied: texts(proxied ? [proxied] : []).filter((t) => t.startsWith('#menu[data-cobrowse-hover] #sub')).length,
        inAgentSheet: texts(doc.adoptedStyleSheets).filter((t) => t.includes('#menu')).length,
      };
    }, AGENT.replica);
    assert.deepEqual(copies, { inProxied: 1, inAgentSheet: 0 });
    const calm = await compareScreenshots(ctx, 'proxied');
    console.log(`# proxied theme: ${(calm.share * 100).toFixed(3)} % of pixels differ`);
    assert.ok(calm.share < 0.01, `replica differs in ${(calm.share * 100).toFixed(2)} % of pixels (see ${calm.diffPath})`);

    // The customer hovers the menu: the proxied :hover rules (also the imported one) apply.
    await ctx.customer.hover('#menu');
    await waitReplicaStyle(ctx, 'sub', 'display', 'block');
    await waitReplicaStyle(ctx, 'menu', 'backgroundColor', 'rgb(200, 40, 40)');
    await waitReplicaStyle(ctx, 'extra', 'color', 'rgb(128, 0, 128)');
    await waitReplicaStyle(ctx, 'note', 'color', 'rgb(200, 100, 0)');
    const hovered = await compareScreenshots(ctx, 'customer-hover');
    console.log(`# customer hover: ${(hovered.share * 100).toFixed(3)} % of pixels differ`);
    assert.ok(hovered.share < 0.01, `hovered replica differs in ${(hovered.share * 100).toFixed(2)} % (see ${hovered.diffPath})`);
    await ctx.customer.mouse.move(700, 500);
    await waitReplicaStyle(ctx, 'sub', 'display', 'none');
    await waitReplicaStyle(ctx, 'extra', 'color', 'rgb(0, 128, 0)');

    // The agent's own pointer over the menu opens it in the agent's view.
    const box = await ctx.agent.evaluate((sel) => {
      const frame = document.querySelector(sel);
      const f = frame.getBoundingClientRect();
      const r = frame.contentDocument.getElementById('menu').getBoundingClientRect();
      return { x: f.left + frame.clientLeft + r.left + 10, y: f.top + frame.clientTop + r.top + 5 };
    }, AGENT.replica);
    await ctx.agent.mouse.move(box.x, box.y);
    await waitReplicaStyle(ctx, 'sub', 'display', 'block');
    await waitReplicaStyle(ctx, 'menu', 'backgroundColor', 'rgb(200, 40, 40)');

    // The sheets came through the server: the agent's browser asked the proxy, never the host.
    const direct = agentRequests.filter((u) => u.startsWith(`${host.origin}/theme/`) && u.endsWith('.css'));
    assert.deepEqual(direct, [], 'the agent never fetched the theme from its origin');
    for (const sheet of ['extra.css', 'inline.css']) {
      assert.ok(agentRequests.some((u) => u.includes('/cobrowse/css-proxy?url=') && u.includes(sheet)),
        `the @import of ${sheet} went through the proxy too: ${agentRequests.filter((u) => u.includes('css-proxy')).join(', ')}`);
    }
    const proxyFetches = host.hits.filter((h) => h.ua.startsWith('cobrowse-css-proxy/')).map((h) => h.url);
    assert.ok(proxyFetches.includes('/theme/menu.css') && proxyFetches.includes('/theme/extra.css'), JSON.stringify(host.hits));
  } finally {
    await ctx.close();
  }
});

test('without an allow entry the theme still renders, loaded directly', { timeout: 120_000 }, async () => {
  const ctx = await setupCase('css-proxy-direct', { site });
  try {
    await session(ctx);
    await waitReplicaStyle(ctx, 'menu', 'backgroundColor', 'rgb(30, 60, 120)');
    await waitReplicaStyle(ctx, 'extra', 'color', 'rgb(0, 128, 0)');
    await waitReplicaStyle(ctx, 'note', 'color', 'rgb(10, 20, 30)');
    const theme = await replicaTheme(ctx);
    assert.equal(theme.href, `${host.origin}/theme/menu.css`, 'the replica links the theme directly');
    const shot = await compareScreenshots(ctx, 'direct');
    console.log(`# direct theme: ${(shot.share * 100).toFixed(3)} % of pixels differ`);
    assert.ok(shot.share < 0.01, `replica differs in ${(shot.share * 100).toFixed(2)} % of pixels (see ${shot.diffPath})`);
    const refused = await fetch(ctx.url(`/cobrowse/css-proxy?url=${encodeURIComponent(`${host.origin}/theme/menu.css`)}`));
    assert.equal(refused.status, 403, 'the proxy refuses an origin that is not allowed');
    assert.equal((await refused.json()).error.code, 'domain_refused');
  } finally {
    await ctx.close();
  }
});
