// The build the tests run: the `pricewatch` and `fixture-shop` binaries and the unpacked
// extension. `cargo xtask e2e` builds them and says so (E2E_PREBUILT=1); run by
// hand, `npm test` builds them first through this file (`node lib/build.js`).

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, EXTENSION_DIR, binary } from './paths.js';

/**
 * What the tests need (the extension only when `extension`; the wasm package the website's
 * chart is drawn with only when `pkg`) that is not there.
 */
export function missing({ extension = true, pkg = false } = {}) {
  const needed = [binary('pricewatch'), binary('fixture-shop')];
  if (extension) needed.push(path.join(EXTENSION_DIR, 'manifest.json'));
  if (pkg) needed.push(path.join(ROOT, 'dist', 'pkg', 'pricewatch_wasm_bg.wasm'));
  return needed.filter((f) => !existsSync(f));
}

/** Throw, naming what is missing, unless the build is there. */
export function ensureBuilt({ extension = true, pkg = false } = {}) {
  const gone = missing({ extension, pkg });
  if (gone.length) {
    throw new Error(`not built: ${gone.join(', ')}. Run \`cargo xtask e2e\`, or \`npm test\` in e2e/ (which builds first).`);
  }
}

/** Build everything with cargo (incremental: quick when up to date). */
export function build() {
  const cargo = (args) => execFileSync('cargo', args, { cwd: ROOT, stdio: 'inherit' });
  cargo(['build', '-p', 'pricewatch-server', '-p', 'pricewatch-fixture-shop', '--bins']);
  cargo(['xtask', 'build-extension']);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.env.E2E_PREBUILT === '1') {
    ensureBuilt();
  } else {
    build();
  }
}
