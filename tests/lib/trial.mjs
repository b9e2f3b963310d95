// Starts the real cobrowse-trial binary (trial-proxy/) for a case: an existing site served
// through it with the snippet injected and /cobrowse/ forwarded to the case's co-browse server.
// The proxy listens on the customer site's host (127.0.0.2), so the customer's page is on another
// origin than the server's, as everywhere in the e2e suite.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './server.mjs';
import { SITE_HOST } from './site.mjs';

/**
 * Where the proxy binary is: $COBROWSE_TRIAL_BIN (set by scripts/test.sh), else the debug or
 * release build in $CARGO_TARGET_DIR (default target/).
 */
export function trialBinary() {
  if (process.env.COBROWSE_TRIAL_BIN) {
    if (!fs.existsSync(process.env.COBROWSE_TRIAL_BIN)) {
      throw new Error(`COBROWSE_TRIAL_BIN=${process.env.COBROWSE_TRIAL_BIN} does not exist`);
    }
    return process.env.COBROWSE_TRIAL_BIN;
  }
  const targetDir = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target');
  for (const profile of ['debug', 'release']) {
    const bin = path.join(targetDir, profile, 'cobrowse-trial');
    if (fs.existsSync(bin)) return bin;
  }
  throw new Error(`no cobrowse-trial binary in ${targetDir}/{debug,release}: run ` +
    '`./scripts/test.sh server`, or `cargo build -p cobrowse-trial` and set COBROWSE_TRIAL_BIN');
}

/**
 * Starts `cobrowse-trial <upstream> --cobrowse <serverUrl>` on a free port of the site's host and
 * resolves with `{ url, log(), stop() }` once it printed where it serves. Its log (every
 * adjustment it made, once) is what `log()` returns.
 */
export async function startTrialProxy({ upstream, serverUrl, host = SITE_HOST }) {
  const child = spawn(trialBinary(), [upstream, '--cobrowse', serverUrl, '--listen', host, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (d) => { out += d; });
  const url = await new Promise((resolve, reject) => {
    let line = '';
    const onData = (d) => {
      line += d;
      const m = line.match(/ served at (http:\/\/\S+?)\/?\n/);
      if (m) {
        child.stdout.off('data', onData);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.on('exit', (code) => reject(new Error(`cobrowse-trial exited (${code}) before serving:\n${out}`)));
  });
  child.stdout.on('data', (d) => { out += d; });
  return {
    url,
    log: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
