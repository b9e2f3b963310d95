// Profiles where the time goes in the worst ratios: Chromium's sampling profiler (CDP) on our
// agent page while it applies the workload deltas, and on the customer page while it captures
// them. Prints the top functions by self time.
//
//   node bench/browser/profile.mjs [page name, default "generated 1k"]

import fs from 'node:fs';
import { assertBundleBuilt, startServer } from '../../tests/lib/server.mjs';
import { launchBenchBrowser } from './driver.mjs';
import { CORPUS, runWorkload, setupWorkArea } from './pages.mjs';
import { openPage, staticRoot } from './run.mjs';
import { top } from './cpu-profile.mjs';

const want = process.argv[2] || 'generated 1k';
const entry = CORPUS.find((p) => p.name === want) || CORPUS[5];


assertBundleBuilt();
const www = staticRoot();
const server = await startServer({ env: { COBROWSE_STATIC_DIR: www, COBROWSE_LIMITS_LOOKUPS_PER_MINUTE: '100000', COBROWSE_LIMITS_LOOKUP_BURST: '10000' } });
const browser = await launchBenchBrowser();
const ctx = { server, browser };
try {
  const cust = await openPage(ctx, server.url + entry.path, 'ours');
  await cust.page.evaluate(setupWorkArea);
  await cust.page.waitForFunction(() => window.Cobrowse && window.Cobrowse.ready);
  await cust.page.evaluate(() => window.Cobrowse.ready.then(() => window.Cobrowse.load()));
  // The snapshot as the bench's customer row measures it: the client loaded, `start()` until
  // the snapshot frame.
  await cust.cdp.send('Profiler.enable');
  await cust.cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cust.cdp.send('Profiler.start');
  const token = await cust.page.evaluate(async () => {
    await window.Cobrowse.start();
    await window.__bench.snapshotSent; return window.Cobrowse.sessionId();
  });
  const { profile: sp } = await cust.cdp.send('Profiler.stop');
  console.log(`## customer page from start() to the snapshot frame (${entry.name}), top self time\n${top(sp, 25)}\n`);
  const agent = await browser.newPage('agent');
  await agent.goto(`${server.url}/cobrowse/slave.html#sid=${token}${server.agentToken ? `&auth=${encodeURIComponent(server.agentToken)}` : ''}`);
  await agent.waitForFunction(() => document.getElementById('cobrowse-replica')?.contentDocument?.getElementById('bench-work'), null, { timeout: 60000 });
  const acdp = await agent.cdp();
  const ccdp = cust.cdp;
  for (const c of [acdp, ccdp]) { await c.send('Profiler.enable'); await c.send('Profiler.setSamplingInterval', { interval: 100 }); await c.send('Profiler.start'); }
  const nonce = 'end-profile';
  await cust.page.evaluate((n) => window.__bench.expectEnd(n), nonce);
  await cust.page.evaluate(runWorkload, nonce);
  await cust.page.evaluate(() => window.__bench.endSent);
  await agent.waitForFunction((n) => document.getElementById('cobrowse-replica').contentDocument.getElementById('bench-work')?.getAttribute('data-bench-end') === n, nonce, { timeout: 60000 });
  const { profile: ap } = await acdp.send('Profiler.stop');
  const { profile: cp } = await ccdp.send('Profiler.stop');
  console.log(`## agent page applying the workload (${entry.name}), top self time\n${top(ap)}\n`);
  console.log(`## customer page capturing the workload (${entry.name}), top self time\n${top(cp)}\n`);
} finally {
  await browser.close().catch(() => {});
  await server.stop();
  fs.rmSync(www, { recursive: true, force: true });
}
