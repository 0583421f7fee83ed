import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as q from '../../../extension/lib/queue.js';

const NOW = 1_800_000_000_000;

function item(id, observedAt = NOW) {
  return { id, signed: { report: { observed_at: observedAt } }, title: null, queuedAt: observedAt };
}

test('queued reports are sent oldest first in batches of at most MAX_BATCH', () => {
  let queue = [];
  for (let i = 0; i < q.MAX_BATCH + 5; i += 1) queue = q.enqueue(queue, item(`n${i}`), NOW);
  const batch = q.nextBatch(queue, NOW);
  assert.equal(batch.length, q.MAX_BATCH);
  assert.equal(batch[0].id, 'n0');
  assert.deepEqual(q.remove(queue, batch.map((b) => b.id)).map((b) => b.id), ['n25', 'n26', 'n27', 'n28', 'n29']);
});

test('reports older than the server accepts are dropped, and the queue is capped', () => {
  const stale = item('old', NOW - q.MAX_AGE_MS - 1);
  assert.deepEqual(q.enqueue([stale], item('new'), NOW).map((i) => i.id), ['new']);
  let queue = [];
  for (let i = 0; i < q.MAX_QUEUE + 3; i += 1) queue = q.enqueue(queue, item(`n${i}`), NOW);
  assert.equal(queue.length, q.MAX_QUEUE);
  assert.equal(queue[0].id, 'n3');
});

test('the same report queued twice is kept once', () => {
  assert.equal(q.enqueue([item('a')], item('a'), NOW).length, 1);
});

test('a refusal naming one report drops that report; offline and 5xx retry later', () => {
  assert.deepEqual(q.classifyFailure(400, { error: 'invalid_signature', field: 'reports[3].signature', message: 'reports[3]: bad' }), { action: 'drop', index: 3 });
  assert.deepEqual(q.classifyFailure(409, { error: 'replay', field: 'reports[0].report.nonce' }), { action: 'drop', index: 0 });
  assert.deepEqual(q.classifyFailure(0, null), { action: 'retry_later' });
  assert.deepEqual(q.classifyFailure(503, null), { action: 'retry_later' });
  assert.deepEqual(q.classifyFailure(429, { error: 'rate_limited' }), { action: 'retry_later' });
});

test('an unregistered key registers again; a batch too large is split; a nameless refusal drops the batch', () => {
  assert.deepEqual(q.classifyFailure(403, { error: 'forbidden', message: 'reports[0].public_key: the key is not registered; POST /api/reporters first' }), { action: 'register' });
  assert.deepEqual(q.classifyFailure(403, { error: 'forbidden', message: 'banned' }), { action: 'retry_later' });
  assert.deepEqual(q.classifyFailure(413, { error: 'too_large' }), { action: 'split' });
  assert.deepEqual(q.classifyFailure(400, { error: 'invalid_json', message: 'expected a list' }), { action: 'drop_batch' });
});

test('retries back off from half a minute, doubling, up to an hour', () => {
  assert.deepEqual([1, 2, 3, 4].map(q.backoffMinutes), [0.5, 1, 2, 4]);
  assert.equal(q.backoffMinutes(20), 60);
});

test('the same price and availability within half an hour is not reported again', () => {
  const last = { price: 1299, availability: 'in_stock', at: NOW };
  const same = { price: { amount_minor: 1299 }, availability: 'in_stock' };
  assert.equal(q.isRepeat(last, same, NOW + 60_000), true);
  assert.equal(q.isRepeat(last, same, NOW + q.REPEAT_AFTER_MS), false);
  assert.equal(q.isRepeat(last, { price: { amount_minor: 1199 }, availability: 'in_stock' }, NOW + 1), false);
  assert.equal(q.isRepeat(last, { price: null, availability: 'out_of_stock' }, NOW + 1), false);
  assert.equal(q.isRepeat(undefined, same, NOW), false);
});
