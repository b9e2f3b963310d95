// Builds the wasm (both crates, via ../scripts/build-wasm.sh), places the loader at
// ../www/js/cobrowse.js (served as /cobrowse/js/cobrowse.js), and assembles dist/ for npm.
//
//   node build.mjs [--skip-wasm]   (npm run build / npm run build:shim)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const clientOut = join(root, 'www', 'js', 'client');

if (!process.argv.includes('--skip-wasm')) {
  const r = spawnSync(join(root, 'scripts', 'build-wasm.sh'), [], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error('build-wasm.sh failed');
    process.exit(r.status ?? 1);
  }
}

mkdirSync(join(root, 'www', 'js'), { recursive: true });
copyFileSync(join(here, 'src', 'loader.js'), join(root, 'www', 'js', 'cobrowse.js'));

const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'wasm'), { recursive: true });
copyFileSync(join(here, 'src', 'index.js'), join(dist, 'index.js'));
copyFileSync(join(here, 'src', 'index.d.ts'), join(dist, 'index.d.ts'));
copyFileSync(join(here, 'src', 'loader.js'), join(dist, 'cobrowse.js'));
const glue = ['cobrowse_client.js', 'cobrowse_client_bg.wasm', 'cobrowse_client.d.ts', 'cobrowse_client_bg.wasm.d.ts'];
for (const f of glue) {
  const from = join(clientOut, f);
  if (existsSync(from)) copyFileSync(from, join(dist, 'wasm', f));
  else if (!f.endsWith('.d.ts')) {
    console.error(`missing ${from}: build the wasm first (npm run build)`);
    process.exit(1);
  }
}
console.log('www/js/cobrowse.js and js-shim/dist/ are ready');
