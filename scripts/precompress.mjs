// Precompresses static assets for the server: next to each file `f` it writes `f.br` (brotli,
// quality 11) and `f.gz` (gzip, level 9), which the server sends to browsers that accept them
// (server/src/statics.rs). Both come from Node's own zlib, so the build needs nothing besides
// the Node.js it already runs. A variant that would not be smaller is not written; variants whose
// source is gone are removed. The server ignores a variant clearly older than its source, so a
// stale one left by a partial build is not sent.
//
//   node scripts/precompress.mjs DIR...   (recursively: .js .mjs .wasm .css .html .json .svg)
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const EXTS = new Set(['.js', '.mjs', '.wasm', '.css', '.html', '.json', '.svg']);

/** Writes the variants of `file`; returns `{ raw, br, gz }` sizes (0: not written). */
export function precompress(file) {
  const raw = readFileSync(file);
  const out = { raw: raw.length, br: 0, gz: 0 };
  const variants = {
    br: brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        [constants.BROTLI_PARAM_MODE]: extname(file) === '.wasm' ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
      },
    }),
    gz: gzipSync(raw, { level: 9 }),
  };
  for (const [ext, bytes] of Object.entries(variants)) {
    const path = `${file}.${ext}`;
    if (bytes.length < raw.length) {
      writeFileSync(path, bytes);
      out[ext] = bytes.length;
    } else if (existsSync(path)) {
      unlinkSync(path);
    }
  }
  return out;
}

/** Precompresses every asset under `dir`; returns `[relative path, sizes]` rows. */
export function precompressDir(dir, rel = '') {
  const rows = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const path = join(dir, rel, name);
    const r = join(rel, name);
    if (statSync(path).isDirectory()) {
      rows.push(...precompressDir(dir, r));
    } else if (/\.(br|gz)$/.test(name)) {
      if (!existsSync(path.replace(/\.(br|gz)$/, ''))) unlinkSync(path);
    } else if (EXTS.has(extname(name))) {
      rows.push([r, precompress(path)]);
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dirs = process.argv.slice(2);
  if (!dirs.length) {
    console.error('usage: node scripts/precompress.mjs DIR...');
    process.exit(2);
  }
  for (const dir of dirs) {
    for (const [r, s] of precompressDir(dir)) {
      console.log(`${String(s.raw).padStart(9)} ${String(s.br || '-').padStart(9)} ${String(s.gz || '-').padStart(9)}  ${join(dir, r)}`);
    }
  }
}
