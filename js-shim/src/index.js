// cobrowse-client: start and stop Cobrowse sessions from your own front-end code.
// Thin ES-module wrapper over the wasm client (all capture and session logic is Rust);
// the same API as the script-tag loader's `window.Cobrowse`. Apache-2.0.

import initWasm, { CobrowseClient } from './wasm/cobrowse_client.js';

let client = null;
let loading = null;
let handlers = [];

/**
 * Loads the wasm client with `options` (see index.d.ts) and shows its UI; resumes a session
 * that an earlier page of this site started. Calling it again returns the same client.
 */
export function init(options = {}) {
  if (loading) return loading;
  const { wasmUrl, ...config } = options;
  if (config.button === undefined) config.button = false; // API-driven sites start from code
  loading = initWasm(wasmUrl ? { module_or_path: wasmUrl } : undefined).then(() => {
    client = new CobrowseClient(config);
    for (const [event, cb] of handlers) client.on(event, cb);
    handlers = [];
    client.mount();
    return client;
  });
  loading.catch(() => { loading = null; });
  return loading;
}

/** Starts a session (loading the client first if needed); resolves with the 9-digit token. */
export async function start(options) {
  const c = client || (await init(options));
  return c.start();
}

/** Ends the current session; the agent is told. */
export function stop() {
  if (client) client.stop();
}

/** Registers `cb` for `event`. */
export function on(event, cb) {
  if (client) client.on(event, cb);
  else handlers.push([event, cb]);
}

/** Removes a handler registered with `on`. */
export function off(event, cb) {
  if (client) client.off(event, cb);
  handlers = handlers.filter(([e, f]) => !(e === event && f === cb));
}

/** The 9-digit session number, or null. */
export function sessionId() {
  return client ? client.sessionId() ?? null : null;
}

/** 'idle' | 'active' | 'ended'. */
export function state() {
  return client ? client.state() : 'idle';
}

/** Removes the UI and listeners without ending the session (e.g. on SPA teardown). */
export function destroy() {
  if (client) client.destroy();
  client = null;
  loading = null;
}

export default { init, start, stop, on, off, sessionId, state, destroy };
