import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../lib/paths.js';
import { HOSTS } from '../../lib/marketplaces.js';

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'manifest.json'), 'utf8'));

test('the harness maps exactly the host names the shipped manifest matches', () => {
  const matches = manifest.content_scripts[0].matches.map((m) => new URL(m.replace('/*', '/')).host).sort();
  assert.deepEqual(matches, [...HOSTS].sort());
});

test('the content script loads the classic wasm glue before itself', () => {
  assert.deepEqual(manifest.content_scripts[0].js, ['pkg/pricewatch_wasm.nomodules.js', 'content.js']);
});
