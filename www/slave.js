// Bootstrap of the agent page: load the agent wasm and start it. All logic lives in Rust
// (agent-ui/); this file only exists because the page's CSP forbids inline scripts.
import init, { start_agent } from './js/agent/cobrowse_agent.js';

function fail(err) {
  const status = document.getElementById('cobrowse-status');
  if (status) {
    status.textContent = 'The agent page failed to load. Reload to try again.';
    status.dataset.state = 'ended';
    status.dataset.error = 'load_failed';
  }
  document.documentElement.dataset.cobrowseState = 'ended';
  console.error('[cobrowse-agent]', err);
}

init().then(() => start_agent()).catch(fail);
