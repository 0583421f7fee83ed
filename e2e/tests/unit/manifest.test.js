import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../lib/paths.js';
import { HOSTS } from '../../lib/marketplaces.js';

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'manifest.json'), 'utf8'));

test('the harness maps exactly the host names the shipped manifest matches', () => {
  for (const script of manifest.content_scripts) {
    const matches = script.matches.map((m) => new URL(m.replace('/*', '/')).host).sort();
    assert.deepEqual(matches, [...HOSTS].sort());
  }
});

test('the content script loads the classic wasm glue and the panel before itself, at document_idle', () => {
  const main = manifest.content_scripts.find((s) => s.js.includes('content.js'));
  assert.deepEqual(main.js, ['pkg/pricewatch_wasm.nomodules.js', 'panel.js', 'content.js']);
  assert.equal(main.run_at, 'document_idle');
});

test('the early script that wakes the worker runs alone at document_start', () => {
  const early = manifest.content_scripts.find((s) => s.js.includes('early.js'));
  assert.deepEqual(early.js, ['early.js']);
  assert.equal(early.run_at, 'document_start');
});

test("only the wasm bytes, the panel's styles and its fallback frame are exposed to the storefronts", () => {
  assert.deepEqual(manifest.web_accessible_resources.flatMap((r) => r.resources).sort(), ['content.css', 'frame.html', 'pkg/pricewatch_wasm_bg.wasm']);
});
