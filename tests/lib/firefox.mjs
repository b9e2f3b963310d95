// The customer in Firefox: Debian's `firefox-esr` driven over WebDriver BiDi by puppeteer-core
// (no downloaded browser), while the agent stays in Chromium. `useFirefoxCustomer(ctx)` makes
// `ctx.customer` a Firefox page with Playwright's face (lib/facade.mjs), so the harness's helpers
// run unchanged on it.

import fs from 'node:fs';
import puppeteer from 'puppeteer-core';
import { CUSTOMER_VIEWPORT } from './browser.mjs';
import { adoptCustomer, findElement } from './facade.mjs';

/** Debian's Firefox ESR (`apt-get install firefox-esr`; scripts/setup.sh test installs it). */
export const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';

/** The facade's driver over one puppeteer page (in a browser context of its own). */
function driverOf(page, context) {
  return {
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    async evaluateOn(spec, fn, arg) {
      const handle = await page.evaluateHandle(findElement, spec);
      try {
        return await handle.evaluate(fn, arg);
      } finally {
        await handle.dispose();
      }
    },
    waitForFunction: (fn, arg, { timeout, polling }) => page.waitForFunction(fn, { timeout, polling }, arg),
    mouseMove: (x, y) => page.mouse.move(x, y),
    mouseClick: (x, y, count) => page.mouse.click(x, y, { count }),
    mouseDown: () => page.mouse.down(),
    mouseUp: () => page.mouse.up(),
    wheel: (deltaX, deltaY) => page.mouse.wheel({ deltaX, deltaY }),
    type: (text) => page.keyboard.type(text),
    // Playwright's key names are puppeteer's.
    keyDown: (k) => page.keyboard.down(k),
    keyUp: (k) => page.keyboard.up(k),
    goto: (url) => page.goto(url, { waitUntil: 'load' }),
    reload: () => page.reload({ waitUntil: 'load' }),
    url: () => page.url(),
    screenshot: async () => Buffer.from(await page.screenshot()),
    close: () => context.close(),
  };
}

/**
 * Launches Firefox for the case and makes `ctx.customer` a page of it at the customer's viewport.
 * Returns `{ version, fresh() }`; `fresh()` replaces `ctx.customer` with a page in a new browser
 * context (no storage shared with the last one), as a new customer.
 */
export async function useFirefoxCustomer(ctx, { viewport = CUSTOMER_VIEWPORT } = {}) {
  if (!fs.existsSync(FIREFOX)) {
    throw new Error(`${FIREFOX} not found: run ./scripts/setup.sh test (installs Debian's firefox-esr)`);
  }
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX,
    headless: true,
    defaultViewport: viewport,
    extraPrefsFirefox: {
      // Offline and quiet: no captive-portal or connectivity probes, no remote settings.
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'services.settings.server': 'http://127.0.0.1:1/',
      // Overlay scrollbars, as the Chromium pages have (playwright starts headless Chromium with
      // --hide-scrollbars): Firefox's classic 12 px bar would narrow the customer's layout, which
      // the replica does not reproduce (README, "Tested browsers").
      'ui.useOverlayScrollbars': 1,
    },
  });
  const messages = [];
  const open = async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport(viewport);
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warn') messages.push(`[firefox customer console.${msg.type()}] ${msg.text()}`);
    });
    page.on('pageerror', (err) => messages.push(`[firefox customer pageerror] ${err.message}`));
    return driverOf(page, context);
  };
  const fresh = await adoptCustomer(ctx, {
    label: 'Firefox',
    open,
    messages: () => messages,
    shutdown: async () => {
      fs.writeFileSync(`${ctx.resultsDir}/firefox.log`, messages.join('\n'));
      await browser.close();
    },
  });
  return { version: await browser.version(), fresh };
}
