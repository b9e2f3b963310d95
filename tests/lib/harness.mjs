// The e2e harness: what a test case uses. A case calls `setupCase()` once per file, then drives the
// customer and agent pages through the helpers below, which wait on observable state (DOM,
// `Cobrowse.state()`, `<html data-cobrowse-state>`) and never on fixed delays. Selectors are the
// contracts in ARCHITECTURE.md ("Selectors the end-to-end tests rely on").
//
// Two origins, as deployed: the customer's pages come from the site (lib/site.mjs, 127.0.0.2),
// the agent page, REST and the WebSocket from the co-browse server (127.0.0.1).
//
// Secure defaults, as deployed: the server runs without any agent credential configured, so it
// generates its agent token on start (lib/server.mjs reads it from the data directory), and the
// agent page gets it the way an operator hands it out: in the fragment (`#auth=…`, `agentUrl`). Customer pages are
// served by real servers, never fulfilled by playwright's router: a routed page has no address
// space, and Chromium then refuses its WebSocket to the loopback server.

import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import pixelmatch from 'pixelmatch';
import { launchBrowser } from './browser.mjs';
import { compareDom } from './dom.mjs';
import { ROOT, assertBundleBuilt, startServer } from './server.mjs';
import { startSite } from './site.mjs';

export { compareDom } from './dom.mjs';
export { ROOT } from './server.mjs';

/** Default time for one awaited condition; the whole session of a case takes a few seconds. */
export const WAIT_MS = Number(process.env.COBROWSE_E2E_WAIT_MS || 20_000);

/** Customer UI selectors (client-wasm). */
export const UI = {
  start: '[data-cobrowse-action="start"]',
  confirmYes: '[data-cobrowse-action="confirm-yes"]',
  token: '[data-cobrowse-token]',
  exit: '[data-cobrowse-action="exit"]',
  agentPointer: '[data-cobrowse-pointer="agent"]',
};

/** Agent page selectors (agent-ui + www/slave.*). */
export const AGENT = {
  replica: '#cobrowse-replica',
  status: '#cobrowse-status',
  sid: '#cobrowse-sid',
  join: '#cobrowse-join',
  exit: '#cobrowse-exit',
  customerPointer: '#cobrowse-pointer-customer',
};

/**
 * Starts the customer's site, a server and a browser for one test file and returns the case
 * context `{ server, site, browser, customer, agent, resultsDir, agentToken, url(path),
 * siteUrl(path), fail(message), close() }`. `url()` is on the co-browse server (agent page, REST),
 * `siteUrl()` on the site (customer pages); `agentToken` the server's generated agent credential.
 * `serverArgs` / `serverEnv` add server flags / `COBROWSE_…` settings (e.g. short timeouts);
 * `serverEnv` may be a function of `{ siteOrigin }` for settings that name the site.
 * `serverFiles` adds files to the server's static root (path → contents, e.g. a locale file).
 * `site` adds files to the customer's site (URL path → file, directory, Buffer or
 * `{ file | body, type, headers }`: see lib/site.mjs); the demo shop is always at /demo/.
 * `fail()` builds an Error that carries the browser console and the server log tail, which is what
 * one needs to see why a case failed.
 */
export async function setupCase(name, { serverArgs = [], serverEnv = {}, serverFiles = {}, site: siteFiles = {} } = {}) {
  assertBundleBuilt();
  const site = await startSite({ files: siteFiles });
  const env = typeof serverEnv === 'function' ? serverEnv({ siteOrigin: site.origin }) : serverEnv;
  let server;
  let browser;
  try {
    server = await startServer({ extraArgs: serverArgs, env, files: serverFiles });
    site.setServer(server.url);
    browser = await launchBrowser();
  } catch (err) {
    await server?.stop();
    await site.stop();
    throw err;
  }
  const other = process.env.COBROWSE_E2E_CUSTOMER;
  const resultsDir = path.join(ROOT, 'tests', 'results', other ? `${name}-${other}` : name);
  fs.mkdirSync(resultsDir, { recursive: true });
  const ctx = {
    server,
    site,
    browser,
    customer: browser.customer,
    agent: browser.agent,
    resultsDir,
    agentToken: server.agentToken,
    url: (p) => `${server.url}${p}`,
    siteUrl: (p) => site.url(p),
    /** An Error whose message adds browser messages and the server's last log lines. */
    fail(message) {
      const console = browser.messages().slice(-30).join('\n') || '(none)';
      const log = server.log().split('\n').slice(-40).join('\n');
      const refused = site.errors.length ? `\n--- pages the site refused ---\n${site.errors.join('\n')}` : '';
      return new Error(`${message}${refused}\n--- browser console (last 30) ---\n${console}\n--- server log (last 40 lines) ---\n${log}`);
    },
    async close() {
      fs.writeFileSync(path.join(resultsDir, 'server.log'), server.log());
      fs.writeFileSync(path.join(resultsDir, 'browser.log'), browser.messages().join('\n'));
      await browser.close().catch(() => {});
      await server.stop();
      await site.stop();
    },
  };
  if (other) await useCustomerBrowser(ctx, other);
  return ctx;
}

/**
 * `COBROWSE_E2E_CUSTOMER=firefox|webkit`: any case with the customer in that browser (the agent
 * stays in Chromium), to try a case there by hand; a case that uses Playwright-only APIs
 * (`on('websocket')`, `route`, `frameLocator`…) fails on them.
 */
async function useCustomerBrowser(ctx, name) {
  const use = {
    firefox: async () => (await import('./firefox.mjs')).useFirefoxCustomer(ctx),
    webkit: async () => (await import('./webkit.mjs')).useWebKitCustomer(ctx),
  }[name];
  if (!use) throw new Error(`COBROWSE_E2E_CUSTOMER=${name}: expected firefox or webkit`);
  try {
    await use();
  } catch (err) {
    await ctx.close();
    throw err;
  }
}

/** Waits for a condition in a page; on timeout throws `ctx.fail(what)`. */
export async function waitIn(ctx, page, what, fn, arg, timeout = WAIT_MS) {
  try {
    // Interval polling, not rAF: the page not in front may get no animation frames.
    await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  } catch (err) {
    throw ctx.fail(`timed out after ${timeout} ms waiting for: ${what} (${err.message.split('\n')[0]})`);
  }
}

/**
 * The customer's URL for `page`: a path on the site's origin (`/demo/form.html`), or an absolute
 * URL (a case with a site of its own). `/cobrowse/…` paths are the co-browse server's, never a
 * customer page: refused, so no case can put the customer on the server's origin by mistake.
 */
export function customerUrl(ctx, page) {
  if (/^https?:\/\//.test(page)) return page;
  if (page.startsWith('/cobrowse/')) {
    throw new Error(`customer page ${page}: /cobrowse/ is the co-browse server's; customer pages ` +
      'live on the site (ctx.siteUrl), e.g. /demo/… or the files a case gives setupCase({ site })');
  }
  return ctx.siteUrl(page);
}

/**
 * Opens a customer page (a path on the site, e.g. `/demo/form.html`, or an absolute URL) and waits
 * until the loader has put the co-browse button on it.
 */
export async function openCustomer(ctx, pagePath = '/demo/?still=1') {
  await ctx.customer.goto(customerUrl(ctx, pagePath));
  try {
    await ctx.customer.locator(UI.start).first().waitFor({ state: 'visible', timeout: WAIT_MS });
  } catch {
    throw ctx.fail(`the co-browse button ${UI.start} did not appear on ${pagePath}`);
  }
}

/** The customer's `window.Cobrowse.state()`, or null while the API is not there. */
export async function customerState(page) {
  return page.evaluate(() => (window.Cobrowse && typeof window.Cobrowse.state === 'function'
    ? window.Cobrowse.state() : null));
}

/** Waits until the customer's `Cobrowse.state()` is `state` (idle | active | ended). */
export async function waitForCustomerState(ctx, state, page = ctx.customer) {
  await waitIn(ctx, page, `customer Cobrowse.state() === '${state}'`,
    (s) => window.Cobrowse && typeof window.Cobrowse.state === 'function' && window.Cobrowse.state() === s,
    state);
}

/** Waits until the agent page's `<html data-cobrowse-state>` is `state` (waiting | active | ended). */
export async function waitForAgentState(ctx, state, page = ctx.agent) {
  await waitIn(ctx, page, `agent <html data-cobrowse-state="${state}">`,
    (s) => document.documentElement.dataset.cobrowseState === s, state);
}

/**
 * Clicks the co-browse button like a customer (answering "yes" if the optional "are you on a call"
 * dialog appears), then reads the 9-digit session number from the UI. Returns it as a string of
 * digits (the UI may group them as "123 456 789").
 */
export async function startSession(ctx, page = ctx.customer) {
  await page.locator(UI.start).first().click();
  const token = page.locator(UI.token).first();
  const confirm = page.locator(UI.confirmYes).first();
  try {
    await token.or(confirm).first().waitFor({ state: 'visible', timeout: WAIT_MS });
  } catch {
    throw ctx.fail(`after clicking ${UI.start}, neither ${UI.token} nor ${UI.confirmYes} appeared`);
  }
  if (await confirm.isVisible()) await confirm.click();
  await waitIn(ctx, page, `nine digits in ${UI.token}`, (sel) => {
    const find = (root) => {
      const hit = root.querySelector(sel);
      if (hit) return hit;
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot) {
          const inner = find(el.shadowRoot);
          if (inner) return inner;
        }
      }
      return null;
    };
    const el = find(document);
    return el && /^\d{9}$/.test((el.textContent || '').replace(/\D/g, ''));
  }, UI.token);
  const text = await token.textContent();
  return text.replace(/\D/g, '');
}

/**
 * The agent page's URL with `fragment` (e.g. `sid=123456789`) and the agent credential in the
 * fragment, as an operator or agent desktop hands it out (`auth` defaults to the server's
 * generated token; `null` leaves it out).
 */
export function agentUrl(ctx, fragment = '', { auth = ctx.agentToken } = {}) {
  const parts = [fragment, auth ? `auth=${encodeURIComponent(auth)}` : ''].filter(Boolean);
  return ctx.url(`/cobrowse/slave.html${parts.length ? `#${parts.join('&')}` : ''}`);
}

/** `Authorization` for REST calls an agent desktop makes with the server's agent credential. */
export function agentHeaders(ctx) {
  return ctx.agentToken ? { authorization: `Bearer ${ctx.agentToken}` } : {};
}

/**
 * Opens the agent page (with its credential, `agentUrl`) and joins `token`: `via: 'hash'` opens
 * `slave.html#sid=<token>&auth=…`, `via: 'input'` opens `slave.html#auth=…` and types the number
 * into the page's input like an agent would. Waits until active.
 */
export async function joinAgent(ctx, token, { via = 'hash', page = ctx.agent } = {}) {
  if (via === 'hash') {
    await page.goto(agentUrl(ctx, `sid=${token}`));
  } else {
    await page.goto(agentUrl(ctx));
    try {
      await page.locator(AGENT.sid).fill(token, { timeout: WAIT_MS });
      // `#cobrowse-join` is the form around the input, or a button: click its submit button.
      const join = page.locator(AGENT.join);
      const isForm = await join.evaluate((el) => el.tagName === 'FORM');
      const submit = isForm ? join.locator('button[type="submit"], button:not([type]), input[type="submit"]').first() : join;
      await submit.click({ timeout: WAIT_MS });
    } catch (err) {
      throw ctx.fail(`could not type the session number into ${AGENT.sid} / click ${AGENT.join}: ${err.message.split('\n')[0]}`);
    }
  }
  await waitForAgentState(ctx, 'active', page);
}

/**
 * Waits until the replica equals the customer's page (see dom.mjs for what "equal" means).
 * Polls the comparison (each poll is a real read of both DOMs); on timeout throws with the
 * differences of the last comparison. Returns the number of polls it took.
 */
export async function waitForReplica(ctx, { timeout = WAIT_MS, agent = ctx.agent, customer = ctx.customer } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let polls = 0;
  for (;;) {
    polls += 1;
    last = await compareDom(customer, agent);
    if (last.equal) return polls;
    if (Date.now() > deadline) break;
    // Poll interval between two full comparisons (each reads both DOMs).
    await new Promise((r) => setTimeout(r, 50));
  }
  throw ctx.fail(`the replica did not match the customer's page within ${timeout} ms; ` +
    `last differences:\n  ${last.diffs.join('\n  ')}`);
}

/**
 * Waits until images and fonts of both sides have settled, the replica painted twice, and the
 * replica's canvases show the customer's pixels (within 5 s: a timeout is left for the screenshot
 * comparison to show).
 */
export async function settle(ctx) {
  const ready = () => Promise.all([
    document.fonts ? document.fonts.ready : null,
    // Array.from: a page's DOM polyfill (Polymer 0.x) may hand out lists that are not iterable.
    ...Array.from(document.images || []).map((i) => (i.complete ? null : new Promise((r) => { i.onload = r; i.onerror = r; }))),
  ]).then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await ctx.customer.evaluate(ready);
  await ctx.agent.evaluate(`(${ready.toString().replaceAll('document', "document.getElementById('cobrowse-replica').contentDocument")})()`);
  await ctx.agent.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  // Canvas pixels arrive as frames at a capped rate: wait until the replica's canvases show what
  // the customer's do (a timeout is measured, not failed: the screenshot then shows the gap).
  const want = await ctx.customer.evaluate(() => Array.from(document.getElementsByTagName('canvas')).map((c) => c.toDataURL()));
  if (want.length) {
    // The replica shows a frame as the PNG the customer's canvas encodes to (web::canvas).
    await ctx.agent.waitForFunction(([sel, w]) => {
      const doc = document.querySelector(sel)?.contentDocument;
      if (!doc) return false;
      const css = doc.adoptedStyleSheets.map((s) => [...s.cssRules].map((r) => r.cssText).join('\n')).join('\n');
      return w.every((u) => css.includes(u));
    }, [AGENT.replica, want], { timeout: 5000, polling: 50 }).catch(() => {});
  }
}

/**
 * Screenshots the customer's viewport (our UI hidden) and the replica frame's content box at the
 * same moment and returns `{ share, different, total, width, height, diffPath, images }`: the share
 * of pixels that differ (pixelmatch, anti-aliasing tolerant), and the decoded PNGs (`customer`,
 * `replica`, and pixelmatch's `diff`, where differing pixels are red). Throws if the sizes differ (then the
 * replica is scaled or clipped, which a screenshot comparison cannot judge).
 */
export async function compareScreenshots(ctx, label = 'screen', { agent = ctx.agent, customer = ctx.customer } = {}) {
  // Hide our own UI and the text caret on the customer side with a style element that is itself ours
  // (never captured). Playwright's own caret hiding writes inline styles into the page and puts them
  // back afterwards (as `style=""` where there was no attribute): on the customer those writes are
  // mutations the replica receives, on the agent they change the replica itself. The replica is
  // never focused, so it shows no caret to hide.
  await customer.evaluate(() => {
    const style = document.createElement('style');
    style.setAttribute('data-cobrowse-ui', 'e2e-hide');
    style.textContent = '[data-cobrowse-ui]{visibility:hidden !important} *{caret-color:transparent !important}';
    document.head.appendChild(style);
  });
  // The agent page has a strict CSP (no inline styles), so hide its overlays through the CSSOM.
  await agent.evaluate((sel) => {
    for (const el of document.querySelectorAll(sel)) el.style.visibility = 'hidden';
  }, `${AGENT.customerPointer}, [data-cobrowse-overlay]`);
  try {
    const clip = await agent.evaluate((sel) => {
      const frame = document.querySelector(sel);
      if (!frame) return null;
      const r = frame.getBoundingClientRect();
      return {
        x: r.left + frame.clientLeft,
        y: r.top + frame.clientTop,
        width: frame.clientWidth,
        height: frame.clientHeight,
      };
    }, AGENT.replica);
    if (!clip) throw ctx.fail(`no ${AGENT.replica} to screenshot`);
    const a = PNG.sync.read(await customer.screenshot({ caret: 'initial' }));
    // `caret: 'initial'` on this side too: Playwright's caret hiding would leave `style=""` on the
    // replica's inputs (the replica is never focused, so it shows no caret anyway).
    const b = PNG.sync.read(await agent.screenshot({ clip, caret: 'initial' }));
    fs.writeFileSync(path.join(ctx.resultsDir, `${label}-customer.png`), PNG.sync.write(a));
    fs.writeFileSync(path.join(ctx.resultsDir, `${label}-replica.png`), PNG.sync.write(b));
    if (a.width !== b.width || a.height !== b.height) {
      throw ctx.fail(`screenshot sizes differ: customer ${a.width}×${a.height}, ` +
        `replica frame ${b.width}×${b.height} (is the replica scaled?)`);
    }
    const diff = new PNG({ width: a.width, height: a.height });
    const different = pixelmatch(a.data, b.data, diff.data, a.width, a.height, { threshold: 0.1 });
    const diffPath = path.join(ctx.resultsDir, `${label}-diff.png`);
    fs.writeFileSync(diffPath, PNG.sync.write(diff));
    const total = a.width * a.height;
    return {
      share: different / total, different, total, width: a.width, height: a.height, diffPath,
      images: { customer: a, replica: b, diff },
    };
  } finally {
    await customer.evaluate(() => document.querySelector('style[data-cobrowse-ui="e2e-hide"]')?.remove());
    await agent.evaluate((sel) => {
      for (const el of document.querySelectorAll(sel)) el.style.visibility = '';
    }, `${AGENT.customerPointer}, [data-cobrowse-overlay]`);
  }
}

/** `GET /cobrowse/rest/live/sessions/{token}` with the agent credential → `{ status, body }`. */
export async function sessionInfo(ctx, token) {
  const res = await fetch(ctx.url(`/cobrowse/rest/live/sessions/${token}`), { headers: agentHeaders(ctx) });
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

/**
 * Polls the REST session record until `predicate({status, body})` holds (the server is the other
 * party that changes it, so there is no browser event to wait on). Returns the last answer.
 */
export async function waitForSessionInfo(ctx, token, what, predicate, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await sessionInfo(ctx, token);
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      throw ctx.fail(`REST session ${token} never reached: ${what}; last answer ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A customer and an agent in one active session on `pagePath`, replica in sync. */
export async function activeSession(ctx, pagePath, { via = 'hash' } = {}) {
  await openCustomer(ctx, pagePath);
  const token = await startSession(ctx);
  await joinAgent(ctx, token, { via });
  await waitForCustomerState(ctx, 'active');
  await waitForReplica(ctx);
  return token;
}
