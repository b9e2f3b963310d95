// The customer's site: a plain static HTTP server on an origin of its own, so every case runs the
// customer's page cross-origin (and cross-site) to the co-browse server, as in production, where
// `shop.example` loads `cobrowse.example/cobrowse/js/cobrowse.js`. The agent page stays on the
// co-browse server's origin (see tests/README.md, "Two origins").
//
// It listens on 127.0.0.2: another host than the server's 127.0.0.1, so the two are different
// sites, not only different origins, and still both loopback, so Chromium's Private Network Access
// rules (a less private address space may not call a more private one) never apply between them.
// It serves the demo shop (www/demo/) at /demo/ and whatever files a case adds, and writes the
// co-browse server's URL into every page's snippet (below), as a site owner writes it.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ROOT, freePort } from './server.mjs';

/** The site's loopback address: a host other than the co-browse server's 127.0.0.1. */
export const SITE_HOST = '127.0.0.2';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.webm': 'video/webm',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The snippet as the repository's pages write it (`www/demo/`, the cases' `page.html`): the server
 * URL taken from the page's own origin, which is right when the co-browse server serves the page
 * itself (`./scripts/run.sh`). The site replaces both with the co-browse server's URL.
 */
const SNIPPET_SRC = "location.origin + '/cobrowse/js/cobrowse.js'";
const SNIPPET_SERVER = "'data-server-url', location.origin";

/**
 * Writes `serverUrl` into an HTML page's snippet. Throws when the page still names the co-browse
 * server relative to itself afterwards: such a page would silently load nothing from this origin,
 * and the case must say where the server is (the canonical snippet above, or absolute URLs).
 */
export function pointSnippetAt(html, serverUrl, where) {
  const out = html
    .replaceAll(SNIPPET_SRC, `'${serverUrl}/cobrowse/js/cobrowse.js'`)
    .replaceAll(SNIPPET_SERVER, `'data-server-url', '${serverUrl}'`);
  const relative = out.match(/location\.origin\s*\+\s*['"]\/cobrowse\/|data-server-url['"]?\s*,\s*location\.origin|src\s*=\s*['"]\/cobrowse\/js\//);
  if (relative) {
    throw new Error(`${where}: the page names the co-browse server relative to its own origin ` +
      `(\`${relative[0]}\`), but it is served by the customer's site on another origin; use the ` +
      `snippet as www/demo/index.html writes it, or absolute URLs`);
  }
  return out;
}

/**
 * Starts the site. `files` maps URL paths to what is served there:
 *   - a string: a file path, or a directory when the key ends in `/` (served below that prefix);
 *   - a Buffer: the body;
 *   - `{ file | body, type, headers }`, where `body` and `headers` may be functions of
 *     `{ serverUrl, wsUrl, origin }` (evaluated per request, once the co-browse server runs).
 * `/demo/` (the demo shop, from `COBROWSE_E2E_WWW` or the repository's www/) is always there.
 * Returns `{ origin, url(path), hits, errors, setServer(url), stop() }`; `hits` lists every request
 * path in order, `errors` the pages it refused to serve (and why).
 */
export async function startSite({ files = {} } = {}) {
  const www = process.env.COBROWSE_E2E_WWW || path.join(ROOT, 'www');
  const routes = { '/demo/': path.join(www, 'demo'), ...files };
  const hits = [];
  const errors = [];
  let serverUrl = null;
  const vars = () => ({ serverUrl, wsUrl: serverUrl.replace(/^http/, 'ws'), origin });

  /** `{ file | body, type, headers }` for a request path, or null. */
  function resolve(pathname) {
    const exact = routes[pathname];
    if (typeof exact === 'string' && !pathname.endsWith('/')) return { file: exact };
    if (Buffer.isBuffer(exact)) return { body: exact };
    if (exact && typeof exact === 'object') return exact;
    const prefix = Object.keys(routes)
      .filter((k) => k.endsWith('/') && pathname.startsWith(k) && typeof routes[k] === 'string')
      .sort((a, b) => b.length - a.length)[0];
    if (!prefix) return null;
    const dir = path.resolve(routes[prefix]);
    let file = path.join(dir, pathname.slice(prefix.length));
    if (file !== dir && !file.startsWith(`${dir}${path.sep}`)) return null;
    if (pathname.endsWith('/')) file = path.join(file, 'index.html');
    return { file };
  }

  const server = http.createServer((req, res) => {
    const fail = (status, text) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(text);
    };
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://site').pathname);
    } catch {
      return fail(400, 'bad path');
    }
    hits.push(pathname);
    const route = resolve(pathname);
    if (!route) return fail(404, 'not found');
    let body;
    try {
      if (route.body !== undefined) body = typeof route.body === 'function' ? route.body(vars()) : route.body;
      else body = fs.readFileSync(route.file);
    } catch {
      return fail(404, 'not found');
    }
    const type = route.type || TYPES[path.extname(route.file || pathname).toLowerCase()] || 'application/octet-stream';
    if (type.startsWith('text/html')) {
      try {
        body = pointSnippetAt(body.toString(), serverUrl, pathname);
      } catch (err) {
        errors.push(err.message);
        return fail(500, err.message);
      }
    }
    body = Buffer.from(body);
    const extra = typeof route.headers === 'function' ? route.headers(vars()) : (route.headers || {});
    const headers = { 'content-type': type, 'cache-control': 'no-cache', 'accept-ranges': 'bytes', ...extra };
    // Media elements seek with range requests.
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
    if (range && (range[1] || range[2])) {
      const size = body.length;
      const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
      const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        return res.end();
      }
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
      return res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
    }
    res.writeHead(200, { ...headers, 'content-length': body.length });
    return res.end(req.method === 'HEAD' ? undefined : body);
  });
  const port = await freePort(SITE_HOST);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, SITE_HOST, resolve);
  });
  const origin = `http://${SITE_HOST}:${port}`;
  return {
    origin,
    url: (p) => `${origin}${p}`,
    hits,
    errors,
    /** The co-browse server's base URL, written into the pages' snippets. */
    setServer(url) {
      serverUrl = url;
    },
    stop: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
