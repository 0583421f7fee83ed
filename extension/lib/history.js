// A product's price history for the panel, from the server or, when it cannot be reached,
// from the copy kept in chrome.storage.local the last time it could.

import { client, productPath, ApiError, Unreachable, GRANULARITY } from './api.js';
import { getSettings } from './settings.js';

/** Product charts kept for offline use; the least recently fetched go first. */
export const CACHE_ENTRIES = 60;

/** The storage key of one cached chart. */
export function cacheKey(serverUrl, marketplace, asin, period) {
  return `cache:${serverUrl}|${marketplace}|${asin}|${period}`;
}

/** Keys to evict so that `index` ({key, at}[]) keeps at most `max` entries, oldest first. */
export function evictions(index, max = CACHE_ENTRIES) {
  const sorted = [...index].sort((a, b) => a.at - b.at);
  return sorted.slice(0, Math.max(0, sorted.length - max)).map((e) => e.key);
}

/**
 * The product and its chart for `period` (`30d`, `90d`, `1y`, `all`):
 * `{status: 'ok', product, chart}`, `{status: 'unknown'}` (the server has never seen it),
 * or `{status: 'offline', product?, chart?, savedAt?}` with the cached copy if there is one.
 */
export async function loadHistory({ marketplace, asin, period }) {
  if (!Object.hasOwn(GRANULARITY, period)) throw new Error(`unknown period ${period}`);
  const { serverUrl } = await getSettings();
  const api = client(serverUrl);
  const base = productPath(marketplace, asin);
  const key = cacheKey(serverUrl, marketplace, asin, period);
  try {
    const [product, chart] = await Promise.all([
      api.get(base),
      api.get(`${base}/history?period=${period}&granularity=${GRANULARITY[period]}`),
    ]);
    // The copy for offline use is written after the answer: the panel should not wait on it.
    remember(key, { product, chart, savedAt: Date.now() }).catch((e) => console.warn(`PriceWatch: caching failed: ${e.message}`));
    return { status: 'ok', product, chart };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { status: 'unknown' };
    if (!(e instanceof Unreachable) && !(e instanceof ApiError && e.status >= 500)) throw e;
    const cached = (await chrome.storage.local.get(key))[key];
    return cached ? { status: 'offline', ...cached } : { status: 'offline' };
  }
}

/** History requests started for a page before it asked, by the page's document id. */
const early = new Map();

/**
 * Start loading the history for the page `documentId` before it asks: the content script
 * names its page (by URL) as it starts, while its wasm module still loads.
 */
export function prefetch(documentId, query) {
  const promise = loadHistory(query);
  promise.catch(() => {});
  early.set(documentId, { query, promise });
  // A page that never asks (closed at once) must not keep its answer alive.
  setTimeout(() => {
    if (early.get(documentId)?.promise === promise) early.delete(documentId);
  }, 30_000);
}

/** The history for `query`, from the page's prefetch when it asked for the same. */
export function historyFor(documentId, query) {
  const hit = documentId ? early.get(documentId) : null;
  if (hit) {
    early.delete(documentId);
    const same = ['marketplace', 'asin', 'period'].every((k) => hit.query[k] === query[k]);
    if (same) return hit.promise;
  }
  return loadHistory(query);
}

async function remember(key, entry) {
  const { cacheIndex = [] } = await chrome.storage.local.get('cacheIndex');
  const index = cacheIndex.filter((e) => e.key !== key);
  index.push({ key, at: entry.savedAt });
  const evict = evictions(index);
  await chrome.storage.local.set({ [key]: entry, cacheIndex: index.filter((e) => !evict.includes(e.key)) });
  if (evict.length) await chrome.storage.local.remove(evict);
}
