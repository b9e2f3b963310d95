// Debian's Chromium driven by playwright-core: one browser with a fresh profile per test file, the
// customer and the agent as two pages of it (one context each). Console errors are kept for
// failure messages.

import fs from 'node:fs';
import { chromium } from 'playwright-core';

/** Chromium from Debian (`apt-get install chromium`); playwright's own browser downloads are never used. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Flags for a quiet, offline, reproducible headless browser (playwright adds `--headless`). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Both pages animate while in the background of one another; do not let Chromium throttle the
  // one that is not in front.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** Viewports: the agent's is larger, so the replica is shown at 1:1 and screenshots compare. */
export const CUSTOMER_VIEWPORT = { width: 800, height: 600 };
export const AGENT_VIEWPORT = { width: 1280, height: 900 };

/**
 * Launches Chromium (playwright gives it a fresh, temporary user-data dir) and opens the two pages,
 * each in its own browser context: like a customer and an agent on two machines, they share no
 * cookies or storage, and each page is the front page of its own window (a background tab gets
 * input and frames late, which would make the test measure Chromium's tab scheduling).
 * Returns `{ browser, customer, agent, newPage(), messages(), close() }`.
 */
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run ./scripts/setup.sh test (installs Debian's chromium)`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const messages = [];
  const watch = (page, name) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') {
        messages.push(`[${name} console.${msg.type()}] ${msg.text()}`);
      }
    });
    page.on('pageerror', (err) => messages.push(`[${name} pageerror] ${err.message}`));
    page.on('crash', () => messages.push(`[${name}] page crashed`));
    return page;
  };
  const open = async (name, viewport) => {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    return watch(await context.newPage(), name);
  };
  const customer = await open('customer', CUSTOMER_VIEWPORT);
  const agent = await open('agent', AGENT_VIEWPORT);
  let extra = 0;
  return {
    browser,
    customer,
    agent,
    /** Another page in its own context (e.g. a second agent), watched like the first two. */
    async newPage(name = `page${++extra}`, viewport = AGENT_VIEWPORT) {
      return open(name, viewport);
    },
    /** Console errors/warnings and page errors seen so far, oldest first. */
    messages: () => messages.slice(),
    async close() {
      await browser.close();
    },
  };
}
