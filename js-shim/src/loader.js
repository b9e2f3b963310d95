/*! Cobrowse loader — served as /cobrowse/js/cobrowse.js. Apache-2.0. */
// The site owner's snippet inserts this script (see ARCHITECTURE.md). It finds its server, draws
// the co-browse button and exposes `window.Cobrowse`; the client (JS glue + wasm, all capture, UI
// and session logic) is loaded only when a session starts or resumes (`lazy.js`). build.mjs
// bundles this file and `lazy.js` into one classic script and writes the client's content-hashed
// file names into `CLIENT_JS` / `CLIENT_WASM`.
//
// window.Cobrowse = { start(), stop(), on(event, cb), off(event, cb), sessionId(), state(), load(), ready }
// Events: session {token, historyId} · state 'idle'|'active'|'ended' · agentJoined · agentLeft ·
//         ended {reason} · error {code, message} · mode. When ready, `cobrowse:ready` fires on window.

import { createLazyClient } from './lazy.js';

/* global CLIENT_JS, CLIENT_WASM */

(function (window, document) {
  if (window.Cobrowse && window.Cobrowse.__cobrowseLoader) {
    return; // the snippet ran twice; keep the first client
  }

  // Our own <script>: currentScript while this classic script runs, else the last match.
  let script = document.currentScript;
  if (!script) {
    const all = document.querySelectorAll('script[src*="cobrowse.js"]');
    script = all[all.length - 1] || null;
  }
  const src = (script && script.src) || '';
  // Folder of this file (…/cobrowse/js/), where client/ lives.
  const base = src ? src.replace(/[?#].*$/, '').replace(/[^/]*$/, '') : '';
  let serverUrl = (script && script.getAttribute('data-server-url')) || '';
  if (!serverUrl && src) {
    // …/cobrowse/js/cobrowse.js → the server root (keeps a reverse-proxy path prefix).
    serverUrl = src.replace(/[?#].*$/, '').replace(/\/cobrowse\/js\/[^/]*$/, '');
  }
  serverUrl = serverUrl.replace(/\/+$/, '');

  const config = Object.assign({}, window.cobrowseConfig || {});
  if (!config.serverUrl) config.serverUrl = serverUrl;
  const log = (...args) => {
    if (config.debug && window.console) window.console.debug('[cobrowse]', ...args);
  };

  // Both loads are CORS requests from the site's origin (import() of a module; the glue's plain
  // fetch() of the wasm), with credentials only when same-origin: the server answers them with
  // Access-Control-Allow-Origin for the sites crossOrigin.allowedOrigins allows, and no cookie
  // is ever needed, so neither a crossorigin attribute nor fetch options are set here.
  const lazy = createLazyClient({
    window,
    config,
    serverUrl,
    clientJs: base + CLIENT_JS,
    clientWasm: base + CLIENT_WASM,
    log,
  });

  const api = {
    __cobrowseLoader: true,
    start: () => lazy.start(),
    stop: () => lazy.stop(),
    on(event, cb) {
      lazy.on(event, cb);
      return api;
    },
    off(event, cb) {
      lazy.off(event, cb);
      return api;
    },
    sessionId: () => lazy.sessionId(),
    state: () => lazy.state(),
    load: () => lazy.load().then(() => api),
    ready: null,
    /** Where this loader found its server, for diagnostics. */
    serverUrl,
  };
  api.ready = lazy.ready.then(() => {
    log('ready, server', serverUrl);
    try {
      window.dispatchEvent(new CustomEvent('cobrowse:ready', { detail: api }));
    } catch (e) {
      log(e);
    }
    return api;
  });
  // An unhandled rejection of `ready` would be noise on pages that never look at it.
  api.ready.catch(() => {});
  window.Cobrowse = api;
})(window, document);
