// Bootstrap of the agent page: load the agent wasm and start it. All logic lives in Rust
// (agent-ui/); this file only exists because the page's CSP forbids inline scripts.
import init, { start_agent } from './js/agent/cobrowse_agent.js';

// The wasm did not start, so its texts are not there: read the one message from the locale file
// of the language asked for (`#lang=` / `?lang=`, else the browser's), English if that fails.
async function loadFailedText() {
  const params = new URLSearchParams(location.hash.slice(1) + '&' + location.search.slice(1));
  const tag = (params.get('lang') || navigator.language || 'en').toLowerCase();
  for (const name of [tag, tag.split('-')[0], 'en']) {
    if (!/^[a-z0-9-]{1,35}$/.test(name)) continue;
    try {
      const r = await fetch(`locales/agent/${name}.json`);
      if (r.ok) {
        const text = (await r.json()).loadFailed;
        if (typeof text === 'string' && text.trim()) return { text, lang: name };
      }
    } catch { /* next */ }
  }
  return { text: 'The agent page failed to load. Reload to try again.', lang: 'en' };
}

async function fail(err) {
  console.error('[cobrowse-agent]', err);
  document.documentElement.dataset.cobrowseState = 'ended';
  const status = document.getElementById('cobrowse-status');
  if (status) {
    status.dataset.state = 'ended';
    status.dataset.error = 'load_failed';
    const { text, lang } = await loadFailedText();
    status.textContent = text;
    status.lang = lang;
  }
}

init().then(() => start_agent()).catch(fail);
