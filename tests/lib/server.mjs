// Starts the real cobrowse-server binary for one test file: a free loopback port, a fresh data
// directory, a copy of the repository's www/ as static root. Nothing is mocked.

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

/** A loopback port that was free a moment ago (the server binds it right after). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
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
 * Starts the server and resolves once `/cobrowse/health` answers 200.
 * Returns `{ url, port, dataDir, log(), stop() }`; `log()` is everything it printed so far.
 */
export async function startServer({ extraArgs = [], env = {}, timeoutMs = 30_000 } = {}) {
  // `extraArgs` are command-line flags for the server; `env` overrides serverEnv().
  const bin = serverBinary();
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-e2e-data-'));
  const args = extraArgs;
  // Serve a copy of www/ taken now: in a shared work tree someone may rebuild www/js/ while the
  // case runs, and a page must not get the JS glue of one build and the wasm of another.
  const staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-e2e-www-'));
  fs.cpSync(path.join(ROOT, 'www'), staticDir, { recursive: true });
  const output = [];
  const child = spawn(bin, args, {
    cwd: ROOT,
    env: {
      RUST_LOG: 'info',
      ...process.env,
      ...serverEnv({ port, dataDir, staticDir }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk) => {
    output.push(chunk.toString());
    if (output.length > 2000) output.splice(0, output.length - 2000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const url = `http://127.0.0.1:${port}`;
  const log = () => output.join('');
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

  return {
    url,
    port,
    dataDir,
    log,
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
