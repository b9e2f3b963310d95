// A customer page in a browser other than Chromium, with the face of a Playwright Page: the part of
// its API the harness and the cases use — `goto`, `reload`, `url`, `waitForURL`, `evaluate`,
// `waitForFunction(fn, arg, opts)`, `screenshot`, `click`/`dblclick`/`hover(selector)`, `mouse`
// (`move` with `steps`, `down`, `up`, `click`, `wheel`), `keyboard` (`type`, `press` with chords
// such as `Shift+ArrowLeft`, `down`, `up`), and `locator()` with `first`/`last`/`nth`/`or`,
// `waitFor`, `click`, `dblclick`, `hover`, `fill`, `pressSequentially`, `check`/`uncheck`,
// `selectOption`, `textContent`, `inputValue`, `isChecked`, `isVisible`, `count`, `boundingBox`,
// `evaluate`. So `openCustomer`, `startSession`, `waitForReplica`, `waitIn`, `compareScreenshots`…
// of lib/harness.mjs run unchanged when `ctx.customer` is Firefox (lib/firefox.mjs) or WebKit
// (lib/webkit.mjs). Whatever else a case calls (`on('websocket')`, `route`, `frameLocator`…) is
// missing, and fails loudly.
//
// A driver gives the facade: `evaluate(fn, arg)`, `evaluateOn(spec, fn, arg)` (`fn(element, arg)` on
// the element `findElement(spec)` finds), `waitForFunction(fn, arg, { timeout, polling })`,
// `mouseMove(x, y)`, `mouseClick(x, y, count)` (viewport CSS pixels), `mouseDown()`, `mouseUp()`,
// `wheel(dx, dy)` (at the mouse's position), `type(text)`, `keyDown(key)` and `keyUp(key)` (key
// events to the focused element, Playwright's key names: `Backspace`, `Enter`, `Shift`…),
// `goto(url)`, `reload()`, `url()`, `screenshot()` (PNG Buffer of the viewport), `close()`.
//
// Locators find elements through open shadow roots, in document order, like Playwright's CSS
// engine (our customer UI lives in one). Actions wait until the element is visible and then use
// real input: a click is a mouse click at the element's centre, only once nothing else covers it
// there (scrolling it elsewhere meanwhile, as Playwright does); typing is key events.

/** How long an action waits for its element (the harness's WAIT_MS). */
export const ACTION_TIMEOUT = Number(process.env.COBROWSE_E2E_WAIT_MS || 20_000);

// In-page functions: drivers send their source, so each is self-contained (no shared helper, and
// no `new Function`, which a page's CSP may forbid). The walk visits an open shadow root right
// after its host, so matches come in document order as Playwright's CSS engine returns them.

/** In the page: whether `state` holds for the element (Playwright's meaning of visible). */
function hasState({ selectors, index, state }) {
  const hits = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (selectors.some((s) => el.matches(s))) hits.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const el = hits.at(index);
  let visible = false;
  if (el) {
    const r = el.getBoundingClientRect();
    visible = r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  }
  if (state === 'attached') return !!el;
  if (state === 'detached') return !el;
  if (state === 'hidden') return !visible;
  return visible;
}

/** In the page: the element (for a driver's `evaluateOn`), or null. */
export function findElement({ selectors, index }) {
  const hits = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (selectors.some((s) => el.matches(s))) hits.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return hits.at(index) ?? null;
}

/** In the page: how many elements match. */
function countAll({ selectors }) {
  let n = 0;
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (selectors.some((s) => el.matches(s))) n += 1;
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return n;
}

/**
 * In the page: runs `op` on the element — `text`, `value`, `checked`, `box` (its viewport
 * rectangle), `typed` (whether typing sets its value), `focus` (focus and select its text, for
 * typing over it), `caret` (focus with the caret at the end, for typing after it), `set` (a
 * non-text control's value, with `input` and `change`, as Playwright's `fill` does), `select`
 * (options by value or label, with `input` and `change`).
 */
function onElement({ selectors, index, op, arg }) {
  const hits = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (selectors.some((s) => el.matches(s))) hits.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const el = hits.at(index);
  if (!el) throw new Error(`no element for ${selectors.join(' | ')} [${index}]`);
  const fire = () => {
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  };
  switch (op) {
    case 'text': return el.textContent;
    case 'value': return el.value;
    case 'checked': return el.checked;
    case 'box': {
      const r = el.getBoundingClientRect();
      return { x: r.left, y: r.top, width: r.width, height: r.height };
    }
    case 'typed': return !(el instanceof HTMLInputElement)
      || !['date', 'time', 'datetime-local', 'month', 'week', 'color', 'range'].includes(el.type);
    case 'focus':
      el.focus();
      if (typeof el.select === 'function') el.select();
      return true;
    case 'caret':
      el.focus();
      if (typeof el.setSelectionRange === 'function' && typeof el.value === 'string') {
        try {
          el.setSelectionRange(el.value.length, el.value.length);
        } catch {
          // e-mail and number inputs have no selection API: the caret stays where focus put it
        }
      }
      return true;
    case 'set':
      el.value = arg;
      fire();
      return true;
    case 'select': {
      const wanted = new Set(arg);
      const picked = [];
      for (const o of el.options) {
        o.selected = wanted.has(o.value) || wanted.has(o.label);
        if (o.selected) picked.push(o.value);
        if (o.selected && !el.multiple) wanted.clear();
      }
      fire();
      return picked;
    }
    default: throw new Error(`unknown op ${op}`);
  }
}

/**
 * In the page: scrolls the element into view (`block`; none: leave it) and returns its centre and
 * whether a click there reaches it (the topmost element at that point, through shadow roots, is
 * the element or inside it), else what is in the way.
 */
function clickPoint({ selectors, index, block }) {
  const hits = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (selectors.some((s) => el.matches(s))) hits.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const el = hits.at(index);
  if (!el) return { ok: false, blocker: 'no element' };
  if (block) el.scrollIntoView({ block, inline: 'nearest' });
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2;
  const y = r.top + r.height / 2;
  let top = document.elementFromPoint(x, y);
  while (top && top.shadowRoot) {
    const inner = top.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === top) break;
    top = inner;
  }
  for (let n = top; n; n = n.parentNode || (n instanceof ShadowRoot ? n.host : null)) {
    if (n === el) return { ok: true, x, y };
  }
  const cls = top && typeof top.className === 'string' && top.className.trim()
    ? `.${top.className.trim().split(/\s+/).join('.')}` : '';
  return { ok: false, x, y, blocker: top ? `<${top.localName}${top.id ? `#${top.id}` : ''}${cls}>` : 'nothing' };
}

/** A Playwright-shaped locator over a driver. */
class Locator {
  constructor(driver, selectors, index = 0) {
    this.driver = driver;
    this.selectors = selectors;
    this.index = index;
  }

  first() { return new Locator(this.driver, this.selectors, 0); }
  last() { return new Locator(this.driver, this.selectors, -1); }
  nth(i) { return new Locator(this.driver, this.selectors, i); }
  or(other) { return new Locator(this.driver, [...this.selectors, ...other.selectors], this.index); }
  locator() { throw new Error('nested locators are not supported by lib/facade.mjs; use one CSS selector'); }

  get spec() { return { selectors: this.selectors, index: this.index }; }
  toString() { return `${this.selectors.join(' | ')} [${this.index}]`; }

  async waitFor({ state = 'visible', timeout = ACTION_TIMEOUT } = {}) {
    try {
      await this.driver.waitForFunction(hasState, { ...this.spec, state }, { timeout, polling: 50 });
    } catch (err) {
      throw new Error(`locator ${this}: not ${state} within ${timeout} ms (${String(err.message).split('\n')[0]})`);
    }
  }

  async op(op, arg, timeout) {
    await this.waitFor({ state: 'visible', timeout });
    return this.driver.evaluate(onElement, { ...this.spec, op, arg });
  }

  count() { return this.driver.evaluate(countAll, this.spec); }
  isVisible() { return this.driver.evaluate(hasState, { ...this.spec, state: 'visible' }); }
  textContent(opts) { return this.op('text', undefined, opts?.timeout); }
  inputValue(opts) { return this.op('value', undefined, opts?.timeout); }
  isChecked(opts) { return this.op('checked', undefined, opts?.timeout); }
  boundingBox(opts) { return this.op('box', undefined, opts?.timeout); }

  /** `fn(element, arg)` in the page. */
  async evaluate(fn, arg, { timeout } = {}) {
    await this.waitFor({ state: 'attached', timeout });
    return this.driver.evaluateOn(this.spec, fn, arg);
  }

  async focus(opts) { await this.op('focus', undefined, opts?.timeout); }

  /** A real mouse click at the element's centre once nothing covers it there; fails naming what
   * is in the way rather than clicking it. */
  async click({ timeout = ACTION_TIMEOUT, clickCount = 1 } = {}) {
    await this.waitFor({ state: 'visible', timeout });
    const deadline = Date.now() + timeout;
    const blocks = [null, 'end', 'center', 'start'];
    for (let i = 0; ; i++) {
      const at = await this.driver.evaluate(clickPoint, { ...this.spec, block: blocks[i % blocks.length] });
      if (at.ok) {
        await this.driver.mouseClick(at.x, at.y, clickCount);
        return;
      }
      if (Date.now() > deadline) throw new Error(`locator ${this}: a click would hit ${at.blocker} instead`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Moves the mouse to the element's centre once nothing covers it there. */
  async hover({ timeout = ACTION_TIMEOUT } = {}) {
    await this.waitFor({ state: 'visible', timeout });
    const at = await this.driver.evaluate(clickPoint, { ...this.spec, block: 'nearest' });
    if (!at.ok) throw new Error(`locator ${this}: hovering would be over ${at.blocker}`);
    await this.driver.mouseMove(at.x, at.y);
  }

  dblclick(opts = {}) { return this.click({ ...opts, clickCount: 2 }); }

  /** Focuses the element, then key events for every character (Playwright's pressSequentially
   * does not select: the text goes where the caret is, at the end after focus). */
  async pressSequentially(text, { timeout } = {}) {
    await this.op('caret', undefined, timeout);
    await this.driver.type(text);
  }

  /** Replaces the value: focus and select all, then type it (or delete). Non-text controls get
   * the value set with `input` + `change`, which is what Playwright's `fill` does for them too. */
  async fill(value, { timeout } = {}) {
    if (!(await this.op('typed', undefined, timeout))) {
      await this.op('set', value, timeout);
      return;
    }
    await this.op('focus', undefined, timeout);
    if (value === '') await press(this.driver, 'Backspace');
    else await this.driver.type(value);
  }

  async setChecked(checked, opts = {}) {
    if (await this.isChecked(opts) !== checked) await this.click(opts);
    if (await this.isChecked(opts) !== checked) throw new Error(`locator ${this}: clicking did not make checked=${checked}`);
  }

  check(opts) { return this.setChecked(true, opts); }
  uncheck(opts) { return this.setChecked(false, opts); }
  selectOption(value, opts = {}) { return this.op('select', Array.isArray(value) ? value : [value], opts.timeout); }
}

/** Playwright's `keyboard.press`: a key, or a chord such as `Shift+ArrowLeft`. */
async function press(driver, chord) {
  const keys = chord === '+' ? ['+'] : chord.split('+');
  for (const k of keys) await driver.keyDown(k);
  for (const k of keys.reverse()) await driver.keyUp(k);
}

/** The Playwright-shaped page over `driver`; `raw` is the driver itself. */
export function pageFacade(driver) {
  let mouseAt = { x: 0, y: 0 }; // for `mouse.move(…, { steps })`
  return {
    raw: driver,
    goto: (url) => driver.goto(url),
    reload: () => driver.reload(),
    url: () => driver.url(),
    evaluate: (fn, arg) => driver.evaluate(fn, arg),
    waitForFunction: (fn, arg, { timeout = ACTION_TIMEOUT, polling = 50 } = {}) =>
      driver.waitForFunction(fn, arg, { timeout, polling: polling === 'raf' ? 16 : Number(polling) }),
    locator: (selector) => new Locator(driver, [selector]),
    // The customer's viewport (options such as `caret` do not apply: no caret is drawn here
    // that the harness's own hiding style does not already hide).
    screenshot: () => driver.screenshot(),
    keyboard: {
      type: (t) => driver.type(t),
      press: (k) => press(driver, k),
      down: (k) => driver.keyDown(k),
      up: (k) => driver.keyUp(k),
    },
    mouse: {
      async move(x, y, { steps = 1 } = {}) {
        const from = mouseAt;
        for (let i = 1; i <= steps; i++) {
          await driver.mouseMove(from.x + ((x - from.x) * i) / steps, from.y + ((y - from.y) * i) / steps);
        }
        mouseAt = { x, y };
      },
      down: () => driver.mouseDown(),
      up: () => driver.mouseUp(),
      click(x, y, { clickCount = 1 } = {}) {
        mouseAt = { x, y };
        return driver.mouseClick(x, y, clickCount);
      },
      wheel: (dx, dy) => driver.wheel(dx, dy),
    },
    hover: (selector, opts) => new Locator(driver, [selector]).hover(opts),
    click: (selector, opts) => new Locator(driver, [selector]).click(opts),
    dblclick: (selector, opts) => new Locator(driver, [selector]).dblclick(opts),
    async waitForURL(match, { timeout = ACTION_TIMEOUT } = {}) {
      const deadline = Date.now() + timeout;
      const ok = (u) => (match instanceof RegExp ? match.test(u) : typeof match === 'function' ? match(new URL(u)) : u === match);
      while (!ok(await driver.evaluate(() => location.href).catch(() => driver.url()))) {
        if (Date.now() > deadline) throw new Error(`waitForURL ${match}: still ${driver.url()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => driver.close(),
  };
}

/**
 * Makes `ctx.customer` a page of another browser: `open()` resolves to a new driver (a fresh
 * customer: no storage shared with the last one); `ctx.fail()` messages gain `messages()` (that
 * browser's console, where the driver can read it) and `ctx.close()` calls `shutdown()` first.
 * Returns `fresh()`, which replaces `ctx.customer` with a new customer.
 */
export async function adoptCustomer(ctx, { label, open, messages, shutdown }) {
  let driver = null;
  const fresh = async () => {
    await driver?.close().catch(() => {});
    driver = await open();
    ctx.customer = pageFacade(driver);
    return ctx.customer;
  };
  const { fail, close } = ctx;
  ctx.fail = (message) => {
    const err = fail(message);
    err.message += `\n--- ${label} console (last 30) ---\n${messages().slice(-30).join('\n') || '(none)'}`;
    return err;
  };
  ctx.close = async () => {
    await driver?.close().catch(() => {});
    await shutdown().catch(() => {});
    await close();
  };
  await fresh();
  return fresh;
}
