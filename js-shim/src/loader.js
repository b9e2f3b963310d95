/*! Cobrowse loader — served as /cobrowse/js/cobrowse.js. Apache-2.0.
 *
 * The site owner's snippet inserts this script (see ARCHITECTURE.md). It only finds its server,
 * loads the wasm client next to itself and exposes `window.Cobrowse`; all capture, UI and session
 * logic is Rust (client-wasm). Calls made before the wasm is ready are queued and replayed.
 *
 * window.Cobrowse = { start(), stop(), on(event, cb), off(event, cb), sessionId(), state(), ready }
 * Events: session {token, historyId} · state 'idle'|'active'|'ended' · agentJoined · agentLeft ·
 *         ended {reason} · error {code, message}. When ready, `cobrowse:ready` fires on window.
 */
(function (window, document) {
  'use strict';
  if (window.Cobrowse && window.Cobrowse.__cobrowseLoader) {
    return; // the snippet ran twice; keep the first client
  }

  // Our own <script>: currentScript while this classic script runs, else the last match.
  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="cobrowse.js"]');
    script = all[all.length - 1] || null;
  }
  var src = (script && script.src) || '';
  // Folder of this file (…/cobrowse/js/), where client/cobrowse_client.js lives.
  var base = src ? src.replace(/[?#].*$/, '').replace(/[^/]*$/, '') : '';
  var serverUrl = (script && script.getAttribute('data-server-url')) || '';
  if (!serverUrl && src) {
    // …/cobrowse/js/cobrowse.js → the server root (keeps a reverse-proxy path prefix).
    serverUrl = src.replace(/[?#].*$/, '').replace(/\/cobrowse\/js\/[^/]*$/, '');
  }
  serverUrl = serverUrl.replace(/\/+$/, '');

  var config = {};
  var userConfig = window.cobrowseConfig || {};
  for (var k in userConfig) {
    if (Object.prototype.hasOwnProperty.call(userConfig, k)) config[k] = userConfig[k];
  }
  if (!config.serverUrl) config.serverUrl = serverUrl;

  var client = null;
  var loadError = null;
  var handlers = []; // [event, cb] registered before load, replayed onto the client
  var queue = []; // [method, resolve, reject] for start/stop before load

  function log() {
    if (config.debug && window.console) {
      var args = Array.prototype.slice.call(arguments);
      args.unshift('[cobrowse]');
      window.console.debug.apply(window.console, args);
    }
  }

  function fail(err) {
    loadError = err;
    log('loading failed', err);
    var detail = { code: 'load_failed', message: String((err && err.message) || err) };
    handlers.forEach(function (h) {
      if (h[0] === 'error') {
        try { h[1](detail); } catch (e) { log(e); }
      }
    });
    queue.splice(0).forEach(function (q) { q[2](detail); });
  }

  function run(method) {
    if (method === 'start') return client.start();
    client.stop();
    return Promise.resolve();
  }

  var api = {
    __cobrowseLoader: true,
    /** Starts a session; resolves with the 9-digit token. */
    start: function () {
      if (client) return run('start');
      if (loadError) return Promise.reject({ code: 'load_failed', message: String(loadError) });
      return new Promise(function (resolve, reject) { queue.push(['start', resolve, reject]); });
    },
    /** Ends the session. */
    stop: function () {
      if (client) return run('stop');
      return new Promise(function (resolve, reject) { queue.push(['stop', resolve, reject]); });
    },
    on: function (event, cb) {
      if (typeof cb !== 'function') return api;
      if (client) client.on(String(event), cb);
      else handlers.push([String(event), cb]);
      return api;
    },
    off: function (event, cb) {
      if (client) client.off(String(event), cb);
      handlers = handlers.filter(function (h) { return !(h[0] === event && h[1] === cb); });
      return api;
    },
    sessionId: function () { return client ? client.sessionId() || null : null; },
    state: function () { return client ? client.state() : 'idle'; },
    /** Resolves when the client is loaded (rejects if loading failed). */
    ready: null,
    /** Where this loader found its server, for diagnostics. */
    serverUrl: serverUrl
  };

  api.ready = import(base + 'client/cobrowse_client.js')
    .then(function (m) {
      return m.default({ module_or_path: base + 'client/cobrowse_client_bg.wasm' }).then(function () {
        client = new m.CobrowseClient(config);
        handlers.forEach(function (h) { client.on(h[0], h[1]); });
        handlers = [];
        client.mount();
        queue.splice(0).forEach(function (q) { run(q[0]).then(q[1], q[2]); });
        log('ready, server', serverUrl);
        try {
          window.dispatchEvent(new CustomEvent('cobrowse:ready', { detail: api }));
        } catch (e) { log(e); }
        return api;
      });
    })
    .catch(function (err) {
      fail(err);
      throw err;
    });
  // An unhandled rejection of `ready` would be noise on pages that never look at it.
  api.ready.catch(function () {});

  window.Cobrowse = api;
})(window, document);
