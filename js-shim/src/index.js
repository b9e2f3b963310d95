// cobrowse-client: start and stop Cobrowse sessions from your own front-end code.
// Thin ES-module wrapper over the wasm client (all capture and session logic is Rust), loaded
// the lazy way the script-tag loader does (lazy.js); the same API as its `window.Cobrowse`.
// Apache-2.0.
//
// The client itself (its JS glue and wasm) is not bundled: it is imported at run time from the
// Cobrowse server (`<serverUrl>/cobrowse/js/client/`), like the script-tag loader does. So no
// bundler has to know about a wasm file (esbuild, Vite, webpack and Rollup work with their
// defaults), and the client always matches the server it talks to. `clientUrl` points elsewhere
// for sites that host the client files themselves.

import { createLazyClient } from './lazy.js';

let lazy = null;
let handlers = [];

/** The folder the client files are loaded from, with a trailing slash, or null. */
function clientBase({ clientUrl, serverUrl }) {
  // Absolute, so the module import (relative to this bundle) and the wasm fetch (relative to
  // the page) both land in the same folder.
  if (clientUrl) return new URL(String(clientUrl), document.baseURI).href.replace(/\/*$/, '/');
  const server = typeof serverUrl === 'string' ? serverUrl.trim().replace(/\/+$/, '') : '';
  return server ? `${server}/cobrowse/js/client/` : null;
}

/** Rejects like the client does (`{ code, message }`) and tells the `error` handlers. */
function failed(code, message) {
  const error = { code, message };
  for (const [event, cb] of handlers) {
    if (event !== 'error') continue;
    try {
      cb(error);
    } catch (e) {
      console.error(e);
    }
  }
  return Promise.reject(error);
}

/**
 * Mounts the client the lazy way (see lazy.js): the button when `button: true`, nothing else
 * until a session starts; a session an earlier page of this site started resumes at once (the
 * client is loaded then). Resolves when the API reflects the page's session; calling it again
 * returns the same promise.
 */
export function init(options = {}) {
  if (lazy) return lazy.ready;
  const { clientUrl, ...config } = options;
  if (config.button === undefined) config.button = false; // API-driven sites start from code
  let base;
  try {
    base = clientBase({ clientUrl, serverUrl: config.serverUrl });
  } catch {
    return failed('load_failed', `cobrowse-client: clientUrl ${JSON.stringify(String(clientUrl))} is not a URL`);
  }
  if (!base) return failed('no_server_url', 'cobrowse-client: pass serverUrl, the Cobrowse server\'s base URL');
  const serverUrl = typeof config.serverUrl === 'string' ? config.serverUrl.trim().replace(/\/+$/, '') : '';
  lazy = createLazyClient({
    window,
    config,
    serverUrl,
    // The stable names (revalidated on every load), not the loader's content-hashed ones: this
    // package is built once and talks to servers of any build, or to a folder the site hosts.
    clientJs: `${base}cobrowse_client.js`,
    clientWasm: `${base}cobrowse_client_bg.wasm`,
    handlers,
    name: 'cobrowse-client',
    log: (...args) => {
      if (config.debug) console.debug('[cobrowse]', ...args);
    },
  });
  handlers = [];
  return lazy.ready;
}

/** Starts a session (loading the client first if needed); resolves with the 9-digit token. */
export async function start(options) {
  if (!lazy) await init(options);
  return lazy.start();
}

/** Ends the current session; the agent is told. */
export function stop() {
  if (lazy) lazy.stop();
}

/** Registers `cb` for `event`. */
export function on(event, cb) {
  if (lazy) lazy.on(event, cb);
  else handlers.push([event, cb]);
}

/** Removes a handler registered with `on`. */
export function off(event, cb) {
  if (lazy) lazy.off(event, cb);
  handlers = handlers.filter(([e, f]) => !(e === event && f === cb));
}

/** The 9-digit session number, or null. */
export function sessionId() {
  return lazy ? lazy.sessionId() : null;
}

/** 'idle' | 'active' | 'ended'. */
export function state() {
  return lazy ? lazy.state() : 'idle';
}

/** Removes the UI and listeners without ending the session (e.g. on SPA teardown). */
export function destroy() {
  if (lazy) lazy.destroy();
  lazy = null;
}

export default { init, start, stop, on, off, sessionId, state, destroy };
