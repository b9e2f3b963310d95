// The bench's browser: Debian's Chromium driven by puppeteer-core with the Network domain left off.
//
// Why not playwright, as the tests use: it enables CDP `Network` on every page, and with it on,
// Chromium's renderer copies every WebSocket frame sent or received into a DevTools event on the
// page's main thread. That cost lands on ours (a WebSocket client) and not on rrweb (which the
// bench keeps in an array): one `send` of a small frame took ~150 µs of the customer page's main
// thread with Network on and ~52 µs with it off, in the same Chromium. No customer or agent has
// DevTools open, so the bench leaves it off; a section that needs network events (the page view's
// transfer sizes) enables them on its own CDP session, for its own page.
//
// The pages this returns answer the small part of playwright's Page API the bench scripts use, with
// playwright's argument order, so the scripts read like the tests.

import fs from 'node:fs';
import puppeteer from 'puppeteer-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../tests/lib/browser.mjs';

/** One bench page: playwright's call shapes over a puppeteer page in a browser context of its own. */
class BenchPage {
  constructor(context, page) {
    this.ctx = context;
    this.page = page;
  }

  /** Runs `fn(arg)` in the page; resolves with its (awaited, JSON-able) result. */
  evaluate(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  /** Resolves once `fn(arg)` is truthy in the page (checked every animation frame or `polling` ms). */
  async waitForFunction(fn, arg, opts = {}) {
    const polling = opts.polling ?? 'raf';
    await this.page.waitForFunction(fn, { timeout: opts.timeout ?? 30_000, polling }, arg);
  }

  /** Runs a function, source text, or a file's text (`{ path }`), in every new document before
   *  its own scripts. */
  async addInitScript(script) {
    if (typeof script === 'function' || typeof script === 'string') {
      await this.page.evaluateOnNewDocument(script);
    } else {
      await this.page.evaluateOnNewDocument(fs.readFileSync(script.path, 'utf8'));
    }
  }

  /** Fails every request whose URL ends with `suffix` (the browser's fetch interception, not `Network`). */
  async blockUrlsEndingWith(suffix) {
    const cdp = await this.cdp();
    cdp.on('Fetch.requestPaused', (e) => {
      cdp.send('Fetch.failRequest', { requestId: e.requestId, errorReason: 'BlockedByClient' }).catch(() => {});
    });
    await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `*${suffix}`, requestStage: 'Request' }] });
  }

  async goto(url, opts = {}) {
    await this.page.goto(url, { waitUntil: opts.waitUntil ?? 'load', timeout: opts.timeout ?? 30_000 });
  }

  /** The page's mouse (`move(x, y)` as in playwright). */
  get mouse() {
    return this.page.mouse;
  }

  bringToFront() {
    return this.page.bringToFront();
  }

  /** A CDP session of its own on this page (`send`, `on`), like playwright's `newCDPSession`. */
  cdp() {
    return this.page.createCDPSession();
  }

  /** Closes the page and its browser context. */
  async close() {
    await this.ctx.close();
  }
}

/**
 * Launches Chromium for the bench (a fresh temporary profile, the tests' flags). Returns
 * `{ newPage(name, viewport), messages(), close() }`; each page has a browser context of its own.
 * `network: true` turns the Network domain on as playwright does, to measure what it costs.
 */
export async function launchBenchBrowser({ network = false } = {}) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run ./scripts/setup.sh test (installs Debian's chromium)`);
  }
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // puppeteer passes its own headless flag.
    args: CHROMIUM_ARGS.filter((a) => a !== '--headless'),
    networkEnabled: network,
    protocolTimeout: 600_000,
  });
  const messages = [];
  return {
    async newPage(name, viewport = { width: 1280, height: 900 }) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ ...viewport, deviceScaleFactor: 1 });
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warn') {
          messages.push(`[${name} console.${msg.type()}] ${msg.text()}`);
        }
      });
      page.on('pageerror', (err) => messages.push(`[${name} pageerror] ${err.message}`));
      page.on('error', () => messages.push(`[${name}] page crashed`));
      return new BenchPage(context, page);
    },
    /** Console errors/warnings and page errors seen so far, oldest first. */
    messages: () => messages.slice(),
    close: () => browser.close(),
  };
}
