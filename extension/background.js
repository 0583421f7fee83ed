// The service worker: the only part of the extension that talks to the PriceWatch server.
// Content scripts and the popup send it messages (see `handlers` below); it signs and queues
// price reports, loads price histories (cached for offline use) and manages alerts.
//
// It runs the wasm module through the ES-module glue (`pkg/pricewatch_wasm.js`): a module
// service worker may import it statically, and the wasm bytes come from the extension itself.
// Service workers have no `window`: the module takes its randomness from `crypto` on the
// global scope. Every listener is registered synchronously at the top level, as MV3 requires
// for a worker that is woken by events.

import init, * as pw from './pkg/pricewatch_wasm.js';
import { reporter as makeReporter, FLUSH_ALARM } from './lib/reporter.js';
import { prefetch, historyFor } from './lib/history.js';
import * as alerts from './lib/alerts.js';
import { ApiError, Unreachable } from './lib/api.js';
import { getSettings } from './lib/settings.js';
import { suggestThreshold, versusLow, REASON_TEXT } from './lib/threshold.js';
import { toInputText } from './lib/money.js';

let ready;
/** The wasm module, initialised once per worker lifetime. */
function wasm() {
  ready ??= init({ module_or_path: chrome.runtime.getURL('pkg/pricewatch_wasm_bg.wasm') }).then(() => pw);
  return ready;
}

// The reporter's secret seed and the bearer token live in storage.local: content scripts,
// which run inside Amazon's pages, get no access to it (they ask this worker instead).
chrome.storage.local.setAccessLevel?.({ accessLevel: 'TRUSTED_CONTEXTS' }).catch(() => {});

const version = chrome.runtime.getManifest().version;
const reports = makeReporter({ wasm, version });

/** The most recent product page read in any tab, for a popup opened elsewhere. */
async function rememberProduct(reading) {
  const product = { marketplace: reading.marketplace, asin: reading.asin, title: reading.title ?? null, price: reading.price ?? null, at: Date.now() };
  await chrome.storage.session.set({ lastProduct: product });
}

/** The product a page address names, by core's URL rules: `{marketplace, asin}` or `{}`. */
async function productOfUrl(url) {
  const found = (await wasm()).parse_asin_or_url(String(url));
  return found?.marketplace && found?.asin ? { marketplace: found.marketplace, asin: found.asin } : {};
}

/**
 * Today's price against the all-time low, and the alert price to suggest. The page's price
 * (`price`) is fresher than the server's; without it the server's current price is used.
 */
function compare({ price = null, currency = null, product = null }) {
  const lowest = product?.stats?.lowest?.price ?? null;
  const current = price ?? product?.current_price?.amount_minor ?? null;
  const suggestion = suggestThreshold({ current, lowest });
  const money = currency ?? product?.currency ?? null;
  return {
    versus: versusLow(current, lowest),
    suggestion: suggestion && { ...suggestion, text: toInputText(suggestion.minor, money), why: REASON_TEXT[suggestion.reason] },
  };
}

/** Message handlers. `extensionOnly` ones are refused from content scripts. */
const handlers = {
  async observed({ reading }) {
    if (!reading || reading.blocked || !reading.marketplace || !reading.asin) return { queued: 'blocked' };
    await rememberProduct(reading);
    return { queued: await reports.observe(reading) };
  },

  async prefetch({ url, period }, sender) {
    // early.js names the page as it starts loading: the server is asked while Amazon's page
    // and then the content script's wasm module load.
    const { marketplace, asin } = await productOfUrl(url);
    if (marketplace && asin && sender.documentId) prefetch(sender.documentId, { marketplace, asin, period });
    return {};
  },

  async history({ url, marketplace, asin, period, price, currency }, sender) {
    if (url != null) {
      // Asked by page address as the content script starts, before it has read the page.
      ({ marketplace, asin } = await productOfUrl(url));
      if (!marketplace || !asin) return { status: 'unresolved' };
    }
    const found = await historyFor(sender.documentId, { marketplace, asin, period });
    return { marketplace, asin, ...found, ...compare({ price, currency, product: found.product }) };
  },

  async compare({ price, currency, product }) {
    return compare({ price, currency, product });
  },

  async alerts({ marketplace, asin }) {
    const mine = await alerts.forProduct(marketplace, asin);
    return {
      signedIn: true,
      alerts: mine.map((a) => ({ ...a, threshold_text: a.threshold_minor == null ? null : toInputText(a.threshold_minor, a.currency) })),
    };
  },

  async subscribe({ marketplace, asin, amount, currency }) {
    return { signedIn: true, alert: await alerts.subscribe({ marketplace, asin, amount, currency }) };
  },

  async openSignIn(_message, sender) {
    // The toolbar popup holds the sign-in form; when the browser will not open it from here,
    // the same page opens in a tab.
    const product = sender.tab ? `?tab=${sender.tab.id}` : '';
    try {
      await chrome.action.openPopup();
    } catch {
      await chrome.tabs.create({ url: chrome.runtime.getURL(`popup.html${product}`) });
    }
    return {};
  },

  lastProduct: { extensionOnly: true, async run() {
    return { product: (await chrome.storage.session.get('lastProduct')).lastProduct ?? null };
  } },
  status: { extensionOnly: true, async run() {
    const settings = await getSettings();
    const { reporter } = await chrome.storage.local.get('reporter');
    const { queue = [] } = await chrome.storage.local.get('queue');
    return { settings, ...(await alerts.status()), publicKey: reporter?.publicKey ?? null, queued: queue.length };
  } },
  allAlerts: { extensionOnly: true, async run() {
    return { signedIn: true, alerts: await alerts.all() };
  } },
  requestCode: { extensionOnly: true, async run({ email }) {
    await alerts.requestCode(email);
    return {};
  } },
  verifyCode: { extensionOnly: true, async run({ email, code }) {
    return alerts.verifyCode(email, code);
  } },
  signOut: { extensionOnly: true, async run() {
    await alerts.signOut();
    return {};
  } },
  removeAlert: { extensionOnly: true, async run({ id }) {
    await alerts.remove(id);
    return {};
  } },
  flush: { extensionOnly: true, async run() {
    await reports.flush();
    const { queue = [] } = await chrome.storage.local.get('queue');
    return { queued: queue.length };
  } },
};

/** Whether `sender` is one of this extension's own pages (popup, options), not a content script. */
function fromExtensionPage(sender) {
  return sender.id === chrome.runtime.id && typeof sender.url === 'string' && sender.url.startsWith(chrome.runtime.getURL(''));
}

/** A thrown error as the plain object a message can carry. */
function describe(error) {
  if (error instanceof alerts.SignInNeeded) return { error: 'sign_in', message: error.message };
  if (error instanceof Unreachable) return { error: 'unreachable', message: 'The PriceWatch server cannot be reached.' };
  if (error instanceof ApiError) return { error: error.code || 'api', status: error.status, field: error.field, message: error.message };
  return { error: 'internal', message: String(error?.message || error) };
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const entry = message && typeof message.type === 'string' && Object.hasOwn(handlers, message.type) ? handlers[message.type] : null;
  if (!entry || sender.id !== chrome.runtime.id) return false;
  const run = typeof entry === 'function' ? entry : entry.run;
  if (entry.extensionOnly && !fromExtensionPage(sender)) {
    sendResponse({ error: 'forbidden', message: `${message.type} is only for the extension's own pages` });
    return false;
  }
  Promise.resolve()
    .then(() => run(message, sender))
    .then((answer) => sendResponse({ ok: true, ...answer }), (error) => sendResponse(describe(error)));
  return true;
});

chrome.runtime.onInstalled.addListener(() => {
  // Make the key now and register it when the server is reachable; a failure is retried on
  // the next report or alarm.
  reports.register().catch(() => {});
});

chrome.runtime.onStartup.addListener(() => {
  reports.flush();
});

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === FLUSH_ALARM) reports.flush();
});

chrome.storage.onChanged.addListener((changes, area) => {
  // A new server: register the key there and send what waited for it.
  if (area === 'local' && changes.settings && changes.settings.newValue?.serverUrl !== changes.settings.oldValue?.serverUrl) {
    reports.register().catch(() => false).then(() => reports.flush());
  }
});
