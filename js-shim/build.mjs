// Builds the wasm (both crates, via ../scripts/build-wasm.sh), then what the browser loads from
// www/js/ and what npm ships in dist/:
//
// * www/js/client/cobrowse_client.<hash>.js and …_bg.<hash>.wasm: content-hashed copies of the
//   client, which the server caches as immutable (older hashed copies are removed);
// * www/js/cobrowse.js: the loader (src/loader.js + src/lazy.js, bundled and minified into one
//   classic script by esbuild) naming those hashed files;
// * .br and .gz next to every file of www/js/ (../scripts/precompress.mjs);
// * dist/: the npm package (src/index.js + src/lazy.js as one ES module, its types, a loader
//   that names the client's stable file names, for hosting it next to a copy of js/, and the
//   agent desktops' client src/desktop.js with its types, also copied to www/js/desktop.js).
//
//   node build.mjs [--skip-wasm]   (npm run build / npm run build:shim)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';
import { precompressDir } from '../scripts/precompress.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const jsOut = join(root, 'www', 'js');
const clientOut = join(jsOut, 'client');

if (!process.argv.includes('--skip-wasm')) {
  const r = spawnSync(join(root, 'scripts', 'build-wasm.sh'), [], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error('build-wasm.sh failed');
    process.exit(r.status ?? 1);
  }
}

for (const f of ['cobrowse_client.js', 'cobrowse_client_bg.wasm']) {
  if (!existsSync(join(clientOut, f))) {
    console.error(`missing ${join(clientOut, f)}: build the wasm first (npm run build)`);
    process.exit(1);
  }
}

// The JS helpers of each wasm crate (wasm-bindgen `module` snippets: client-wasm's
// web/dom_reader.js, agent-ui's web/dom/edits.js) are bundled into its glue, so a page fetches
// one module, not a module graph, and the client's content hash covers them. Whitespace and
// syntax are minified; names are kept, so a profile still names the glue's functions.
for (const [dir, glue] of [[clientOut, 'cobrowse_client.js'], [join(jsOut, 'agent'), 'cobrowse_agent.js']]) {
  const snippets = join(dir, 'snippets');
  if (!existsSync(snippets) || !existsSync(join(dir, glue))) continue;
  buildSync({
    entryPoints: [join(dir, glue)],
    outfile: join(dir, glue),
    allowOverwrite: true,
    bundle: true,
    format: 'esm',
    minifyWhitespace: true,
    minifySyntax: true,
    target: 'es2020',
    // V8's explicit compile hint (Chromium 136+; a plain comment elsewhere): almost every
    // function of a glue is an import the wasm calls while it starts, and compiled lazily each
    // one stops the main thread on its first call; hinted, the whole file is compiled while
    // it streams in, off the main thread. It must be the file's first line.
    banner: { js: '//# allFunctionsCalledOnLoad' },
    logLevel: 'warning',
    // wasm-bindgen names a snippet once per import in its import object (same module twice).
    logOverride: { 'duplicate-object-key': 'silent' },
  });
  rmSync(snippets, { recursive: true, force: true });
}

/** A hashed name for `file` in `clientOut`: `name.<16 hex of its SHA-256>.ext`. */
const HASHED = /^cobrowse_client(_bg)?\.[0-9a-f]{16}\.(js|wasm)$/;
function hashed(file) {
  const hash = createHash('sha256').update(readFileSync(join(clientOut, file))).digest('hex').slice(0, 16);
  const name = file.replace(/\.(js|wasm)$/, `.${hash}.$1`);
  copyFileSync(join(clientOut, file), join(clientOut, name));
  return name;
}
const clientJs = hashed('cobrowse_client.js');
const clientWasm = hashed('cobrowse_client_bg.wasm');
for (const f of readdirSync(clientOut)) {
  const base = f.replace(/\.(br|gz)$/, '');
  if (HASHED.test(base) && base !== clientJs && base !== clientWasm) unlinkSync(join(clientOut, f));
}

const common = {
  bundle: true,
  write: true,
  logLevel: 'warning',
  loader: { '.css': 'text', '.json': 'json' },
  legalComments: 'inline',
  target: 'es2020', // every browser that runs the wasm client (dynamic import(), BigInt)
};
/** The loader naming `js`/`wasm` (paths relative to its own folder). */
const loader = (outfile, js, wasm, minify) => buildSync({
  ...common,
  entryPoints: [join(here, 'src', 'loader.js')],
  outfile,
  format: 'iife',
  minify,
  define: { CLIENT_JS: JSON.stringify(js), CLIENT_WASM: JSON.stringify(wasm) },
  banner: { js: '/*! Cobrowse loader (js-shim/src/loader.js, bundled), Apache-2.0 */' },
});
mkdirSync(jsOut, { recursive: true });
loader(join(jsOut, 'cobrowse.js'), `client/${clientJs}`, `client/${clientWasm}`, true);

// The npm package is the API, its types and the loader; the client's glue and wasm are loaded
// at run time from the Cobrowse server (src/index.js), so they are not shipped here.
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
buildSync({
  ...common,
  entryPoints: [join(here, 'src', 'index.js')],
  outfile: join(dist, 'index.js'),
  format: 'esm',
  minify: false,
});
copyFileSync(join(here, 'src', 'index.d.ts'), join(dist, 'index.d.ts'));
// The agent desktops' client (cobrowse-client/desktop): plain ES module, no bundling; also
// served as www/js/desktop.js for the sample desktop page (www/desktop/).
for (const f of ['desktop.js', 'desktop.d.ts']) copyFileSync(join(here, 'src', f), join(dist, f));
copyFileSync(join(here, 'src', 'desktop.js'), join(jsOut, 'desktop.js'));
loader(join(dist, 'cobrowse.js'), 'client/cobrowse_client.js', 'client/cobrowse_client_bg.wasm', true);

const rows = precompressDir(jsOut);
const size = (f) => {
  const b = readFileSync(f);
  return `${b.length} B raw, ${gzipSync(b, { level: 9 }).length} B gzip, ${brotliCompressSync(b).length} B brotli`;
};
console.log(`www/js/cobrowse.js (loader): ${size(join(jsOut, 'cobrowse.js'))}`);
console.log(`client: ${clientJs}, ${clientWasm}; ${rows.length} files of www/js/ precompressed`);
console.log('www/js/ and js-shim/dist/ are ready');
