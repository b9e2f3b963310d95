// Accessibility, localization and themes of both UIs. axe-core (npm, injected into the page) finds
// no WCAG 2.x A/AA violation in the customer UI in each of its states (button, call confirmation,
// number shown, in session, write-mode consent, write mode on, reconnecting) and on the agent page
// (join form, refused number, live session, write-mode controls, waiting for a dropped customer,
// reconnecting) in every theme and both built-in languages;
// the high-contrast theme also passes the AAA contrast rule (7:1). The consent dialogs work by
// keyboard (focus moves in, Tab is trapped, Escape answers). German texts appear when chosen
// (customer `locale`, `<html lang>`; agent `?lang=`, server `ui.locale`), a language added as a
// file in the static root is used with English for the keys it lacks, and themes change the
// computed colours (parameter, picker remembered, server `ui.theme`, system preferences).
// The supervisor console (www/admin/) has no violation either, with a live session and a
// history, light and dark, in both languages.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ROOT, UI, openCustomer, setupCase, waitForAgentState, waitForCustomerState, waitIn } from '../../lib/harness.mjs';
import { startServer } from '../../lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const AXE_SOURCE = fs.readFileSync(path.join(ROOT, 'tests', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
/** WCAG 2.0/2.1/2.2 levels A and AA. */
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const THEMES = ['auto', 'light', 'dark', 'high-contrast'];
const FIXTURE = '/demo/a11y-fixture.html';

/** A third language ("fr", partial) an operator added to the server's static root; the customer's
 * client loads its file from the server's origin (a cross-origin fetch from the site). */
const FRENCH = {
  'locales/customer/fr.json': JSON.stringify({ button: 'Co-navigation', yes: 'Oui', copy: '' }),
  'locales/agent/fr.json': JSON.stringify({ join: 'Rejoindre', lookingUp: 'Session {numero}' }),
};

/** The supervisor credential the server is given (the console's checks). */
const SUPERVISOR = 'a11y-supervisor-token-0123456789';

let ctx;
let token;
let axeRuns = 0;
before(async () => {
  ctx = await setupCase('accessibility', {
    serverEnv: { COBROWSE_LIMITS_LOOKUP_BURST: '500', COBROWSE_AUTH_SUPERVISOR_TOKEN: SUPERVISOR },
    serverFiles: FRENCH,
    site: { [FIXTURE]: path.join(here, 'page.html') },
  });
});
after(async () => {
  console.log(`# axe runs: ${axeRuns}, all without violations`);
  await ctx?.close();
});

/**
 * Runs axe in `page` and asserts zero violations. `context` is axe's context (default: the whole
 * document); `rules` runs only those rules instead of the WCAG A/AA tags. Returns the targets axe
 * looked at (to prove it saw into our shadow root).
 */
async function axe(page, label, { context = null, rules = null } = {}) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async ({ context, rules, tags }) => {
    const runOnly = rules ? { type: 'rule', values: rules } : { type: 'tag', values: tags };
    const r = await window.axe.run(context ?? document, { runOnly, iframes: false });
    const brief = (list) => list.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
    }));
    return {
      violations: brief(r.violations),
      passed: r.passes.length,
      review: r.incomplete.map((v) => v.id),
      targets: [...r.passes, ...r.incomplete, ...r.violations].flatMap((x) => x.nodes.map((n) => n.target)),
    };
  }, { context, rules, tags: WCAG_AA });
  axeRuns += 1;
  console.log(`# axe ${label}: ${result.violations.length} violations, ${result.passed} rules passed` +
    (result.review.length ? `, needs review: ${[...new Set(result.review)].join(' ')}` : ''));
  assert.deepEqual(result.violations, [], `axe violations in ${label}:\n${JSON.stringify(result.violations, null, 2)}`);
  return result;
}

/** axe on the agent page: our page, not the customer's content in the replica frame. */
const AGENT_CONTEXT = { exclude: [['#cobrowse-replica']] };

/** The `data-cobrowse-action` (or tag) of the focused element inside the customer UI's shadow root. */
const focused = (page) => page.evaluate(() => {
  const a = document.getElementById('cobrowse-ui')?.shadowRoot?.activeElement;
  return a ? (a.dataset.cobrowseAction || a.tagName.toLowerCase()) : null;
});

async function expectFocus(page, action, what) {
  await waitIn(ctx, page, `${what}: focus on ${action}`, (a) => {
    const el = document.getElementById('cobrowse-ui')?.shadowRoot?.activeElement;
    return el?.dataset.cobrowseAction === a;
  }, action);
}

const ui = (page, action) => page.locator(`[data-cobrowse-action="${action}"]`).first();

async function agentMode(mode) {
  await waitIn(ctx, ctx.agent, `agent <html data-cobrowse-mode="${mode}">`,
    (m) => document.documentElement.dataset.cobrowseMode === m, mode);
}

/** Opens the agent page fresh (a new query string always reloads). */
let loads = 0;
async function openAgent(query, hash = '') {
  loads += 1;
  // The agent credential rides in the fragment, as operators hand it out.
  const fragment = [hash, `auth=${encodeURIComponent(ctx.agentToken)}`].filter(Boolean).join('&');
  await ctx.agent.goto(ctx.url(`/cobrowse/slave.html?${query}&n=${loads}#${fragment}`));
  // The wasm has started when the status has left its static "loading" text key.
  await waitIn(ctx, ctx.agent, 'agent page started', () =>
    document.getElementById('cobrowse-status')?.dataset.state && document.documentElement.dataset.cobrowseMode);
}

async function pickTheme(theme) {
  await ctx.agent.selectOption('#cobrowse-theme', theme);
  await waitIn(ctx, ctx.agent, `theme ${theme} applied`,
    (t) => (document.documentElement.dataset.theme ?? 'auto') === t, theme);
}

/** No two visible toolbar controls overlap, in either language (long texts shrink with an ellipsis). */
async function agentToolbarUnobstructed(label) {
  const hits = await ctx.agent.evaluate(() => {
    const els = [...document.querySelectorAll('.cobrowse-toolbar :is(label, input, button, output, select, p, .cobrowse-label)')]
      .filter((e) => e.getClientRects().length && e.getBoundingClientRect().width > 0);
    const out = [];
    for (let i = 0; i < els.length; i++) {
      for (let j = i + 1; j < els.length; j++) {
        if (els[i].contains(els[j]) || els[j].contains(els[i])) continue;
        const a = els[i].getBoundingClientRect();
        const b = els[j].getBoundingClientRect();
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) {
          out.push(`${els[i].id || els[i].textContent.trim()} × ${els[j].id || els[j].textContent.trim()}`);
        }
      }
    }
    return out;
  });
  assert.deepEqual(hits, [], `overlapping toolbar controls in ${label}`);
}

/**
 * WCAG contrast of every visible text of the customer UI against the first opaque background
 * behind it (axe cannot decide it there: it reports "unable to determine" for our fixed layers).
 */
async function customerContrast(label, min) {
  const low = await ctx.customer.evaluate((min) => {
    const root = document.getElementById('cobrowse-ui').shadowRoot;
    const parse = (c) => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return null;
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement ?? e.getRootNode().host) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a === 1) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const out = [];
    let checked = 0;
    for (const el of root.querySelectorAll('button, p, span, output')) {
      if (!el.getClientRects().length || !el.textContent.trim() || el.classList.contains('sr')) continue;
      checked += 1;
      const [hi, lo] = [lum(parse(getComputedStyle(el).color)), lum(background(el))].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (ratio < min) out.push(`${el.dataset.cobrowseAction || el.className || el.tagName}: ${ratio.toFixed(2)}`);
    }
    return { out, checked };
  }, min);
  assert.ok(low.checked > 0, `no text checked in ${label}`);
  assert.deepEqual(low.out, [], `customer UI text under ${min}:1 in ${label}`);
}

/**
 * Routes `page`'s sockets through playwright, passing everything on, until `drop()`: the page's
 * sockets are closed and new ones stay unanswered (no server behind them), so the page shows
 * that it is reconnecting; `restore()` lets it back in.
 */
async function droppable(page) {
  let hold = false;
  const held = [];
  // The agent page's URL carries a query (`party=agent`), the customer's none.
  await page.routeWebSocket(/\/cobrowse\/ws(\?|$)/, (ws) => {
    if (hold) {
      held.push(ws);
      return;
    }
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => ws.send(m));
    ws.onClose((code, reason) => server.close({ code, reason }));
    server.onClose((code, reason) => ws.close({ code, reason }));
    held.push(ws);
  });
  return {
    drop() {
      hold = true;
      for (const ws of held.splice(0)) ws.close({ code: 1001, reason: 'dropped by the test' });
    },
    restore() {
      hold = false;
      for (const ws of held.splice(0)) ws.close({ code: 1001, reason: 'restored by the test' });
    },
  };
}

/** Waits until `page` says it is reconnecting (`where`: the attribute's element) or online again. */
async function connection(page, where, state) {
  await waitIn(ctx, page, `${where} data-*connection = ${state}`, ([sel, st]) => {
    const el = document.querySelector(sel);
    return !!el && (el.dataset.connection ?? el.dataset.cobrowseConnection) === st;
  }, [where, state]);
}

/** axe on the agent page in every theme (through the picker); AAA contrast in high contrast. */
async function agentInEveryTheme(label) {
  for (const theme of THEMES) {
    await pickTheme(theme);
    await agentToolbarUnobstructed(`${label} [${theme}]`);
    await axe(ctx.agent, `agent ${label} [${theme}]`, { context: AGENT_CONTEXT });
    if (theme === 'high-contrast') {
      await axe(ctx.agent, `agent ${label} [${theme}] AAA contrast`, { context: AGENT_CONTEXT, rules: ['color-contrast-enhanced'] });
    }
  }
}

test('customer UI: axe in every state, keyboard in both dialogs', { timeout: 120_000 }, async () => {
  const network = await droppable(ctx.customer);
  await openCustomer(ctx, `${FIXTURE}?confirm=1`);
  const idle = await axe(ctx.customer, 'customer: button');
  await customerContrast('customer: button', 4.5);
  // A node in a shadow tree has a target path [[host selector, selector inside]].
  assert.ok(idle.targets.some((t) => Array.isArray(t[0]) && t[0][0] === '#cobrowse-ui' && t[0].length >= 2),
    'axe looked inside the UI\'s shadow root');

  // Keyboard only: Enter on the button opens the confirmation, focus moves into it.
  await ctx.customer.locator(UI.start).first().focus();
  await ctx.customer.keyboard.press('Enter');
  await expectFocus(ctx.customer, 'confirm-yes', 'confirmation opened');
  await axe(ctx.customer, 'customer: confirmation dialog');
  await customerContrast('customer: confirmation dialog', 4.5);
  await ctx.customer.keyboard.press('Tab');
  assert.equal(await focused(ctx.customer), 'confirm-no');
  await ctx.customer.keyboard.press('Tab');
  assert.equal(await focused(ctx.customer), 'confirm-yes', 'Tab stays inside the dialog');
  await ctx.customer.keyboard.press('Shift+Tab');
  assert.equal(await focused(ctx.customer), 'confirm-no', 'Shift+Tab stays inside the dialog');
  await ctx.customer.keyboard.press('Escape');
  await expectFocus(ctx.customer, 'start', 'Escape closes and gives focus back');
  assert.equal(await ui(ctx.customer, 'confirm-yes').isVisible(), false);

  // Again, answering yes by keyboard: the number is shown.
  await ctx.customer.keyboard.press('Enter');
  await expectFocus(ctx.customer, 'confirm-yes', 'confirmation opened again');
  await ctx.customer.keyboard.press('Enter');
  await ctx.customer.locator(UI.token).first().waitFor({ state: 'visible' });
  await waitIn(ctx, ctx.customer, 'nine digits shown', () =>
    /^\d{9}$/.test((document.getElementById('cobrowse-ui').shadowRoot.querySelector('[data-cobrowse-token]').textContent || '').replace(/\D/g, '')));
  token = (await ctx.customer.locator(UI.token).first().textContent()).replace(/\D/g, '');
  await axe(ctx.customer, 'customer: number shown');
  await customerContrast('customer: number shown', 4.5);

  await openAgent('lang=en', `sid=${token}`);
  await waitForAgentState(ctx, 'active');
  await waitForCustomerState(ctx, 'active');
  await axe(ctx.customer, 'customer: in session');
  await customerContrast('customer: in session', 4.5);

  // Write-mode consent: focus on the safe answer, Tab trapped, Escape denies.
  await ctx.agent.locator('#cobrowse-request-control').click();
  await ui(ctx.customer, 'grant').waitFor({ state: 'visible' });
  await expectFocus(ctx.customer, 'deny', 'consent opened');
  await axe(ctx.customer, 'customer: write-mode consent dialog');
  await customerContrast('customer: write-mode consent dialog', 4.5);
  await ctx.customer.keyboard.press('Tab');
  assert.equal(await focused(ctx.customer), 'grant', 'Tab wraps inside the consent dialog');
  await ctx.customer.keyboard.press('Shift+Tab');
  assert.equal(await focused(ctx.customer), 'deny');
  await ctx.customer.keyboard.press('Escape');
  await waitIn(ctx, ctx.agent, 'agent told: declined', () =>
    /declined/.test(document.getElementById('cobrowse-mode').textContent));
  assert.equal(await ui(ctx.customer, 'grant').isVisible(), false);

  // Grant by keyboard: Shift+Tab from "deny" to "allow", Enter.
  await ctx.agent.locator('#cobrowse-request-control').click();
  await expectFocus(ctx.customer, 'deny', 'consent opened again');
  await ctx.customer.keyboard.press('Shift+Tab');
  await ctx.customer.keyboard.press('Enter');
  await agentMode('write');
  await ui(ctx.customer, 'revoke').waitFor({ state: 'visible' });
  await axe(ctx.customer, 'customer: write mode on');
  await customerContrast('customer: write mode on', 4.5);

  // The connection drops: the toolbar says it is reconnecting, in a polite status line.
  network.drop();
  await connection(ctx.customer, '[data-cobrowse-ui]', 'reconnecting');
  const line = await ctx.customer.evaluate(() => {
    const el = document.getElementById('cobrowse-ui').shadowRoot.querySelector('[data-part=connection]');
    return { text: el.textContent, role: el.getAttribute('role'), live: el.getAttribute('aria-live') };
  });
  assert.deepEqual(line, { text: 'Connection lost — reconnecting…', role: 'status', live: 'polite' });
  await axe(ctx.customer, 'customer: reconnecting');
  await customerContrast('customer: reconnecting', 4.5);
  network.restore();
  await connection(ctx.customer, '[data-cobrowse-ui]', 'online');
  await ui(ctx.customer, 'revoke').waitFor({ state: 'visible' });
});

test('agent page: axe in every state, theme and language', { timeout: 240_000 }, async () => {
  assert.ok(token, 'the customer test started a session');
  const network = await droppable(ctx.agent);
  for (const lang of ['en', 'de']) {
    await openAgent(`lang=${lang}`);
    assert.equal(await ctx.agent.evaluate(() => document.documentElement.lang), lang);
    await agentInEveryTheme(`${lang} join form`);

    await openAgent(`lang=${lang}`, 'sid=999999999');
    await waitForAgentState(ctx, 'ended');
    await agentInEveryTheme(`${lang} unknown number`);

    await openAgent(`lang=${lang}`, `sid=${token}`);
    await waitForAgentState(ctx, 'active');
    if (await ctx.agent.locator('#cobrowse-release-control').isVisible()) {
      await ctx.agent.locator('#cobrowse-release-control').click();
    }
    await agentMode('pointer');
    await agentInEveryTheme(`${lang} live session`);

    await ctx.agent.locator('#cobrowse-request-control').click();
    await ui(ctx.customer, 'grant').click();
    await agentMode('write');
    await ctx.agent.locator('#cobrowse-nav').waitFor({ state: 'visible' });
    await agentInEveryTheme(`${lang} write-mode controls`);

    // Waiting: the customer's page is gone for a moment (the session waits for it to return).
    const dropped = JSON.parse(fs.readFileSync(path.join(ROOT, 'www', 'locales', 'agent', `${lang}.json`), 'utf8')).customerDropped;
    await ctx.customer.goto('about:blank');
    await waitIn(ctx, ctx.agent, `agent says the customer dropped (${lang})`,
      (t) => document.getElementById('cobrowse-status').textContent === t, dropped);
    await agentInEveryTheme(`${lang} waiting for the customer`);
    await ctx.customer.goto(ctx.siteUrl(FIXTURE));
    await waitForCustomerState(ctx, 'active');
    await waitIn(ctx, ctx.agent, 'customer back', (t) =>
      document.getElementById('cobrowse-status').textContent !== t, dropped);

    // The agent's own connection drops: the status line says it is reconnecting.
    network.drop();
    await connection(ctx.agent, 'html', 'reconnecting');
    await agentInEveryTheme(`${lang} reconnecting`);
    network.restore();
    await connection(ctx.agent, 'html', 'online');
  }
  await ctx.agent.evaluate(() => localStorage.clear());
  // End the session (the customer page would resume it on the next load otherwise).
  await ui(ctx.customer, 'exit').click();
  await waitForCustomerState(ctx, 'ended');
  await waitForAgentState(ctx, 'ended');
  await axe(ctx.customer, 'customer: session ended notice');
  await customerContrast('customer: session ended notice', 4.5);
});

test('supervisor console: axe with a live session and history, light and dark, both languages', { timeout: 90_000 }, async () => {
  // One session still live, one ended (a history row), both made over REST.
  const make = async () => (await (await fetch(ctx.url('/cobrowse/rest/live/sessions'), { method: 'POST' })).json()).token;
  const live = await make();
  const ended = await make();
  const stop = await fetch(ctx.url(`/cobrowse/rest/live/sessions/${ended}/stop`), {
    method: 'POST', headers: { authorization: `Bearer ${SUPERVISOR}` },
  });
  assert.equal(stop.status, 200);
  const page = await ctx.browser.newPage('supervisor');
  try {
    for (const lang of ['en', 'de']) {
      for (const scheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.goto(ctx.url(`/cobrowse/admin/?lang=${lang}&n=${lang}${scheme}#auth=${SUPERVISOR}`));
        await waitIn(ctx, page, 'the console shows the live session and the history', ({ live, ended }) =>
          document.querySelector(`#admin-live tr[data-token="${live}"]`)
          && document.querySelector(`#admin-history tr[data-token="${ended}"]`), { live, ended });
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
        await axe(page, `supervisor console (${lang}, ${scheme})`);
      }
    }
    // Half-way through ending a session (the confirmation button) and the refusal.
    await page.locator(`#admin-live tr[data-token="${live}"] button.end`).click();
    await axe(page, 'supervisor console: confirming an end');
    await page.goto(ctx.url('/cobrowse/admin/?n=refused'));
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(ctx.url(`/cobrowse/admin/?n=refused2#auth=${ctx.agentToken}`));
    await waitIn(ctx, page, 'the refusal', () => document.getElementById('admin-status').dataset.error === 'forbidden');
    await axe(page, 'supervisor console: refused');
  } finally {
    await page.close();
  }
});

test('the demo shop page with our UI has no violations either', { timeout: 60_000 }, async () => {
  const page = await ctx.customer.context().newPage();
  try {
    await page.goto(ctx.siteUrl('/demo/?still=1'));
    await page.locator(UI.start).first().waitFor({ state: 'visible' });
    await axe(page, 'demo shop page');
  } finally {
    await page.close();
  }
});

/** Computed colours of the agent page's body and toolbar. */
const agentColours = () => ctx.agent.evaluate(() => {
  const body = getComputedStyle(document.body);
  const bar = getComputedStyle(document.querySelector('.cobrowse-toolbar'));
  return { bg: body.backgroundColor, fg: body.color, bar: bar.backgroundColor };
});

test('languages: German by config and <html lang>, an added language with English fallback', { timeout: 120_000 }, async () => {
  const start = () => ui(ctx.customer, 'start');
  const uiLang = () => ctx.customer.evaluate(() =>
    document.getElementById('cobrowse-ui').shadowRoot.querySelector('.cb').lang);

  await openCustomer(ctx, `${FIXTURE}?locale=de`);
  assert.equal(await start().textContent(), 'Co-Browsing');
  assert.equal(await uiLang(), 'de');
  await start().click();
  await ui(ctx.customer, 'exit').waitFor({ state: 'visible' });
  assert.equal(await ui(ctx.customer, 'exit').textContent(), 'Co-Browsing beenden');
  assert.equal(await ui(ctx.customer, 'copy').textContent(), 'Kopieren');
  await ui(ctx.customer, 'exit').click();
  await waitForCustomerState(ctx, 'ended');

  await openCustomer(ctx, `${FIXTURE}?htmllang=de-AT&confirm=1`);
  await start().click();
  await ui(ctx.customer, 'confirm-yes').waitFor({ state: 'visible' });
  assert.equal(await ui(ctx.customer, 'confirm-yes').textContent(), 'Ja', '<html lang> picks German');
  await ctx.customer.keyboard.press('Escape');

  // A file an operator dropped into locales/customer/: its texts, English for the rest (also for
  // its empty "copy").
  await openCustomer(ctx, `${FIXTURE}?locale=fr-CA&confirm=1`);
  await waitIn(ctx, ctx.customer, 'French button text from fr.json', () =>
    document.getElementById('cobrowse-ui').shadowRoot.querySelector('[data-cobrowse-action="start"]').textContent === 'Co-navigation');
  await start().click();
  assert.equal(await ui(ctx.customer, 'confirm-yes').textContent(), 'Oui');
  assert.equal(await ui(ctx.customer, 'confirm-no').textContent(), 'No');
  await ctx.customer.keyboard.press('Escape');

  // Agent: ?lang=de.
  await openAgent('lang=de');
  const agentText = (sel) => ctx.agent.locator(sel).first().textContent();
  assert.equal(await ctx.agent.evaluate(() => document.documentElement.lang), 'de');
  assert.equal(await agentText('label[for="cobrowse-sid"]'), 'Sitzungsnummer');
  assert.equal(await agentText('#cobrowse-join button'), 'Beitreten');
  assert.equal(await agentText('#cobrowse-status'), 'Sitzungsnummer des Kunden eingeben.');
  assert.equal(await ctx.agent.title(), 'Cobrowse – Mitarbeiter');
  await ctx.agent.locator('#cobrowse-sid').fill('12');
  await ctx.agent.locator('#cobrowse-join button').click();
  await waitIn(ctx, ctx.agent, 'German validation message', () =>
    document.getElementById('cobrowse-status').textContent === 'Eine Sitzungsnummer hat 9 Ziffern.');

  // The agent's added language: its one valid key; a key with wrong placeholders stays English.
  await openAgent('lang=fr', 'sid=999999998');
  assert.equal(await ctx.agent.evaluate(() => document.documentElement.lang), 'fr');
  assert.equal(await agentText('#cobrowse-join button'), 'Rejoindre');
  assert.equal(await agentText('label[for="cobrowse-sid"]'), 'Session number');
  await waitForAgentState(ctx, 'ended');

  // A language nobody has: English, and <html lang> says so.
  await openAgent('lang=xx');
  assert.equal(await ctx.agent.evaluate(() => document.documentElement.lang), 'en');
  assert.equal(await agentText('#cobrowse-join button'), 'Join');
});

test('themes: parameter, picker remembered, system preferences, customer contrast', { timeout: 120_000 }, async () => {
  await ctx.agent.evaluate(() => localStorage.clear());
  const seen = {};
  for (const theme of ['light', 'dark', 'high-contrast']) {
    await openAgent(`theme=${theme}`);
    assert.equal(await ctx.agent.evaluate(() => document.documentElement.dataset.theme), theme);
    assert.equal(await ctx.agent.locator('#cobrowse-theme').inputValue(), theme);
    seen[theme] = await agentColours();
  }
  assert.equal(new Set(Object.values(seen).map((c) => c.bg)).size, 3, `three backgrounds: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen['high-contrast'], { bg: 'rgb(0, 0, 0)', fg: 'rgb(255, 255, 255)', bar: 'rgb(0, 0, 0)' });

  // The picker's choice outlives a reload (localStorage), and the parameter still wins over it.
  await openAgent('x=1');
  await pickTheme('dark');
  await openAgent('x=2');
  assert.equal(await ctx.agent.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.deepEqual(await agentColours(), seen.dark);
  await openAgent('theme=light');
  assert.deepEqual(await agentColours(), seen.light);
  await ctx.agent.evaluate(() => localStorage.clear());

  // No theme chosen: the system preference decides.
  await openAgent('x=3');
  assert.equal(await ctx.agent.evaluate(() => document.documentElement.dataset.theme), undefined);
  await ctx.agent.emulateMedia({ colorScheme: 'dark' });
  assert.deepEqual(await agentColours(), seen.dark, 'prefers-color-scheme: dark');
  await ctx.agent.emulateMedia({ colorScheme: 'light', contrast: 'more' });
  assert.deepEqual(await agentColours(), seen['high-contrast'], 'prefers-contrast: more');
  await ctx.agent.emulateMedia({ contrast: 'no-preference', forcedColors: 'active' });
  assert.equal(await ctx.agent.locator('#cobrowse-exit').evaluate((b) => getComputedStyle(b).borderTopWidth), '2px',
    'forced colours keep visible button borders');
  await ctx.agent.emulateMedia({ colorScheme: 'light', contrast: 'no-preference', forcedColors: 'none' });
  assert.deepEqual(await agentColours(), seen.light);

  // The customer UI follows prefers-contrast.
  await openCustomer(ctx, FIXTURE);
  const launchBg = () => ui(ctx.customer, 'start').evaluate((b) => getComputedStyle(b).backgroundColor);
  const normal = await launchBg();
  await ctx.customer.emulateMedia({ contrast: 'more' });
  assert.equal(await launchBg(), 'rgb(0, 46, 122)');
  await customerContrast('customer button, prefers-contrast: more', 7);
  await ui(ctx.customer, 'start').click();
  await ui(ctx.customer, 'exit').waitFor({ state: 'visible' });
  await customerContrast('customer panel, prefers-contrast: more', 7);
  await ui(ctx.customer, 'exit').click();
  await waitForCustomerState(ctx, 'ended');
  assert.notEqual(normal, 'rgb(0, 46, 122)');
  await ctx.customer.emulateMedia({ contrast: 'no-preference' });
});

test('server defaults ui.locale and ui.theme; the page parameter wins', { timeout: 60_000 }, async () => {
  const server = await startServer({ env: { COBROWSE_UI_LOCALE: 'de', COBROWSE_UI_THEME: 'dark' }, files: FRENCH });
  try {
    const r = await fetch(`${server.url}/cobrowse/rest/ui.json`);
    assert.deepEqual(await r.json(), { locale: 'de', theme: 'dark', desktopOrigins: [] });
    await ctx.agent.evaluate(() => localStorage.clear());
    await ctx.agent.goto(`${server.url}/cobrowse/slave.html`);
    await waitIn(ctx, ctx.agent, 'server default theme', () => document.documentElement.dataset.theme === 'dark');
    assert.equal(await ctx.agent.evaluate(() => document.documentElement.lang), 'de');
    assert.equal(await ctx.agent.locator('#cobrowse-join button').textContent(), 'Beitreten');
    await ctx.agent.goto(`${server.url}/cobrowse/slave.html?lang=en&theme=high-contrast`);
    await waitIn(ctx, ctx.agent, 'parameter theme', () => document.documentElement.dataset.theme === 'high-contrast');
    assert.equal(await ctx.agent.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await ctx.agent.locator('#cobrowse-join button').textContent(), 'Join');
  } finally {
    await server.stop();
  }
});
