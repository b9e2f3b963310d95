// Starts the real cobrowse-server binary for one test file: a free loopback port, a fresh data
// directory, a copy of the repository's www/ (without the demo shop, which the customer's site
// serves from its own origin: lib/site.mjs) as static root. Nothing is mocked, and nothing is
// made less safe than an operator's first start: no agent credential is configured, so the server
// generates one into the data directory, which the harness reads like an operator would.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests/lib/ → ../..). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the server binary is: $COBROWSE_SERVER_BIN (set by scripts/test.sh), else the debug or
 * release build in $CARGO_TARGET_DIR (default target/). Throws a message saying how to build it.
 */
export function serverBinary() {
  if (process.env.COBROWSE_SERVER_BIN) {
    if (!fs.existsSync(process.env.COBROWSE_SERVER_BIN)) {
      throw new Error(`COBROWSE_SERVER_BIN=${process.env.COBROWSE_SERVER_BIN} does not exist`);
    }
    return process.env.COBROWSE_SERVER_BIN;
  }
  const targetDir = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target');
  for (const profile of ['debug', 'release']) {
    const bin = path.join(targetDir, profile, 'cobrowse-server');
    if (fs.existsSync(bin)) return bin;
  }
  throw new Error(
    `no cobrowse-server binary in ${targetDir}/{debug,release}: run ./scripts/test.sh, or ` +
      '`cargo build -p cobrowse-server` and set COBROWSE_SERVER_BIN');
}

/** Throws unless the browser bundle has been built into www/js/. */
export function assertBundleBuilt() {
  const need = [
    'js/cobrowse.js',
    'js/client/cobrowse_client.js',
    'js/client/cobrowse_client_bg.wasm',
    'js/agent/cobrowse_agent.js',
    'js/agent/cobrowse_agent_bg.wasm',
    'slave.html',
    'slave.js',
  ];
  const missing = need.filter((f) => !fs.existsSync(path.join(ROOT, 'www', f)));
  if (missing.length > 0) {
    throw new Error(`www/ lacks ${missing.join(', ')}: run ./scripts/build-all.sh first`);
  }
}

/** A port of `host` that was free a moment ago (the caller binds it right after). */
export async function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The server's settings for one test run, as environment variables (the server's config layer
 * derives them from option names: `storage.dataDir` → `COBROWSE_STORAGE_DATA_DIR`; see
 * server/README.md). Environment rather than flags, so the harness does not depend on flag
 * spelling; cases add their own options as extra environment or extra arguments.
 */
export function serverEnv({ port, dataDir, staticDir }) {
  return {
    COBROWSE_LISTEN: '127.0.0.1',
    COBROWSE_PORT: String(port),
    COBROWSE_STATIC_DIR: staticDir,
    COBROWSE_STORAGE_TYPE: 'embedded',
    COBROWSE_STORAGE_DATA_DIR: dataDir,
  };
}

/**
 * The server's static root for one run: a copy of www/ taken now (in a shared work tree someone
 * may rebuild www/js/ while the case runs, and a page must not get the JS glue of one build and
 * the wasm of another) from `COBROWSE_E2E_WWW` or the repository, with `COBROWSE_E2E_JS` (a
 * private wasm build: client/, agent/) over js/ when set. The demo shop is left out: customer
 * pages come from the site's origin, so a case cannot load one from the server's by mistake.
 * `files` adds files (path relative to the root → contents), e.g. a locale an operator added.
 */
export function staticRoot(files = {}) {
  const staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-e2e-www-'));
  const www = process.env.COBROWSE_E2E_WWW || path.join(ROOT, 'www');
  fs.cpSync(www, staticDir, { recursive: true, filter: (src) => src !== path.join(www, 'demo') });
  if (process.env.COBROWSE_E2E_JS) {
    fs.cpSync(process.env.COBROWSE_E2E_JS, path.join(staticDir, 'js'), { recursive: true });
  }
  for (const [rel, contents] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(staticDir, rel)), { recursive: true });
    fs.writeFileSync(path.join(staticDir, rel), contents);
  }
  return staticDir;
}

/** Name of the agent token the server generates into its data directory (server/src/auth/generated.rs). */
export const AGENT_TOKEN_FILE = 'agent-token';

/**
 * Starts the server and resolves once `/cobrowse/health` answers 200.
 * Returns `{ url, port, dataDir, agentToken, log(), kill(), restart(), stop() }`: `agentToken` is the credential the
 * server generated on this first start (null when the case configured its own, or anonymous
 * agents); `log()` is everything it printed so far.
 */
export async function startServer({ extraArgs = [], env = {}, files = {}, timeoutMs = 30_000 } = {}) {
  // `extraArgs` are command-line flags for the server; `env` overrides serverEnv(); `files` are
  // added to the static root (staticRoot()).
  const bin = serverBinary();
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-e2e-data-'));
  const args = extraArgs;
  const staticDir = staticRoot(files);
  const output = [];
  const keep = (chunk) => {
    output.push(chunk.toString());
    if (output.length > 2000) output.splice(0, output.length - 2000);
  };
  const url = `http://127.0.0.1:${port}`;
  const log = () => output.join('');
  let child;
  let exited = null;
  let exitPromise;
  // Spawns the process and waits until it is healthy; `restart()` runs it again over the same
  // port and data directory.
  const launch = async () => {
    exited = null;
    child = spawn(bin, args, {
      cwd: ROOT,
      env: {
        RUST_LOG: 'info',
        ...process.env,
        ...serverEnv({ port, dataDir, staticDir }),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        exited = { code, signal };
        resolve(exited);
      });
    });
    const deadline = Date.now() + timeoutMs;
    // Poll the health endpoint: the server says when it is ready only through it.
    for (;;) {
      if (exited) {
        throw new Error(`server exited (${JSON.stringify(exited)}) before it was healthy:\n` +
          `${bin} ${args.join(' ')}\n${log()}`);
      }
      try {
        const res = await fetch(`${url}/cobrowse/health`);
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`server not healthy within ${timeoutMs} ms:\n${log()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await launch();

  // Written before the server serves; absent when the case configured a credential itself.
  const tokenFile = path.join(dataDir, AGENT_TOKEN_FILE);
  const agentToken = fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : null;

  return {
    url,
    port,
    dataDir,
    agentToken,
    log,
    /** Kills the process with SIGKILL (a crash: no shutdown code runs); the data stays. */
    async kill() {
      if (!exited) {
        child.kill('SIGKILL');
        await exitPromise;
      }
    },
    /** Starts the server again over the same port, data directory and static root. */
    restart: launch,
    /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its data directory. */
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(timer);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(staticDir, { recursive: true, force: true });
    },
  };
}
