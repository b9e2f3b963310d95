// The npm package as a front-end developer meets it: `npm pack` of js-shim, the tarball installed
// (offline) into a fresh project, the shop's TypeScript checked with `tsc --strict --noEmit` (and
// the declarations shown to reject typical mistakes; an agent desktop's code with the
// `cobrowse-client/desktop` export too), bundled with esbuild's and Vite's defaults
// (no config, no plugin, no copied wasm), served from the site's origin, and a whole session run
// on each bundle: the customer starts, the agent joins, the replica matches, the shop's own
// changes follow, the page's mask rule holds, the shop's `stop()` ends the session. Also the
// self-hosted client (`clientUrl`, loaded only once a session starts) and the error when the
// client cannot be loaded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  ROOT, joinAgent, openCustomer, setupCase, startSession, waitForAgentState, waitForReplica, waitIn,
} from '../../lib/harness.mjs';
import { assertBundleBuilt } from '../../lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = (name) => path.join(ROOT, 'tests', 'node_modules', '.bin', name);
const CARD = '4111-2222-3333-9876';

/** Runs a command; returns `{ status, out, ms }` (stdout and stderr together). */
function run(cmd, args, cwd) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}`, ms: Date.now() - t0 };
}

function mustRun(what, cmd, args, cwd) {
  const r = run(cmd, args, cwd);
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.out}`);
  console.log(`# ${what}: ${r.ms} ms`);
  return r;
}

const TSC_FLAGS = ['--strict', '--noEmit', '--target', 'es2022', '--lib', 'es2022,dom,dom.iterable'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-npm-consumer-'));
const project = path.join(tmp, 'lantern-shop');
const esbuildOut = path.join(tmp, 'esbuild-out');
const selfHosted = path.join(tmp, 'self-hosted');
let tarball;
let packed;
let ctx;

before(async () => {
  assertBundleBuilt();
  // What `npm publish` would upload (the `prepack` script assembles dist/ from src/ first).
  mustRun('npm pack', 'npm', ['pack', '--silent', '--pack-destination', tmp], path.join(ROOT, 'js-shim'));
  tarball = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, `npm pack left no .tgz in ${tmp}`);
  packed = run('tar', ['-tzf', path.join(tmp, tarball)], tmp).out.split('\n').filter(Boolean);

  // A fresh project: the shop's sources, a package.json, the tarball installed (it has no
  // dependencies, so --offline proves nothing else is fetched).
  fs.cpSync(path.join(here, 'app'), project, { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'),
    JSON.stringify({ name: 'lantern-shop', private: true, type: 'module' }, null, 2));
  mustRun('npm install <tarball>', 'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', path.join(tmp, tarball)], project);

  // Bundles with the bundlers' defaults: esbuild's browser bundle, Vite's production build.
  mustRun('esbuild --bundle', bin('esbuild'), ['src/main.ts', '--bundle', `--outfile=${path.join(esbuildOut, 'main.js')}`], project);
  fs.copyFileSync(path.join(project, 'esbuild.html'), path.join(esbuildOut, 'index.html'));
  mustRun('vite build', bin('vite'), ['build'], project);
  fs.mkdirSync(selfHosted);

  ctx = await setupCase('npm-consumer', {
    site: {
      '/esbuild/': esbuildOut,
      '/vite/': path.join(project, 'dist'),
      '/assets/': path.join(project, 'dist', 'assets'), // Vite's default base is the site root
      '/self-hosted/': selfHosted,
    },
  });
});
after(async () => {
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the tarball holds the API, its types and the loader, and no wasm', () => {
  for (const f of ['package/package.json', 'package/README.md', 'package/dist/index.js',
    'package/dist/index.d.ts', 'package/dist/cobrowse.js',
    'package/dist/desktop.js', 'package/dist/desktop.d.ts']) {
    assert.ok(packed.includes(f), `${f} is in the tarball (it has: ${packed.join(', ')})`);
  }
  assert.deepEqual(packed.filter((f) => f.endsWith('.wasm')), [], 'the client comes from the server, not the package');
});

test('the shop\'s TypeScript checks under tsc --strict (bundler and nodenext resolution)', () => {
  const bundler = run(bin('tsc'), [...TSC_FLAGS, '--module', 'esnext', '--moduleResolution', 'bundler', 'src/main.ts', 'src/desk.ts'], project);
  assert.equal(bundler.status, 0, `tsc (bundler):\n${bundler.out}`);
  const node = run(bin('tsc'), [...TSC_FLAGS, '--module', 'nodenext', '--moduleResolution', 'nodenext', 'src/main.ts', 'src/desk.ts'], project);
  assert.equal(node.status, 0, `tsc (nodenext):\n${node.out}`);
  console.log(`# tsc --strict --noEmit: ${bundler.ms} ms (bundler), ${node.ms} ms (nodenext)`);
});

test('the declarations reject typical mistakes under --strict', () => {
  const r = run(bin('tsc'), [...TSC_FLAGS, '--module', 'esnext', '--moduleResolution', 'bundler', 'src/wrong.ts'], project);
  assert.notEqual(r.status, 0, 'tsc accepted src/wrong.ts');
  const src = fs.readFileSync(path.join(project, 'src', 'wrong.ts'), 'utf8').split('\n');
  const expected = src.flatMap((l, i) => (/\/\/ WRONG-\d/.test(l) ? [i + 1] : []));
  const reported = [...new Set([...r.out.matchAll(/wrong\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1])))];
  assert.deepEqual(reported, expected, `one error on each WRONG line, nothing else:\n${r.out}`);
});

/** A whole session on a bundled shop page: start, join, live changes, masking, the shop ends it. */
async function wholeSession(pagePath) {
  const wasmBefore = ctx.site.hits.filter((h) => h.endsWith('.wasm')).length;
  await openCustomer(ctx, `${pagePath}?server=${encodeURIComponent(ctx.server.url)}`);
  const c = ctx.customer;
  const token = await startSession(ctx);
  await joinAgent(ctx, token);
  await waitIn(ctx, c, 'the shop\'s state() is active', () => window.shop.state() === 'active');
  assert.equal(await c.evaluate(() => window.shop.sessionId()), token);
  await waitForReplica(ctx);

  // The shop's own code changes its page.
  await c.locator('#add').click();
  await c.locator('#add').click();
  await waitForReplica(ctx);
  assert.equal(await ctx.agent.evaluate(() => document.getElementById('cobrowse-replica')
    .contentDocument.querySelectorAll('#cart li').length), 3);

  // The mask rule the shop passed in its options: the agent sees a placeholder.
  await c.locator('#card').pressSequentially(CARD);
  await waitIn(ctx, ctx.agent, 'a same-length placeholder in the replica\'s #card', (n) => {
    const card = document.getElementById('cobrowse-replica').contentDocument.getElementById('card');
    return card && card.value.length === n;
  }, CARD.length);
  const shown = await ctx.agent.evaluate(() => document.getElementById('cobrowse-replica').contentDocument.documentElement.outerHTML
    + document.getElementById('cobrowse-replica').contentDocument.getElementById('card').value);
  assert.ok(!shown.includes(CARD), 'the masked card number is not in the replica');

  await c.evaluate(() => window.shop.stop());
  await waitIn(ctx, c, 'the shop\'s state() is ended', () => window.shop.state() === 'ended');
  await waitForAgentState(ctx, 'ended');
  const events = await c.evaluate(() => window.shop.events);
  for (const e of [`session:${token}`, 'agentJoined', 'state:active', 'ended:customer_exit']) {
    assert.ok(events.includes(e), `the shop saw ${e} (events: ${events.join(', ')})`);
  }
  assert.equal(events.filter((e) => e.startsWith('error') || e.startsWith('init-failed')).length, 0, events.join(', '));
  assert.equal(ctx.site.hits.filter((h) => h.endsWith('.wasm')).length, wasmBefore,
    'the site served no wasm: the client came from the Cobrowse server');
}

test('esbuild\'s default bundle runs a whole session', { timeout: 120_000 }, async () => {
  await wholeSession('/esbuild/index.html');
});

test('Vite\'s default build runs a whole session', { timeout: 120_000 }, async () => {
  await wholeSession('/vite/index.html');
});

test('clientUrl: the client files hosted by the site itself', { timeout: 120_000 }, async () => {
  // As the README tells a site that hosts the client: copy the server's /cobrowse/js/client/.
  for (const f of ['cobrowse_client.js', 'cobrowse_client_bg.wasm']) {
    const res = await fetch(ctx.url(`/cobrowse/js/client/${f}`));
    assert.equal(res.status, 200, f);
    fs.writeFileSync(path.join(selfHosted, f), Buffer.from(await res.arrayBuffer()));
  }
  const page = `/esbuild/index.html?server=${encodeURIComponent(ctx.server.url)}`
    + `&client=${encodeURIComponent(ctx.siteUrl('/self-hosted/'))}`;
  await openCustomer(ctx, page);
  assert.ok(!ctx.site.hits.includes('/self-hosted/cobrowse_client.js'), 'nothing is loaded before a session');
  const token = await startSession(ctx);
  assert.ok(ctx.site.hits.includes('/self-hosted/cobrowse_client.js'), 'the module came from the site');
  assert.ok(ctx.site.hits.includes('/self-hosted/cobrowse_client_bg.wasm'), 'the wasm came from the site');
  await joinAgent(ctx, token);
  await waitForReplica(ctx);
  await ctx.customer.evaluate(() => window.shop.stop());
  await waitForAgentState(ctx, 'ended');
});

test('a client that cannot be loaded: the press and start() report load_failed to the shop', { timeout: 60_000 }, async () => {
  await ctx.customer.goto(ctx.siteUrl(`/esbuild/index.html?server=${encodeURIComponent('http://127.0.0.1:1')}`));
  // init() loads nothing for a page view, so it cannot fail here; the press and start() do.
  await ctx.customer.locator('[data-cobrowse-action="start"]').first().click();
  await waitIn(ctx, ctx.customer, 'the press to fail', () => window.shop.events.includes('error:load_failed'));
  await ctx.customer.evaluate(() => window.shop.start());
  const events = await ctx.customer.evaluate(() => window.shop.events);
  assert.equal(events.filter((e) => e.startsWith('init-failed')).length, 0, events.join(', '));
  const failed = events.find((e) => e.startsWith('start-failed:'));
  assert.match(failed, /^start-failed:load_failed:cobrowse-client: cannot load the client from http:\/\/127\.0\.0\.1:1\/cobrowse\/js\/client\//);
  assert.equal(await ctx.customer.evaluate(() => window.shop.state()), 'idle');
});
