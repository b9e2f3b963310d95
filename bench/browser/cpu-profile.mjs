// Reads a CDP CPU profile (`Profiler.stop`): the functions with the most self time, as a text
// table. Shared by profile.mjs and storms.mjs.

/** The `n` functions with the most self time in `profile`, one line each (ms, %, name file). */
export function top(profile, n = 15) {
  const self = new Map();
  const dt = profile.timeDeltas || [];
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const samples = profile.samples || [];
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]);
    const cf = node.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? cf.url.split('/').pop() : ''}`.trim();
    self.set(key, (self.get(key) || 0) + (dt[i] || 0) / 1000);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, ms]) => `${ms.toFixed(1).padStart(8)} ms ${(100 * ms / total).toFixed(1).padStart(5)} %  ${k}`).join('\n');
}
