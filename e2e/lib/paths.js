// Where the harness finds the repository, the built binaries and extension, and where tests
// leave their artefacts. `cargo xtask e2e` passes the build's locations in the environment;
// run by hand (`npm test` in e2e/), the defaults are the debug build and dist/extension.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The cargo target directory (CARGO_TARGET_DIR when set). */
export const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');

/** Where the `pricewatch` and `fixture-shop` binaries are. */
export const BIN_DIR = process.env.E2E_BIN_DIR || path.join(TARGET_DIR, 'debug');

/** The unpacked extension (`cargo xtask build-extension`). */
export const EXTENSION_DIR = process.env.E2E_EXTENSION || path.join(ROOT, 'dist', 'extension');

/** The saved Amazon-like pages of core's fixture corpus. */
export const CORPUS_DIR = path.join(ROOT, 'core', 'tests', 'pages');

/** Test artefacts (screenshots, logs); git-ignored. */
export const ARTIFACTS_DIR = path.join(ROOT, 'e2e', 'artifacts');

/** The system Chromium (never downloaded). */
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** `name` under the artefacts folder, its folder created. */
export function artifact(...name) {
  const file = path.join(ARTIFACTS_DIR, ...name);
  mkdirSync(path.dirname(file), { recursive: true });
  return file;
}

/** A binary of the build. */
export function binary(name) {
  return path.join(BIN_DIR, name);
}
