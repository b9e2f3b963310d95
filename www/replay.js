// Bootstrap of the replay page: load the agent wasm and start its replay. All logic lives in Rust
// (agent-ui/src/web/replay.rs); this file only exists because the page's CSP forbids inline
// scripts.
import init, { start_replay } from './js/agent/cobrowse_agent.js';

function fail(err) {
  console.error('[cobrowse-replay]', err);
  document.documentElement.dataset.cobrowseReplay = 'failed';
  const status = document.getElementById('cobrowse-status');
  if (status) {
    status.dataset.state = 'ended';
    status.textContent = 'The replay page failed to load. Reload to try again.';
  }
}

init().then(() => start_replay()).catch(fail);
