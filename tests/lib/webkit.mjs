// The customer in WebKit: Debian's WebKitGTK (`webkit2gtk-driver`: WebKitWebDriver driving its
// MiniBrowser) over classic W3C WebDriver, spoken here as plain HTTP (no client library), while
// the agent stays in Chromium. WebKitGTK has no headless mode, so the driver runs under Xvfb
// (`xvfb-run`). `useWebKitCustomer(ctx)` makes `ctx.customer` a MiniBrowser page with Playwright's
// face (lib/facade.mjs), so the harness's helpers run unchanged on it.
//
// Classic WebDriver cannot read the page's console, so failure messages carry none from WebKit.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { CUSTOMER_VIEWPORT } from './browser.mjs';
import { adoptCustomer, findElement } from './facade.mjs';
import { freePort } from './server.mjs';

/** Debian's WebKitGTK WebDriver (`apt-get install webkit2gtk-driver`) and the browser it drives. */
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH || '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.WEBKIT_MINIBROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const XVFB_RUN = '/usr/bin/xvfb-run';

/** WebDriver's key codes for Playwright's key names. */
const KEYS = {
  Backspace: '\uE003', Tab: '\uE004', Enter: '\uE007', Shift: '\uE008', Control: '\uE009',
  Alt: '\uE00A', Escape: '\uE00C', Space: '\uE00D', End: '\uE010', Home: '\uE011', ArrowLeft: '\uE012',
  ArrowUp: '\uE013', ArrowRight: '\uE014', ArrowDown: '\uE015', Delete: '\uE017', Meta: '\uE03D',
};

/** One WebDriver command; throws the driver's error message. */
async function command(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || json.value?.error) {
    const v = json.value || {};
    throw new Error(`WebDriver ${method} ${path}: ${v.error || res.status}: ${v.message || ''}`);
  }
  return json.value;
}

/** Key actions typing `text` (a newline is Enter) into the focused element. */
function keyActions(text) {
  const actions = [];
  for (const ch of text) {
    const value = ch === '\n' ? KEYS.Enter : ch;
    actions.push({ type: 'keyDown', value }, { type: 'keyUp', value });
  }
  return [{ type: 'key', id: 'keyboard', actions }];
}

/** A WebDriver session as the facade's driver. */
async function openSession(base, viewport) {
  const session = await command(base, 'POST', '/session', {
    capabilities: {
      alwaysMatch: {
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
        timeouts: { script: 120_000, pageLoad: 60_000 },
      },
    },
  });
  const s = (path) => `/session/${session.sessionId}${path}`;
  const run = (method, path, body) => command(base, method, s(path), body);
  // Playwright's `url()` is synchronous: the URL as of the last command (every script reports it).
  let url = 'about:blank';
  // `fn(...args)` in the page; an element reference among `args` arrives as the element.
  const call = async (fn, args) => {
    // Async execution, so a function returning a promise is awaited as with Playwright.
    const script = `const done = arguments[arguments.length - 1];
      const args = [...arguments].slice(0, -1).map((a) => (a === null ? undefined : a));
      Promise.resolve().then(() => (${fn.toString()})(...args)).then(
        (v) => done({ ok: v === undefined ? null : v, url: location.href }),
        (e) => done({ error: String((e && e.message) || e), url: location.href }));`;
    const out = await run('POST', '/execute/async', { script, args: args.map((a) => (a === undefined ? null : a)) });
    if (out?.url) url = out.url;
    if (out && 'error' in out) throw new Error(`in WebKit: ${out.error}`);
    return out?.ok;
  };
  const evaluate = (fn, arg) => call(fn, [arg]);
  let mouseAt = { x: 0, y: 0 };
  const pointer = (x, y, then) => {
    mouseAt = { x: Math.round(x), y: Math.round(y) };
    return run('POST', '/actions', {
      actions: [{
        type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' },
        actions: [{ type: 'pointerMove', ...mouseAt, origin: 'viewport' }, ...then],
      }],
    });
  };
  const driver = {
    version: session.capabilities.browserVersion,
    evaluate,
    async evaluateOn(spec, fn, arg) {
      // Returned as an element reference, then passed back as the element.
      const el = await run('POST', '/execute/sync', { script: `return (${findElement})(arguments[0]);`, args: [spec] });
      return call(fn, [el, arg]);
    },
    async waitForFunction(fn, arg, { timeout, polling }) {
      const deadline = Date.now() + timeout;
      for (;;) {
        // A navigation in between aborts a script: that poll counts as false.
        if (await evaluate(fn, arg).catch(() => false)) return;
        if (Date.now() > deadline) throw new Error(`waitForFunction: timeout ${timeout} ms exceeded`);
        await new Promise((r) => setTimeout(r, polling));
      }
    },
    mouseMove: (x, y) => pointer(x, y, []),
    mouseClick(x, y, count) {
      const clicks = [];
      for (let i = 0; i < count; i++) clicks.push({ type: 'pointerDown', button: 0 }, { type: 'pointerUp', button: 0 });
      return pointer(x, y, clicks);
    },
    mouseDown: () => pointer(mouseAt.x, mouseAt.y, [{ type: 'pointerDown', button: 0 }]),
    mouseUp: () => pointer(mouseAt.x, mouseAt.y, [{ type: 'pointerUp', button: 0 }]),
    wheel: (deltaX, deltaY) => run('POST', '/actions', {
      actions: [{ type: 'wheel', id: 'wheel', actions: [{ type: 'scroll', ...mouseAt, deltaX, deltaY, origin: 'viewport' }] }],
    }),
    type: (text) => run('POST', '/actions', { actions: keyActions(text) }),
    // Input state (held modifiers) lasts across action commands until released.
    keyDown: (k) => run('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions: [{ type: 'keyDown', value: KEYS[k] ?? k }] }] }),
    keyUp: (k) => run('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions: [{ type: 'keyUp', value: KEYS[k] ?? k }] }] }),
    async goto(to) {
      await run('POST', '/url', { url: to });
      url = await run('GET', '/url');
    },
    reload: () => run('POST', '/refresh', {}),
    url: () => url,
    screenshot: async () => Buffer.from(await run('GET', '/screenshot'), 'base64'),
    close: () => run('DELETE', ''),
  };
  // The window rect is the outer size: grow it by the toolbar so the page gets `viewport`.
  await run('POST', '/window/rect', { width: viewport.width, height: viewport.height });
  const inner = await evaluate(() => ({ w: innerWidth, h: innerHeight }));
  await run('POST', '/window/rect', {
    width: viewport.width * 2 - inner.w,
    height: viewport.height * 2 - inner.h,
  });
  return driver;
}

/**
 * Starts WebKitWebDriver under Xvfb for the case and makes `ctx.customer` a MiniBrowser page at
 * the customer's viewport. Returns `{ version, fresh() }`; `fresh()` replaces `ctx.customer` with
 * a new WebDriver session (a new browser with no storage of the last), as a new customer.
 */
export async function useWebKitCustomer(ctx, { viewport = CUSTOMER_VIEWPORT } = {}) {
  for (const [file, pkg] of [[WEBKIT_DRIVER, 'webkit2gtk-driver'], [MINIBROWSER, 'webkit2gtk-driver'], [XVFB_RUN, 'xvfb']]) {
    if (!fs.existsSync(file)) throw new Error(`${file} not found: run ./scripts/setup.sh test (installs Debian's ${pkg})`);
  }
  const port = await freePort();
  const output = [];
  // Its own process group, so closing ends Xvfb, the driver and the browsers it started.
  const child = spawn(XVFB_RUN, ['-a', '-s', '-screen 0 1600x1200x24', WEBKIT_DRIVER, `--port=${port}`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => output.push(d.toString()));
  child.stderr.on('data', (d) => output.push(d.toString()));
  const stop = () => {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await command(base, 'GET', '/status')).ready) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      stop();
      throw new Error(`WebKitWebDriver did not start:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  let version = null;
  const fresh = await adoptCustomer(ctx, {
    label: 'WebKit (WebDriver output)',
    open: async () => {
      const d = await openSession(base, viewport);
      version = d.version;
      return d;
    },
    messages: () => output.join('').split('\n').filter(Boolean),
    shutdown: async () => {
      fs.writeFileSync(`${ctx.resultsDir}/webkit.log`, output.join(''));
      stop();
    },
  });
  return { version: `WebKitGTK ${version}`, fresh };
}
