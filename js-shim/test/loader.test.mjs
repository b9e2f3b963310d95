// The loader in a real browser (Debian's Chromium via playwright-core) with the real wasm bundle,
// served from www/ by a plain static server: URL discovery, queued calls, the ready event, UI
// mount, and the error path when the Cobrowse server cannot be reached. Needs a built bundle
// (`npm run build`, or `npm run build:shim` after scripts/build-wasm.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, access } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const www = fileURLToPath(new URL('../../www/', import.meta.url));
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

// Paths this server was asked for, in order (for what a page view loads).
const hits = [];

// Test pages, served under /cobrowse/shim-test/ (they exist only in this server).
const pages = {
  // The documented snippet; the server URL points at a port nothing listens on.
  'snippet.html': (port) => `<!doctype html><html><head><script>
    window.cobrowseConfig = { debug: true, texts: { button: 'Get help' } };
    window.events = [];
    window.addEventListener('cobrowse:ready', () => window.events.push('ready-event'));
    (function (d, s) {
      s = d.createElement('script'); s.async = true;
      s.src = 'http://127.0.0.1:${port}/cobrowse/js/cobrowse.js';
      s.setAttribute('data-server-url', 'http://127.0.0.1:1');
      d.head.appendChild(s);
    })(document);
  </script></head><body><p>shop</p></body></html>`,
  // The snippet with the button: the client must load only when it is pressed.
  'lazy.html': (port) => `<!doctype html><html lang="de"><head><script>
    (function (d, s) {
      s = d.createElement('script'); s.async = true;
      s.src = 'http://127.0.0.1:${port}/cobrowse/js/cobrowse.js';
      s.setAttribute('data-server-url', 'http://127.0.0.1:1');
      d.head.appendChild(s);
    })(document);
  </script></head><body><p>shop</p></body></html>`,
  // A loader whose client folder is missing (404): the press reports load_failed.
  'broken.html': (port) => `<!doctype html><html><head>
    <script src="http://127.0.0.1:${port}/broken/cobrowse/js/cobrowse.js" data-server-url="http://127.0.0.1:1"></script>
  </head><body></body></html>`,
  // No data-server-url: the loader derives it from its own src (with a proxy prefix).
  'nodata.html': (port) => `<!doctype html><html><head>
    <script src="http://127.0.0.1:${port}/prefix/cobrowse/js/cobrowse.js"></script>
  </head><body></body></html>`,
};

let server;
let port;
let browser;

before(async () => {
  try {
    await access(join(www, 'js', 'client', 'cobrowse_client_bg.wasm'));
    await access(join(www, 'js', 'cobrowse.js'));
  } catch {
    throw new Error('www/js is not built: run `npm run build` in js-shim first');
  }
  server = createServer(async (req, res) => {
    if (req.url.startsWith('/broken/') && req.url.includes('/client/')) return res.writeHead(404).end();
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    hits.push(path);
    const name = path.replace(/^\/cobrowse\/shim-test\//, '');
    if (pages[name]) {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(pages[name](port));
    }
    const rel = path.replace(/^(\/prefix|\/broken)?\/cobrowse\//, '');
    const file = normalize(join(www, rel));
    if (!file.startsWith(www)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('snippet: queued calls, ready event, UI, and a clear error when the server is down', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/cobrowse/shim-test/snippet.html`);
  // Calls made before the wasm is ready are queued.
  await page.waitForFunction(() => window.Cobrowse);
  await page.evaluate(() => {
    window.Cobrowse.on('error', (e) => window.events.push('error:' + e.code));
    window.Cobrowse.on('state', (s) => window.events.push('state:' + s));
    window.startResult = window.Cobrowse.start().then(
      (t) => 'resolved:' + t,
      (e) => 'rejected:' + e.code,
    );
  });
  await page.evaluate(() => window.Cobrowse.ready);
  assert.equal(await page.evaluate(() => window.Cobrowse.serverUrl), 'http://127.0.0.1:1');
  assert.equal(await page.evaluate(() => window.startResult), 'rejected:network');
  await page.waitForFunction(() => window.events.includes('error:network'));
  const events = await page.evaluate(() => window.events);
  assert.ok(events.includes('ready-event'), events.join());
  assert.equal(await page.evaluate(() => window.Cobrowse.state()), 'idle');
  assert.equal(await page.evaluate(() => window.Cobrowse.sessionId()), null);
  // The UI is mounted with the configured text, inside our own shadow root.
  const button = page.locator('[data-cobrowse-action="start"]');
  assert.equal(await button.textContent(), 'Get help');
  assert.equal(await page.locator('#cobrowse-ui[data-cobrowse-ui]').count(), 1);
  // A second snippet run keeps the first client.
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.src = document.querySelector('script[src*="cobrowse.js"]').src;
    document.head.appendChild(s);
    return new Promise((r) => (s.onload = r));
  });
  assert.equal(await page.locator('#cobrowse-ui').count(), 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test('without data-server-url the server is found from the script src', async () => {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/cobrowse/shim-test/nodata.html`);
  await page.evaluate(() => window.Cobrowse.ready);
  assert.equal(await page.evaluate(() => window.Cobrowse.serverUrl), `http://127.0.0.1:${port}/prefix`);
  await page.close();
});

const clientHits = () => hits.filter((h) => h.includes('/js/client/'));

test('a page view draws the button and loads no client; the press loads it and the client takes over', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  hits.length = 0;
  await page.goto(`http://127.0.0.1:${port}/cobrowse/shim-test/lazy.html`);
  await page.evaluate(() => window.Cobrowse.ready);
  const button = page.locator('[data-cobrowse-action="start"]');
  // German from <html lang>, built into the loader; the client's markup and styles.
  assert.equal(await button.textContent(), 'Co-Browsing');
  assert.equal(await page.evaluate(() => {
    const root = document.getElementById('cobrowse-ui').shadowRoot;
    const b = root.querySelector('.launch');
    return [b.className, b.getAttribute('aria-describedby'), root.getElementById('cb-launch-desc').className,
      root.adoptedStyleSheets.length, getComputedStyle(b).position].join('|');
  }), 'launch primary bottom-right|cb-launch-desc|sr|1|fixed');
  assert.deepEqual(clientHits(), [], 'no client file on a page view');
  assert.equal(await page.evaluate(() => window.Cobrowse.state()), 'idle');

  await button.click();
  // The client mounted its own UI (one host), and the press started a session (the server is
  // unreachable here: the client's own error shows).
  await page.waitForFunction(() => document.getElementById('cobrowse-ui')?.shadowRoot
    ?.querySelector('.panel:not([hidden])'));
  assert.equal(await page.locator('#cobrowse-ui').count(), 1);
  const loaded = clientHits();
  assert.ok(loaded.some((h) => /cobrowse_client\.[0-9a-f]{16}\.js$/.test(h)), loaded.join());
  assert.ok(loaded.some((h) => /cobrowse_client_bg\.[0-9a-f]{16}\.wasm$/.test(h)), loaded.join());
  assert.deepEqual(errors, []);
  await page.close();
});

test('a session kept by an earlier page loads the client at once', async () => {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/cobrowse/shim-test/lazy.html`);
  await page.evaluate(() => window.Cobrowse.ready);
  hits.length = 0;
  await page.evaluate(() => sessionStorage.setItem('cobrowse:session', JSON.stringify({
    token: '123456789', historyId: 'h', wsUrl: 'ws://127.0.0.1:1/cobrowse/ws', customerSecret: 's',
  })));
  await page.reload();
  await page.evaluate(() => window.Cobrowse.ready);
  assert.ok(clientHits().some((h) => h.endsWith('.wasm')), hits.join());
  assert.equal(await page.evaluate(() => window.Cobrowse.sessionId()), '123456789');
  await page.close();
});

test('a client that cannot be loaded: load_failed to handlers and start(), the button comes back', async () => {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/cobrowse/shim-test/broken.html`);
  await page.evaluate(() => window.Cobrowse.ready);
  const result = await page.evaluate(() => {
    const seen = [];
    window.Cobrowse.on('error', (e) => seen.push(e.code));
    return window.Cobrowse.start().then(() => 'resolved', (e) => ({ code: e.code, seen }));
  });
  assert.equal(result.code, 'load_failed');
  assert.deepEqual(result.seen, ['load_failed']);
  const button = page.locator('[data-cobrowse-action="start"]');
  await button.click();
  await page.waitForFunction(() => !document.getElementById('cobrowse-ui').shadowRoot
    .querySelector('.launch').hasAttribute('aria-busy'));
  assert.equal(await button.textContent(), 'Co-browse');
  await page.close();
});
