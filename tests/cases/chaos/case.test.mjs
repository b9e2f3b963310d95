// Chaos: the customer's and the agent's WebSocket links go through fault proxies
// (lib/faults.mjs) that cut them mid-frame (reset), delay them, throttle them and black-hole
// them (no reset, no close), at random (seeded; `CHAOS_SEED`, `CHAOS_FAULTS`), while the
// customer's page keeps changing and the agent types and clicks in write mode. After every fault
// the replica must equal the customer's page again (DOM trees compared); every agent action (a
// click on the replica, a keystroke: one `Click` or `Input` action each) must have been performed
// exactly once (counted on the customer's page) or refused visibly on the agent page. A click is
// counted wherever it lands: the page keeps changing and a rebuilt replica can move under the
// pointer between aiming and clicking, so a click meant for the counter may hit the field, as it
// would for a person; the customer's field
// must hold what the agent's field holds; the session must never end by itself; both pages must
// have said that they were reconnecting, and every black hole must have been noticed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  agentUrl, compareDom, customerState, openCustomer, setupCase, startSession, waitForAgentState,
  waitForCustomerState, waitForReplica, waitIn,
} from '../../lib/harness.mjs';
import { startFaultProxy } from '../../lib/faults.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PAGE = '/chaos/page.html';
const FAULTS = Number(process.env.CHAOS_FAULTS || 100);
const SEED = Number(process.env.CHAOS_SEED || Math.floor(Math.random() * 2 ** 31));
// The server's ping period, also the clients' keep-alive (Welcome.link): a black-holed link is
// noticed within about twice this.
const PING_MS = 500;
// How long the replica may take to equal the page again after a fault was healed.
const RECOVERY_MS = 20_000;

/** mulberry32: a small seeded PRNG, so a failing run can be repeated with its seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let ctx;
let customerProxy;
let agentProxy;
before(async () => {
  ctx = await setupCase('chaos', {
    serverEnv: { COBROWSE_LIMITS_PING_INTERVAL: `${PING_MS}ms` },
    site: { [PAGE]: path.join(here, 'page.html') },
  });
  const log = (name) => (line) => { if (process.env.CHAOS_DEBUG) console.log(`${Date.now()} ${name} ${line}`); };
  customerProxy = await startFaultProxy(ctx.server.url, { log: log('customer-proxy') });
  agentProxy = await startFaultProxy(ctx.server.url, { log: log('agent-proxy') });
  // The customer's page names the proxy as its co-browse server (loader, REST, socket); the
  // agent page is opened through the other one (its socket is next to the page).
  ctx.site.setServer(customerProxy.url);
});
after(async () => {
  await customerProxy?.close();
  await agentProxy?.close();
  await ctx?.close();
});

/** Centre of replica element #id in agent-page coordinates. */
async function replicaPoint(id) {
  await waitIn(ctx, ctx.agent, `replica has #${id}`,
    (id) => !!document.getElementById('cobrowse-replica').contentDocument?.getElementById(id), id);
  return ctx.agent.evaluate((id) => {
    const f = document.getElementById('cobrowse-replica');
    const fr = f.getBoundingClientRect();
    const scale = fr.width / f.offsetWidth || 1;
    const r = f.contentDocument.getElementById(id).getBoundingClientRect();
    return { x: fr.left + f.clientLeft + (r.left + r.width / 2) * scale, y: fr.top + f.clientTop + (r.top + r.height / 2) * scale };
  }, id);
}

async function agentClick(id) {
  const p = await replicaPoint(id);
  await ctx.agent.mouse.click(p.x, p.y);
}

/** Polls a condition of the test process itself (the proxies), up to RECOVERY_MS. */
async function until(cond, what) {
  const deadline = Date.now() + RECOVERY_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw ctx.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A random fault for one link. */
function pick(random) {
  const r = random();
  if (r < 0.3) return { kind: 'cut' };
  if (r < 0.5) return { kind: 'blackhole' };
  if (r < 0.75) return { kind: 'delay', ms: 100 + Math.floor(random() * 500), forMs: 300 + Math.floor(random() * 900) };
  return { kind: 'throttle', bytesPerSecond: 2000 + Math.floor(random() * 30_000), forMs: 300 + Math.floor(random() * 900) };
}

test(`${FAULTS} random faults on both links, seed ${SEED}`, { timeout: 900_000 }, async () => {
  console.log(`# chaos seed ${SEED} (CHAOS_SEED=${SEED} repeats this run), ${FAULTS} faults`);
  const random = rng(SEED);
  const started = Date.now();

  if (process.env.CHAOS_DEBUG) {
    // Every console line of both pages (the clients' debug logs), for a failing seed.
    const lines = [];
    for (const [name, page] of [['customer', ctx.customer], ['agent', ctx.agent]]) {
      page.on('console', (m) => lines.push(`${Date.now()} [${name}] ${m.text()}`));
    }
    after(() => fs.writeFileSync(path.join(ctx.resultsDir, 'pages-debug.log'), lines.join('\n')));
  }
  await openCustomer(ctx, PAGE);
  await ctx.customer.evaluate(() => {
    window.__ended = [];
    window.Cobrowse.on('ended', (e) => window.__ended.push(e));
  });
  const token = await startSession(ctx);
  await ctx.agent.goto(agentUrl(ctx, `sid=${token}${process.env.CHAOS_DEBUG ? '&debug=1' : ''}`).replace(ctx.server.url, agentProxy.url));
  await waitForAgentState(ctx, 'active');
  await waitForCustomerState(ctx, 'active');
  // Every refusal the agent page shows, counted (the notice is replaced by the next one), and
  // every keystroke into the agent's typing field (each sends one Input action).
  await ctx.agent.evaluate(() => {
    window.__refusals = [];
    window.__keystrokes = 0;
    // Where each click of the agent landed (the overlay above the replica sends it).
    window.__clickTargets = [];
    document.addEventListener('click', (e) => {
      window.__clickTargets.push(e.target.id || e.target.className || e.target.localName);
    }, true);
    document.addEventListener('input', (e) => {
      if (e.target.id === 'cobrowse-typing') window.__keystrokes += 1;
    }, true);
    const mode = document.getElementById('cobrowse-mode');
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.attributeName === 'data-refusal') window.__refusals.push(mode.dataset.refusal);
      }
    }).observe(mode, { attributes: true, attributeFilter: ['data-refusal'] });
  });

  // Write mode.
  await ctx.agent.locator('#cobrowse-request-control').click();
  const grant = ctx.customer.locator('[data-cobrowse-action="grant"]').first();
  await grant.waitFor({ state: 'visible' });
  await grant.click();
  await waitIn(ctx, ctx.agent, 'agent in write mode', () => document.documentElement.dataset.cobrowseMode === 'write');

  // In step before any fault.
  await ctx.customer.evaluate(() => { window.__chaosPaused = true; });
  await waitForReplica(ctx);
  await ctx.customer.evaluate(() => { window.__chaosPaused = false; });

  // Clicks on the replica (on the counter or the field), each one `Click` action.
  let clicks = 0;
  const recoveries = { cut: [], delay: [], throttle: [], blackhole: [] };
  let divergences = 0;
  const noticed = { customer: [], agent: [] };
  let unnoticed = 0;
  let injected = 0;
  // Both pages say when they are reconnecting: count how often they did.
  const watchConnection = (page, selector) => page.evaluate((selector) => {
    window.__reconnecting = [];
    const el = document.querySelector(selector);
    let was = false;
    new MutationObserver(() => {
      const now = Object.values(el.dataset).includes('reconnecting');
      if (now && !was) window.__reconnecting.push(Date.now());
      was = now;
    }).observe(el, { attributes: true });
  }, selector);
  await watchConnection(ctx.customer, '[data-cobrowse-ui]');
  await watchConnection(ctx.agent, 'html');

  for (let i = 0; i < FAULTS; i++) {
    const side = random() < 0.5 ? 'customer' : 'agent';
    const proxy = side === 'customer' ? customerProxy : agentProxy;
    const fault = pick(random);
    // Between sockets (a previous fault's reconnect still running): wait for the new link.
    await until(() => proxy.live().length > 0, `a live ${side} link`);
    proxy.inject(fault);
    injected += 1;
    const t0 = Date.now();
    // The agent acts while the link suffers: a click on the counter, a character typed.
    const steps = 1 + Math.floor(random() * 3);
    for (let s = 0; s < steps; s++) {
      if (random() < 0.5) {
        if (process.env.CHAOS_TRACE) {
          const st = await ctx.agent.evaluate(() => JSON.stringify(document.documentElement.dataset));
          console.log(`# trace fault ${i} click ${clicks + 1}: agent ${st}`);
        }
        await agentClick('plus');
        clicks += 1;
      } else {
        await agentClick('field');
        clicks += 1;
        const ch = String.fromCharCode(97 + Math.floor(random() * 26));
        await ctx.agent.keyboard.type(ch);
      }
    }
    // The fault lasts a while (a cut link and a black hole: until the page noticed), while the
    // page goes on changing into it.
    const window_ = fault.forMs ?? 300 + Math.floor(random() * 600);
    await new Promise((r) => setTimeout(r, Math.max(0, window_ - (Date.now() - t0))));

    // Quiesce the page, then the replica must equal it again.
    await ctx.customer.evaluate(() => { window.__chaosPaused = true; });
    const deadline = Date.now() + RECOVERY_MS;
    let last;
    for (;;) {
      last = await compareDom(ctx.customer, ctx.agent);
      if (last.equal || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (process.env.CHAOS_TRACE) {
      const c = await ctx.customer.evaluate(() => window.__agentClicks);
      console.log(`# trace fault ${i} (${side} ${JSON.stringify(fault)}): clicks sent ${clicks}, performed ${c}`);
    }
    if (!last.equal) {
      divergences += 1;
      console.log(`# fault ${i} (${side} ${fault.kind}): replica still differs: ${last.diffs.slice(0, 5).join(' | ')}`);
    }
    recoveries[fault.kind].push(Date.now() - t0);
    if (fault.kind === 'blackhole') {
      // When the page noticed (it shows that it is reconnecting): the keep-alive's time.
      const page = side === 'customer' ? ctx.customer : ctx.agent;
      const at = (await page.evaluate(() => window.__reconnecting)).find((t) => t >= t0);
      if (at) noticed[side].push(at - t0);
      else unnoticed += 1;
    }
    await ctx.customer.evaluate(() => { window.__chaosPaused = false; });

    // The session goes on by itself.
    assert.equal(await customerState(ctx.customer), 'active', `customer after fault ${i}`);
    assert.notEqual(await ctx.agent.evaluate(() => document.documentElement.dataset.cobrowseState), 'ended', `agent after fault ${i}`);
  }

  // Every click performed once or refused on the agent page; the field holds what was typed.
  await ctx.customer.evaluate(() => { window.__chaosPaused = true; });
  const refusals = await ctx.agent.evaluate(() => window.__refusals);
  const keystrokes = await ctx.agent.evaluate(() => window.__keystrokes);
  const sent = clicks + keystrokes;
  try {
    await waitIn(ctx, ctx.customer, `the customer performed ${sent} actions minus refusals`,
      ([n]) => window.__agentClicks + window.__inputs === n,
      [sent - refusals.length]);
  } catch (e) {
    // What was performed and refused, so a failing seed says whether an action was lost or
    // performed twice.
    const seen = await ctx.customer.evaluate(() => ({
      count: window.__agentClicks, inputs: window.__inputs,
      field: document.getElementById('field').value,
    }));
    const agentField = await ctx.agent.locator('#cobrowse-typing').inputValue();
    console.log(`# sent ${sent} (${clicks} clicks, ${keystrokes} keystrokes); performed ${seen.count} clicks, ${seen.inputs} inputs; refused ${refusals.length} (${refusals.join(', ') || 'none'})`);
    console.log(`# customer field ${JSON.stringify(seen.field)}, agent's ${JSON.stringify(agentField)}`);
    const targets = await ctx.agent.evaluate(() => window.__clickTargets);
    console.log(`# the agent's clicks landed on: ${JSON.stringify(targets.reduce((m, t) => ({ ...m, [t]: (m[t] || 0) + 1 }), {}))}`);
    throw e;
  }
  const count = await ctx.customer.evaluate(() => window.__agentClicks);
  const counter = Number(await ctx.customer.locator('#count').textContent());
  const inputs = await ctx.customer.evaluate(() => window.__inputs);
  const field = await ctx.customer.locator('#field').inputValue();
  const agentField = await ctx.agent.locator('#cobrowse-typing').inputValue();
  const ended = await ctx.customer.evaluate(() => window.__ended);
  const sawReconnecting = {
    customer: (await ctx.customer.evaluate(() => window.__reconnecting)).length,
    agent: (await ctx.agent.evaluate(() => window.__reconnecting)).length,
  };
  const seconds = (Date.now() - started) / 1000;
  const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : 0);
  console.log(`# faults injected: ${injected} (customer link: ${JSON.stringify(customerProxy.stats)}, agent link: ${JSON.stringify(agentProxy.stats)})`);
  console.log(`# DOM divergences after recovery: ${divergences}`);
  console.log(`# agent actions: ${sent} sent (${clicks} clicks, ${keystrokes} keystrokes), ${count + inputs} performed once (${count} clicks, ${counter} of them on the counter, ${inputs} inputs), ${refusals.length} refused visibly (${refusals.join(', ') || 'none'}); lost: ${sent - count - inputs - refusals.length}`);
  console.log(`# customer field ${field === agentField ? 'equals' : 'DIFFERS FROM'} the agent's (${field.length} characters)`);
  console.log(`# median time from fault to equal replica: ${Object.entries(recoveries).map(([k, v]) => `${k} ${median(v)} ms (${v.length})`).join(', ')}`);
  const span = (xs) => (xs.length ? `${Math.min(...xs)}–${Math.max(...xs)} ms (median ${median(xs)}, ${xs.length})` : 'none');
  console.log(`# half-open (black-holed) link noticed by the page (keep-alive ${PING_MS} ms): customer ${span(noticed.customer)}, agent ${span(noticed.agent)}`);
  console.log(`# times shown reconnecting: customer ${sawReconnecting.customer}, agent ${sawReconnecting.agent}; runtime ${seconds.toFixed(1)} s`);
  assert.equal(divergences, 0, 'the replica equals the page after every fault');
  assert.equal(count + inputs + refusals.length, sent, 'every action performed exactly once or refused visibly');
  assert.equal(field, agentField, "the customer's field holds what the agent's holds");
  assert.deepEqual(ended, [], 'the session never ended by itself');
  assert.ok(sawReconnecting.customer > 0 && sawReconnecting.agent > 0, 'both pages showed that they were reconnecting');
  assert.equal(unnoticed, 0, 'every black-holed link was noticed');
});
