import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeServerUrl, originPattern, SettingsError } from '../../../extension/lib/settings.js';
import { evictions, cacheKey } from '../../../extension/lib/history.js';

test('server addresses are stored without a trailing slash, path kept', () => {
  assert.equal(normalizeServerUrl(' https://prices.example.org/ '), 'https://prices.example.org');
  assert.equal(normalizeServerUrl('http://127.0.0.1:8080'), 'http://127.0.0.1:8080');
  assert.equal(normalizeServerUrl('https://example.org/pw//'), 'https://example.org/pw');
});

test('addresses that are not plain http(s) servers are refused, naming the field', () => {
  for (const bad of ['', 'prices.example.org', 'ftp://x.org', 'https://u:p@x.org', 'https://x.org/?a=1', 'javascript:alert(1)']) {
    assert.throws(() => normalizeServerUrl(bad), (e) => e instanceof SettingsError && e.field === 'serverUrl', bad);
  }
});

test('the host permission a server needs covers its host on any port', () => {
  assert.equal(originPattern('http://127.0.0.1:43091'), 'http://127.0.0.1/*');
  assert.equal(originPattern('https://prices.example.org/pw'), 'https://prices.example.org/*');
});

test('the history cache evicts the least recently fetched entries beyond its size', () => {
  const index = [{ key: 'a', at: 3 }, { key: 'b', at: 1 }, { key: 'c', at: 2 }];
  assert.deepEqual(evictions(index, 2), ['b']);
  assert.deepEqual(evictions(index, 5), []);
  assert.notEqual(cacheKey('http://a', 'us', 'B0', '1y'), cacheKey('http://b', 'us', 'B0', '1y'));
});
