// The lazy client the script-tag loader and the npm package share. Apache-2.0.
//
// A page view without a session costs only this: no wasm is fetched and nothing observes the
// page. The co-browse button is drawn here, in the customer UI's own look (the client's
// `ui.css`, the built-in texts of `www/locales/customer/`), and the client (its JS glue and
// wasm) is imported only when it is needed:
//   * the customer presses the button (the client then opens the call confirmation or starts);
//   * a session is kept in `sessionStorage` by an earlier page of this site (it resumes);
//   * the page calls `start()` (or `load()`).
// Calls and handlers made before the client is there are queued and replayed onto it; when it
// mounts, its own UI replaces the button drawn here within the same task.

import CSS from '../../client-wasm/src/web/ui.css';
// Named imports, so the bundle holds these three texts of each file, not the whole files.
import { button as enButton, buttonLabel as enLabel, connecting as enConnecting } from '../../www/locales/customer/en.json';
import { button as deButton, buttonLabel as deLabel, connecting as deConnecting } from '../../www/locales/customer/de.json';

/** `sessionStorage` key of a running session: client-wasm's `session::STORAGE_KEY`. */
export const STORAGE_KEY = 'cobrowse:session';

/** The texts this file shows, per built-in language (the client compiles in the same two). */
const BUILT_IN = {
  en: { button: enButton, buttonLabel: enLabel, connecting: enConnecting },
  de: { button: deButton, buttonLabel: deLabel, connecting: deConnecting },
};
const POSITIONS = ['bottom-right', 'bottom-left', 'top-right', 'top-left'];

/** True when an earlier page of this site left a session to resume (storage may be off). */
export function hasStoredSession(window) {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    const s = raw ? JSON.parse(raw) : null;
    return !!(s && typeof s.token === 'string' && s.token);
  } catch (e) {
    return false;
  }
}

/** Locale file names to try for `tag`, most specific first (common's `locale::candidates`). */
export function candidates(tag) {
  const t = String(tag || '').trim().toLowerCase().replace(/_/g, '-');
  if (!t || t.length > 35 || !/^[a-z0-9-]+$/.test(t) || t[0] === '-') return [];
  const primary = t.split('-')[0];
  return t.includes('-') && primary ? [t, primary] : [t];
}

/** The UI language, as the client picks it: config, then `<html lang>`, then the browser's. */
export function language(config, document, navigator) {
  const choices = [config.locale, document.documentElement && document.documentElement.getAttribute('lang'),
    navigator && navigator.language];
  for (const c of choices) {
    if (typeof c === 'string' && candidates(c).length) return c.trim();
  }
  return 'en';
}

/** A text that may replace English's: non-empty and, like English's, without placeholders. */
const usable = (v) => typeof v === 'string' && v.trim() !== '' && !/\{[^}]*\}/.test(v);

/**
 * The lazy client. `options`:
 *   window, config (the client's config object, passed to it unchanged but for `texts`),
 *   clientJs / clientWasm (URLs of the glue and the wasm), serverUrl (for locale files),
 *   handlers ([event, cb] registered before), name (for error messages), log (debug logger).
 * Returns the page API: start, stop, on, off, sessionId, state, load, destroy, and `ready`.
 */
export function createLazyClient(options) {
  const { window, config, clientJs, clientWasm, serverUrl, log } = options;
  const name = options.name || 'cobrowse';
  const document = window.document;
  let handlers = options.handlers ? options.handlers.slice() : [];
  let client = null;
  let loading = null;
  let pressed = false;
  let button = null; // { host, launch, texts }
  let localeMap = null; // a non-built-in language's file, fetched for the button

  const emitError = (detail) => {
    for (const [event, cb] of handlers) {
      if (event !== 'error') continue;
      try {
        cb(detail);
      } catch (e) {
        log(e);
      }
    }
  };

  /** Imports the client, mounts it (its UI replaces ours), replays what waited for it. */
  function load() {
    if (client) return Promise.resolve(client);
    if (loading) return loading;
    log('loading the client', clientJs);
    loading = import(/* webpackIgnore: true */ /* @vite-ignore */ clientJs)
      .then((m) => m.default({ module_or_path: clientWasm }).then(() => m))
      .then((m) => {
        const cfg = Object.assign({}, config);
        if (localeMap) cfg.texts = Object.assign({}, localeMap, config.texts || {});
        const c = new m.CobrowseClient(cfg);
        for (const [event, cb] of handlers) c.on(event, cb);
        handlers = [];
        removeButton();
        c.mount();
        client = c;
        if (pressed) {
          pressed = false;
          c.launch();
        }
        log('client ready');
        return c;
      })
      .catch((err) => {
        loading = null;
        pressed = false;
        setBusy(false);
        const detail = { code: 'load_failed', message: `${name}: cannot load the client from ${clientJs}: ${(err && err.message) || err}` };
        log(detail.message);
        emitError(detail);
        throw detail;
      });
    return loading;
  }

  function setBusy(busy) {
    if (!button) return;
    button.launch.textContent = busy ? button.texts.connecting : button.texts.button;
    if (busy) button.launch.setAttribute('aria-busy', 'true');
    else button.launch.removeAttribute('aria-busy');
  }

  function removeButton() {
    if (button) button.host.remove();
    button = null;
  }

  /** Draws the co-browse button in a shadow root, as client-wasm's `web::ui` does. */
  function drawButton() {
    const lang = language(config, document, window.navigator);
    const texts = Object.assign({}, BUILT_IN.en);
    const builtIn = candidates(lang).map((c) => BUILT_IN[c]).find(Boolean);
    Object.assign(texts, builtIn || {});
    const overrides = config.texts || {};
    const apply = (map) => {
      for (const k of Object.keys(texts)) if (usable(map[k])) texts[k] = map[k];
    };
    apply(overrides);

    const host = document.createElement('div');
    host.id = 'cobrowse-ui';
    host.setAttribute('data-cobrowse-ui', '');
    host.setAttribute('data-state', 'idle');
    const root = host.attachShadow({ mode: 'open' });
    // A constructed sheet passes a strict `style-src`; a <style> element is the old browsers' way.
    let styled = false;
    try {
      const sheet = new window.CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
      styled = true;
    } catch (e) { /* below */ }
    if (!styled) {
      const style = document.createElement('style');
      style.textContent = CSS;
      root.appendChild(style);
    }
    const box = document.createElement('div');
    box.className = 'cb';
    box.lang = lang;
    const pos = POSITIONS.includes(config.buttonPosition) ? config.buttonPosition : 'bottom-right';
    const launch = document.createElement('button');
    launch.className = `launch primary ${pos}`;
    launch.setAttribute('data-cobrowse-action', 'start');
    launch.setAttribute('aria-describedby', 'cb-launch-desc');
    launch.textContent = texts.button;
    const desc = document.createElement('span');
    desc.id = 'cb-launch-desc';
    desc.className = 'sr';
    desc.textContent = texts.buttonLabel;
    box.append(launch, desc);
    root.appendChild(box);
    launch.addEventListener('click', () => {
      if (pressed) return;
      pressed = true;
      setBusy(true);
      load().catch(() => {});
    });
    document.documentElement.appendChild(host);
    button = { host, launch, texts };

    if (!builtIn && serverUrl) {
      // Another language: its file from the server's static root, English until it arrives.
      fetchLocale(lang).then((map) => {
        if (!map) return;
        localeMap = map;
        apply(map);
        apply(overrides);
        if (button) {
          setBusy(pressed);
          desc.textContent = texts.buttonLabel;
        }
      });
    }
  }

  async function fetchLocale(lang) {
    for (const name of candidates(lang)) {
      try {
        const r = await window.fetch(`${serverUrl}/cobrowse/locales/customer/${name}.json`);
        if (!r.ok) continue;
        const map = await r.json();
        if (map && typeof map === 'object' && !Array.isArray(map)) return map;
      } catch (e) {
        log(e);
      }
    }
    return null;
  }

  const api = {
    /** Starts a session (loading the client first); resolves with the 9-digit token. */
    start() {
      return load().then((c) => c.start());
    },
    /** Ends the session; without a client there is none to end. */
    stop() {
      if (client) {
        client.stop();
        return Promise.resolve();
      }
      if (loading) return loading.then((c) => c.stop(), () => {});
      return Promise.resolve();
    },
    on(event, cb) {
      if (typeof cb !== 'function') return;
      if (client) client.on(String(event), cb);
      else handlers.push([String(event), cb]);
    },
    off(event, cb) {
      if (client) client.off(String(event), cb);
      handlers = handlers.filter((h) => !(h[0] === event && h[1] === cb));
    },
    sessionId() {
      return client ? client.sessionId() || null : null;
    },
    state() {
      return client ? client.state() : 'idle';
    },
    /** Loads the client now (e.g. to have it ready before a likely press). */
    load() {
      return load();
    },
    /** Removes the UI and listeners without ending the session. */
    destroy() {
      removeButton();
      if (client) client.destroy();
      client = null;
      loading = null;
      handlers = [];
    },
    /** Resolves once the API reflects the page's session: at once, or after a resume loaded the client. */
    ready: null,
  };

  if (hasStoredSession(window)) {
    log('a session to resume: loading the client');
    api.ready = load();
  } else {
    if (config.button !== false) drawButton();
    api.ready = Promise.resolve(null);
  }
  return api;
}
