// The offline queue of signed reports: what to send next, what a server answer means for the
// queue, and when to try again. Pure functions over plain arrays, so the service worker keeps
// the queue in chrome.storage.local and the rules are unit-tested in node.

/** Reports per POST /api/reports (the server accepts up to 100). */
export const MAX_BATCH = 25;
/** Reports kept while offline; the oldest go first. */
export const MAX_QUEUE = 500;
/** Older reports are dropped unsent: the server refuses reports older than a day. */
export const MAX_AGE_MS = 23 * 3600 * 1000;
/** The same product at the same price and availability is reported at most this often. */
export const REPEAT_AFTER_MS = 30 * 60 * 1000;

/** The queue with `item` ({id, signed, title, queuedAt}) added and stale entries pruned. */
export function enqueue(queue, item, now) {
  const kept = prune(queue, now).filter((q) => q.id !== item.id);
  kept.push(item);
  return kept.slice(-MAX_QUEUE);
}

/** The queue without reports the server would refuse for their age. */
export function prune(queue, now) {
  return (queue || []).filter((q) => now - q.signed.report.observed_at < MAX_AGE_MS);
}

/** The next reports to post, oldest first. */
export function nextBatch(queue, now, max = MAX_BATCH) {
  return prune(queue, now).slice(0, max);
}

/** The queue after the reports with ids `sent` were accepted or dropped. */
export function remove(queue, sent) {
  const gone = new Set(sent);
  return (queue || []).filter((q) => !gone.has(q.id));
}

/**
 * What a failed POST /api/reports means. The server refuses a batch whole when one report
 * is bad, naming it (`reports[3].signature`): that report is dropped and the rest retried.
 * Returns `{action: 'retry_later'}` (offline, 5xx, 429), `{action: 'register'}` (key not
 * registered), `{action: 'drop', index}` (that report is refused), `{action: 'drop_batch'}`
 * (a refusal naming no report) or `{action: 'split'}` (batch too large).
 */
export function classifyFailure(status, body) {
  if (status === 0 || status === 429 || status >= 500) return { action: 'retry_later' };
  if (status === 413) return { action: 'split' };
  if (status === 403) {
    const unregistered = /\.public_key\b/.test(`${body?.field ?? ''} ${body?.message ?? ''}`);
    return unregistered ? { action: 'register' } : { action: 'retry_later' };
  }
  const index = reportIndex(body);
  if (index != null) return { action: 'drop', index };
  // A 4xx naming no report: the batch itself is malformed and would fail forever.
  if (status >= 400 && status < 500 && status !== 408) return { action: 'drop_batch' };
  return { action: 'retry_later' };
}

/** The report an error body names (`field` or `message` starting `reports[i]`). */
export function reportIndex(body) {
  const text = `${body?.field ?? ''} ${body?.message ?? ''}`;
  const m = /reports\[(\d+)\]/.exec(text);
  return m ? Number(m[1]) : null;
}

/** Minutes before retry number `failures` (1, 2, ...): 0.5, 1, 2, ... up to an hour. */
export function backoffMinutes(failures) {
  return Math.min(60, 0.5 * 2 ** Math.max(0, failures - 1));
}

/** Whether a reading repeats the last report of its product too soon to be news. */
export function isRepeat(last, report, now) {
  if (!last) return false;
  const samePrice = (last.price ?? null) === (report.price?.amount_minor ?? null);
  return samePrice && last.availability === report.availability && now - last.at < REPEAT_AFTER_MS;
}
