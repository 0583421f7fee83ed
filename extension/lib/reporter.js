// Signed price reports, from the service worker: the installation's Ed25519 key (made by the
// wasm module, kept in chrome.storage.local, registered with the server), one signed report
// per product reading, and the offline queue posted in batches with retries on an alarm.
//
// Only the product observation leaves the browser: marketplace, ASIN, price, currency,
// availability, time, extension version, nonce, and the product title. No URL, cookie,
// account or browsing history is sent, and nothing at all when contributing is switched off.

import { client, ApiError, Unreachable } from './api.js';
import { getSettings } from './settings.js';
import * as queue from './queue.js';

/** The alarm that retries sending after a failure. */
export const FLUSH_ALARM = 'pricewatch-flush-reports';

/**
 * The reporter: `wasm` is the initialised module's exports (generate_key, public_key,
 * sign_report) and `version` the extension's version, sent in every report.
 */
export function reporter({ wasm, version, log = console }) {
  // One flush at a time: the queue lives in storage and two flushes would send twice.
  let flushing = Promise.resolve();

  async function key() {
    const { reporter: stored } = await chrome.storage.local.get('reporter');
    if (stored?.seed && stored?.publicKey) return stored;
    const seed = (await wasm()).generate_key();
    const made = { seed, publicKey: (await wasm()).public_key(seed), registeredWith: [] };
    await chrome.storage.local.set({ reporter: made });
    return made;
  }

  /** Register the key with the configured server (once per server); false when offline. */
  async function register({ force = false } = {}) {
    const { serverUrl } = await getSettings();
    const k = await key();
    if (!force && k.registeredWith?.includes(serverUrl)) return true;
    try {
      await client(serverUrl).post('/api/reporters', { public_key: k.publicKey });
    } catch (e) {
      if (e instanceof Unreachable || (e instanceof ApiError && (e.status >= 500 || e.status === 429))) {
        return false;
      }
      throw e;
    }
    const { reporter: now } = await chrome.storage.local.get('reporter');
    const registeredWith = [...new Set([...(now?.registeredWith || []), serverUrl])];
    await chrome.storage.local.set({ reporter: { ...k, ...now, registeredWith } });
    return true;
  }

  /**
   * A product page was read: sign what it showed and queue it. Returns why nothing was
   * queued (`off`, `blocked`, `repeat`, `not_reportable`) or `queued`.
   */
  async function observe(reading, now = Date.now()) {
    const { contribute } = await getSettings({ fresh: true });
    if (!contribute) return 'off';
    if (!reading || reading.blocked) return 'blocked';
    const id = `${reading.marketplace}:${reading.asin}`;
    const { lastReported = {} } = await chrome.storage.local.get('lastReported');
    const fresh = { price: reading.price, availability: reading.availability };
    if (queue.isRepeat(lastReported[id], fresh, now)) return 'repeat';
    const k = await key();
    let signed;
    try {
      // sign_report refuses robot checks, personal prices, ranges and foreign currencies.
      signed = (await wasm()).sign_report(k.seed, reading, now, version);
    } catch (e) {
      log.debug?.(`PriceWatch: not reporting ${id}: ${e.message}`);
      return 'not_reportable';
    }
    const item = { id: signed.report.nonce, signed, title: reading.title ?? null, queuedAt: now };
    const stored = await chrome.storage.local.get('queue');
    lastReported[id] = { price: reading.price?.amount_minor ?? null, availability: reading.availability, at: now };
    await chrome.storage.local.set({ queue: queue.enqueue(stored.queue, item, now), lastReported });
    // While a retry is pending (the server failed), the report waits for it: every page view
    // must not knock on a server that is down, nor push the retry further back.
    if (!(await chrome.alarms.get(FLUSH_ALARM))) flush();
    return 'queued';
  }

  /** Post queued reports until the queue is empty or the server fails; then retry later. */
  function flush() {
    flushing = flushing.then(flushNow, flushNow).catch((e) => log.warn(`PriceWatch: sending reports failed: ${e.message}`));
    return flushing;
  }

  async function flushNow() {
    const { serverUrl } = await getSettings();
    let max = queue.MAX_BATCH;
    let reregistered = false;
    for (let round = 0; round < 100; round += 1) {
      const now = Date.now();
      const stored = await chrome.storage.local.get('queue');
      const pending = queue.prune(stored.queue, now);
      const batch = queue.nextBatch(pending, now, max);
      if (batch.length === 0) {
        await settle(pending, 0);
        return;
      }
      let failure = null;
      try {
        if (!(await register())) throw new Unreachable('registration failed');
        const body = { reports: batch.map((q) => ({ ...q.signed, title: q.title ?? undefined })) };
        await client(serverUrl).post('/api/reports', body);
      } catch (e) {
        failure = e;
      }
      if (!failure) {
        await chrome.storage.local.set({ queue: queue.remove(pending, batch.map((q) => q.id)), queueFailures: 0 });
        continue;
      }
      const status = failure instanceof ApiError ? failure.status : 0;
      const verdict = queue.classifyFailure(status, failure instanceof ApiError ? failure.body : null);
      if (verdict.action === 'register' && !reregistered) {
        // The server forgot the key (a new database): register again, once per flush.
        reregistered = true;
        await register({ force: true });
      } else if (verdict.action === 'drop' && batch[verdict.index]) {
        log.warn(`PriceWatch: the server refused a report: ${failure.message}`);
        await chrome.storage.local.set({ queue: queue.remove(pending, [batch[verdict.index].id]) });
      } else if (verdict.action === 'drop_batch') {
        log.warn(`PriceWatch: the server refused a batch: ${failure.message}`);
        await chrome.storage.local.set({ queue: queue.remove(pending, batch.map((q) => q.id)) });
      } else if (verdict.action === 'split' && max > 1) {
        max = Math.max(1, Math.floor(max / 2));
      } else {
        const { queueFailures = 0 } = await chrome.storage.local.get('queueFailures');
        await settle(pending, queueFailures + 1);
        return;
      }
    }
  }

  /** Store the pruned queue and arm (or clear) the retry alarm. */
  async function settle(pending, failures) {
    await chrome.storage.local.set({ queue: pending, queueFailures: failures });
    if (failures > 0 && pending.length > 0) {
      await chrome.alarms.create(FLUSH_ALARM, { delayInMinutes: queue.backoffMinutes(failures) });
    } else {
      await chrome.alarms.clear(FLUSH_ALARM);
    }
  }

  return { key, register, observe, flush };
}
