// Debian's real nginx (`/usr/sbin/nginx`, installed by `scripts/setup.sh test`) on loopback, as
// the current user with a temporary prefix and a configuration written at run time: no root
// paths, no system configuration read. Used by the cases that put nginx in front of the server.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

/** MIME types of the files a site here serves (the system's mime.types is not read). */
const TYPES = `types {
    text/html html; text/css css; text/javascript js mjs; application/json json;
    image/svg+xml svg; image/png png; application/wasm wasm;
  }
  default_type application/octet-stream;`;

/**
 * Renders a sample configuration (`ci/nginx/…`) for this run: each `[from, to]` replacement must
 * hit, so the sample and the case cannot drift apart.
 */
export function render(samplePath, replacements) {
  let conf = fs.readFileSync(samplePath, 'utf8');
  for (const [from, to] of replacements) {
    if (!conf.includes(from)) throw new Error(`${samplePath} no longer contains \`${from}\`: update the case with it`);
    conf = conf.replaceAll(from, to);
  }
  return conf;
}

/**
 * Starts nginx with `serverConf` (an `http`-block fragment: maps, `server` blocks) and resolves
 * once `listen` (`host:port`) accepts connections. Returns `{ accessLog(), errorLog(), stop() }`;
 * the access log has one `METHOD uri status` line per request.
 */
export async function startNginx({ serverConf, listen, timeoutMs = 20_000 }) {
  if (!NGINX) throw new Error('nginx not found: run ./scripts/setup.sh test (apt-get install nginx)');
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'cobrowse-e2e-nginx-'));
  // Readable by nginx's workers, which run as `nobody` when the tests run as root.
  fs.chmodSync(prefix, 0o755);
  fs.writeFileSync(path.join(prefix, 'site.conf'), serverConf);
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), `worker_processes 1;
error_log ${prefix}/error.log info;
events { worker_connections 256; }
http {
  ${TYPES}
  log_format e2e '$request_method $uri $status';
  access_log ${prefix}/access.log e2e;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  include ${prefix}/site.conf;
}
`);
  const output = [];
  const child = spawn(NGINX, ['-p', prefix, '-c', `${prefix}/nginx.conf`, '-e', 'stderr',
    '-g', `daemon off; pid ${prefix}/nginx.pid;`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c) => output.push(c.toString()));
  child.stderr.on('data', (c) => output.push(c.toString()));
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(); }));
  const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
  const read = (name) => {
    try {
      return fs.readFileSync(path.join(prefix, name), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (!exited) {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    fs.rmSync(prefix, { recursive: true, force: true });
  };
  // nginx has no readiness signal in the foreground: wait for its listen socket (or its exit).
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`nginx exited during start (${JSON.stringify(exited)}):\n${output.join('')}${read('error.log')}`);
    const up = await new Promise((resolve) => {
      const s = net.connect(port, host, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not listen on ${listen} within ${timeoutMs} ms:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    accessLog: () => read('access.log').split('\n').filter(Boolean),
    errorLog: () => read('error.log'),
    stop,
  };
}
