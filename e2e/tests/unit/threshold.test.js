import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suggestThreshold, versusLow, REASON_TEXT } from '../../../extension/lib/threshold.js';

test('above the all-time low, the suggestion is the all-time low', () => {
  assert.deepEqual(suggestThreshold({ current: 4399, lowest: 2399 }), { minor: 2399, reason: 'all_time_low' });
});

test('at the all-time low, or with no history, the suggestion is 10 % below today', () => {
  assert.deepEqual(suggestThreshold({ current: 2399, lowest: 2399 }), { minor: 2159, reason: 'ten_percent_below' });
  assert.deepEqual(suggestThreshold({ current: 1000, lowest: null }), { minor: 900, reason: 'ten_percent_below' });
  assert.deepEqual(suggestThreshold({ current: 1000, lowest: 1200 }), { minor: 900, reason: 'ten_percent_below' });
});

test('without a price today the all-time low is suggested, and without either nothing', () => {
  assert.deepEqual(suggestThreshold({ current: null, lowest: 500 }), { minor: 500, reason: 'all_time_low' });
  assert.equal(suggestThreshold({ current: null, lowest: null }), null);
  assert.equal(suggestThreshold(), null);
});

test('the smallest price still gets a suggestion of at least one minor unit', () => {
  assert.deepEqual(suggestThreshold({ current: 1 }), { minor: 1, reason: 'ten_percent_below' });
});

test('every reason has words', () => {
  for (const reason of ['all_time_low', 'ten_percent_below']) assert.ok(REASON_TEXT[reason]);
});

test('today is compared with the all-time low as a percentage above it, at it, or below it', () => {
  assert.deepEqual(versusLow(1500, 1000), { kind: 'above', percent: 50 });
  assert.deepEqual(versusLow(1000, 1000), { kind: 'at_low' });
  assert.deepEqual(versusLow(900, 1000), { kind: 'new_low' });
  assert.equal(versusLow(null, 1000), null);
  assert.equal(versusLow(1000, null), null);
});
