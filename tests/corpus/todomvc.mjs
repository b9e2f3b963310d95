// Real third-party apps: the TodoMVC corpus (npm `todomvc@0.1.1`, MIT, each app with its
// libraries bundled, so nothing is downloaded while it runs).
//
// Each app the package's own index lists is served by the customer's site (the harness's second
// origin) with the site owner's snippet written into its page, and driven as a person would: add
// two todos, toggle one, hover an item, double-click to edit, filter Active. After the load and
// after each step the customer's viewport and the agent's replica are compared pixel by pixel,
// scored over "ink" (corpus/ink.mjs: pixels off the page background in either image). One
// customer session walks through every app (the session follows the customer across pages of
// the site, as on a real one); each page starts with empty localStorage, so every app starts with
// no todos.
//
// An app must reach ≥ 99 % identical ink in every step unless `BELOW` names it with the reason;
// across the apps that run, ≥ 95 % must reach it. Apps that cannot run offline (a backend, a
// remote service, files the package does not ship) are in `CANNOT_RUN` with the reason: they are
// tried anyway, and one that starts working is a failure until it is taken off the list. The
// per-app table is printed and written to tests/results/corpus.md (tests/README.md keeps a copy).
//
// Not picked up by the e2e stage (its name is not `*.test.mjs`): `./scripts/test.sh corpus` runs
// it. `CORPUS_ONLY=<substring>[,<substring>…]` runs only the matching apps.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  ROOT, compareDom, compareScreenshots, joinAgent, openCustomer, settle, setupCase, startSession,
  waitForCustomerState,
} from '../lib/harness.mjs';
import { inkScore } from './ink.mjs';

const PKG = path.join(ROOT, 'tests', 'node_modules', 'todomvc');
/** Share of ink an app may have different in its worst step. */
const MAX_DIFF = 0.01;
/** Share of the running apps that must stay within MAX_DIFF on every step. */
const TARGET = 0.95;
/** Apps the package lists that cannot run here, and why (each also fails without co-browsing:
 * see tests/README.md). */
const CANNOT_RUN = {
  'firebase-angular': 'loads the Firebase SDK from cdn.firebase.com and its todos from Firebase\'s servers ' +
    '(no network here): "Firebase is not defined", no todo is added',
  jquery: 'the package ships it without its bower_components (jQuery, Handlebars, todomvc-common): ' +
    'unstyled, no todo is added',
  montage: 'its 2014 Montage bundle throws "key must be a string." in current Chromium before rendering',
  sapui5: 'loads SAPUI5 from sapui5.netweaver.ondemand.com (no network here): "jQuery is not defined", ' +
    'nothing renders',
  stapes: 'throws "Cannot read properties of undefined (reading \'completed\')" in current Chromium when a ' +
    'todo is added; none is',
  vanilladart: 'the package ships it without the Dart build\'s packages/browser/dart.js: nothing starts',
  yui: 'loads YUI modules from yui.yahooapis.com (no network here): "Cannot read properties of undefined ' +
    '(reading \'create\')", no todo is added',
};
/** Apps that run but stay below the threshold, and why (reported, not asserted per app). */
const BELOW = {
  polymer: 'Polymer 0.x\'s platform.js emulates Shadow DOM v0 in current browsers by wrapping document, ' +
    'nodes, events and MutationObserver; the client sees the emulated tree, not the one the customer sees ' +
    '(the replica misses what the emulated shadow roots render), and the co-browse button does not react ' +
    'to a click through the emulated events (a session started on another page, or by Cobrowse.start(), ' +
    'carries on)',
};

/** The demo links of the package's own index page (`examples/<app>/…`), local ones only. */
function appsOfIndex() {
  const html = fs.readFileSync(path.join(PKG, 'index.html'), 'utf8');
  const links = [...html.matchAll(/href="(examples\/[^"]+)"/g)].map((m) => m[1]);
  const seen = new Map();
  for (const link of links) {
    const name = link.split('/')[1];
    if (!seen.has(name)) seen.set(name, link.endsWith('/') ? `${link}index.html` : link);
  }
  return [...seen].sort(([a], [b]) => a.localeCompare(b));
}

/** The site owner's snippet, as README gives it, before `</head>`. */
function withSnippet(html, serverUrl) {
  const snippet = `<script>
  window.cobrowseConfig = {};
  (function (d, s) {
    s = d.createElement('script'); s.async = true;
    s.src = '${serverUrl}/cobrowse/js/cobrowse.js';
    s.setAttribute('data-server-url', '${serverUrl}');
    d.head.appendChild(s);
  })(document);
</script>
`;
  const at = html.search(/<\/head>/i);
  return at < 0 ? snippet + html : html.slice(0, at) + snippet + html.slice(at);
}

const APPS = appsOfIndex();
// Apps name their parts differently (ids, classes, BEM, GWT's generated divs): a person finds
// them by what they are, so does this.
const NEW_TODO = 'input[placeholder="What needs to be done?"], #new-todo, .new-todo';

/** The todo items: list items with a checkbox (outside the learn sidebar), else GWT's rows. */
async function items(c) {
  const li = c.locator('li:has(input[type="checkbox"]):not(aside li)');
  return (await li.count()) ? li : c.locator('.view:has(input[type="checkbox"])');
}

/** Waits until the app has rendered its templates (no `{{…}}` placeholder text is left, as
 * Angular-style apps show before they bootstrap). */
async function rendered(c) {
  await c.waitForFunction(() => !document.body.innerText.includes('{{'), null, { timeout: 10_000, polling: 50 });
}

/** Waits until the app shows at least `n` todo items. */
async function added(c, n) {
  const deadline = Date.now() + 5000;
  while ((await (await items(c)).count()) < n) {
    if (Date.now() > deadline) throw new Error(`the app shows fewer than ${n} todos after typing them`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a person does, step by step; each returns once the page took the input. */
const STEPS = [
  ['add two todos', async (c) => {
    for (const [i, text] of ['Buy milk', 'Walk the dog'].entries()) {
      // Clicked each time: some apps render the field anew after Enter. What is left in it is
      // selected and typed over (Vue 0.10 leaves the text there in current Chromium).
      await c.locator(NEW_TODO).first().click();
      await c.keyboard.press('ControlOrMeta+A');
      await c.keyboard.type(text);
      // An app whose form submission is not prevented reloads the page on Enter (angular-dart's
      // Dart-compiled ng-submit in current Chromium): then the next todo is typed into the new
      // page, as a person would after seeing it reload.
      const reload = c.waitForEvent('request', { predicate: (r) => r.isNavigationRequest(), timeout: 300 })
        .then(() => true, () => false);
      // The new document's `load` (the old one had fired its own long before); awaited only if
      // the page reloads.
      const loaded = c.waitForEvent('load', { timeout: 10_000 }).catch(() => null);
      await c.keyboard.press('Enter');
      if (await reload) {
        await loaded;
        await rendered(c);
      }
      await added(c, i + 1);
    }
  }],
  ['toggle one', async (c) => {
    await (await items(c)).first().locator('input[type="checkbox"]').first().click();
  }],
  ['hover an item', async (c) => {
    await (await items(c)).nth(1).hover();
  }],
  ['double-click to edit', async (c) => {
    await (await items(c)).nth(1).locator('label').first().dblclick();
  }],
  ['filter Active', async (c) => {
    const active = c.locator('a:not(aside a)', { hasText: /^\s*Active\s*$/ });
    // Apps written before TodoMVC had filters show none: nothing a person could click.
    if (!(await active.count()) || !(await active.first().isVisible())) return 'no filter links';
    await active.first().click();
    return null;
  }],
];

let ctx;
const rows = [];
let joined = false;
/** Site URLs the current app was refused (404), for the report. */
let missing = [];

before(async () => {
  const site = { '/todomvc/': PKG };
  for (const [, entry] of APPS) {
    const file = path.join(PKG, entry);
    const page = { body: ({ serverUrl }) => withSnippet(fs.readFileSync(file, 'utf8'), serverUrl), type: 'text/html; charset=utf-8' };
    site[`/todomvc/${entry}`] = page;
    if (entry.endsWith('/index.html')) site[`/todomvc/${entry.slice(0, -'index.html'.length)}`] = page;
  }
  ctx = await setupCase('corpus', { site });
  // What the app asked its site for and did not get (files the package does not ship).
  ctx.customer.on('response', (r) => {
    if (r.status() >= 400 && r.url().startsWith(ctx.siteUrl('/todomvc/'))) missing.push(r.url());
  });
  // Every app starts with no todos (some apps share a storage key): its first load clears
  // localStorage, a reload of the same app does not (angular-dart's form submits and reloads on
  // Enter, keeping its todos). The co-browse client keeps its session in sessionStorage, under
  // keys of its own, which this leaves alone.
  await ctx.customer.addInitScript(() => {
    try {
      const seen = `corpus:${location.pathname}`;
      if (!sessionStorage.getItem(seen)) {
        localStorage.clear();
        sessionStorage.setItem(seen, '1');
      }
    } catch { /* storage refused */ }
  });
});

after(async () => {
  await ctx?.close();
  if (rows.length) {
    const table = report(rows);
    console.log(table.split('\n').map((l) => `# ${l}`).join('\n'));
    fs.mkdirSync(path.join(ROOT, 'tests', 'results'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'tests', 'results', 'corpus.md'), `${table}\n`);
  }
});

/** Polls the DOM comparison for up to `ms`; returns the last result. */
async function domSettled(ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await compareDom(ctx.customer, ctx.agent);
    if (r.equal || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The step's ink score, compared up to three times, each after the replica equals the page
 * again (a style applied a frame later, or a change the app made after the step, is not counted
 * against it); the best of the tries and whether the DOM was equal. */
async function measure(label) {
  let best;
  let dom;
  for (let i = 0; i < 3; i++) {
    dom = await domSettled(3000);
    await settle(ctx);
    const shot = await compareScreenshots(ctx, label);
    const ink = inkScore(shot.images.customer, shot.images.replica);
    if (!best || ink.share > best.share) best = ink;
    if (ink.different === 0) break;
  }
  return { ...best, dom };
}

const pct = (x) => `${(x * 100).toFixed(2)} %`;

function report(all) {
  const ran = all.filter((r) => r.ran);
  const good = ran.filter((r) => r.worst >= 1 - MAX_DIFF);
  const lines = [
    '| app | steps | DOM equal | worst step: identical ink | worst step | time | verdict |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of all) {
    if (!r.ran) {
      lines.push(`| ${r.app} | – | – | – | – | ${r.seconds} s | cannot run: ${r.verdict} |`);
      continue;
    }
    lines.push(`| ${r.app} | ${r.steps.length} | ${r.domEqual ? 'yes' : 'no'} | ${pct(r.worst)} | ${r.worstStep} | ` +
      `${r.seconds} s | ${r.verdict} |`);
  }
  lines.push('');
  lines.push(`Apps at ≥ ${pct(1 - MAX_DIFF)} identical ink on every step: ${good.length}/${ran.length} ` +
    `(${pct(good.length / Math.max(ran.length, 1))}; target ≥ ${pct(TARGET)}); ` +
    `${all.length - ran.length} of the package's ${all.length} apps cannot run offline.`);
  return lines.join('\n');
}

const only = process.env.CORPUS_ONLY?.split(',').filter(Boolean);
for (const [app, entry] of APPS.filter(([a]) => !only || only.some((o) => a.includes(o)))) {
  test(`todomvc: ${app}`, { timeout: 180_000 }, async () => {
    const started = Date.now();
    const row = { app, ran: false, steps: [], domEqual: true, worst: 1, worstStep: '', verdict: '' };
    rows.push(row);
    const url = `/todomvc/${entry}`;
    missing = [];
    /** Why the app cannot be driven, when files it loads are missing. */
    const unshipped = () => (missing.length
      ? `; the package lacks ${[...new Set(missing.map((u) => u.slice(ctx.siteUrl(`/todomvc/examples/${app}/`).length) || u))].slice(0, 3).join(', ')}`
      : '');
    try {
      await ctx.customer.mouse.move(1, 1);
      if (!joined) {
        await openCustomer(ctx, url);
        const token = await startSession(ctx);
        await joinAgent(ctx, token, { via: 'hash' });
        joined = true;
      } else {
        await ctx.customer.goto(ctx.siteUrl(url), { waitUntil: 'load' });
      }
      await waitForCustomerState(ctx, 'active');
      await ctx.customer.locator(NEW_TODO).first().waitFor({ state: 'visible', timeout: 10_000 });
      await rendered(ctx.customer);
      row.loaded = true;
    } catch (err) {
      row.seconds = ((Date.now() - started) / 1000).toFixed(1);
      row.verdict = CANNOT_RUN[app] ?? `did not start: ${err.message.split('\n')[0]}${unshipped()}`;
      if (CANNOT_RUN[app]) return;
      throw err;
    }
    row.ran = true;
    for (const [i, [name, run]] of [['load', null], ...STEPS].entries()) {
      if (run) {
        try {
          const skipped = await run(ctx.customer);
          if (skipped) {
            row.skipped = `${name}: ${skipped}`;
            continue;
          }
        } catch (err) {
          if (i === 1 && CANNOT_RUN[app]) {
            // It loads, but no todo can be added: as listed.
            row.ran = false;
            row.seconds = ((Date.now() - started) / 1000).toFixed(1);
            row.verdict = CANNOT_RUN[app];
            return;
          }
          row.steps.push({ name, share: 0 });
          row.worst = 0;
          row.worstStep = name;
          row.verdict = `step failed: ${err.message.split('\n')[0]}${unshipped()}`;
          break;
        }
      }
      let ink;
      try {
        ink = await measure(`${app}-${i}`);
      } catch (err) {
        row.steps.push({ name, share: 0 });
        row.worst = 0;
        row.worstStep = name;
        row.verdict = `could not compare: ${err.message.split('\n')[0]}`;
        break;
      }
      if (!ink.dom.equal) {
        row.domEqual = false;
        console.log(`# ${app} / ${name}: DOM differs: ${ink.dom.diffs.slice(0, 3).join('; ')}`);
      }
      row.steps.push({ name, share: ink.share });
      if (ink.share < row.worst || !row.worstStep) {
        row.worst = Math.min(row.worst, ink.share);
        row.worstStep = name;
      }
      console.log(`# ${app} / ${name}: ${pct(ink.share)} identical ink (${ink.different} of ${ink.ink} px differ)`);
    }
    row.seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (CANNOT_RUN[app]) {
      row.verdict = `listed as unable to run (${CANNOT_RUN[app]}), but it ran`;
      assert.fail(`${app} runs now: take it off CANNOT_RUN`);
    }
    if (BELOW[app] && row.worst >= 1 - MAX_DIFF) {
      row.verdict = `listed as below (${BELOW[app]}), but it passed`;
      assert.fail(`${app} passes now: take it off BELOW`);
    }
    const ok = row.worst >= 1 - MAX_DIFF;
    if (!row.verdict) row.verdict = ok ? 'pass' : (BELOW[app] ? `below: ${BELOW[app]}` : 'FAIL');
    if (row.skipped) row.verdict += ` (${row.skipped})`;
    if (BELOW[app]) return;
    assert.ok(ok, `${app}: ${row.worstStep} has ${pct(row.worst)} identical ink ` +
      `(see tests/results/corpus/${app}-*-diff.png)`);
  });
}

test('todomvc: ≥ 95 % of the apps that run match on every step', () => {
  const ran = rows.filter((r) => r.ran);
  if (only || !ran.length) return;
  const good = ran.filter((r) => r.worst >= 1 - MAX_DIFF).length;
  assert.ok(good / ran.length >= TARGET, `${good}/${ran.length} apps at ≥ ${pct(1 - MAX_DIFF)}`);
});
