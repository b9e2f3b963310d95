// Main-thread cost as the bench reports it: Chromium's TaskDuration and ScriptDuration counted in
// the thread's CPU time (CDP `Performance.enable` with `timeDomain: 'threadTicks'`), not in wall
// time. Wall time on the bench machine (a 2-core VM) charges a task for time it did not run: a
// 1,000 ms busy loop in an otherwise idle page got 630–740 ms of CPU, and its iterations per CPU
// millisecond were the same in every run (~7,000) while those per wall millisecond were not; and
// the page measured shares the cores with the session's other page and the server (a trace of our
// agent page applying the workload while the customer page produced it: its tasks' wall time 3×
// their CPU time; rrweb's replay, alone: 1.2×). CPU time charges each page for its own work. It
// leaves out work on other threads for everyone alike (garbage collection helpers, raster).

/** Starts the page's metrics in thread time; call once per CDP session, before the first read. */
export async function enableMetrics(cdp) {
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
}

/** The page's main-thread totals so far, in ms: `task` (TaskDuration), `script` (ScriptDuration). */
export async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  const get = (n) => list.find((m) => m.name === n)?.value ?? 0;
  return { task: get('TaskDuration') * 1000, script: get('ScriptDuration') * 1000 };
}

/** What happened between two readings of `metrics`. */
export const diff = (a, b) => ({ task: b.task - a.task, script: b.script - a.script });
