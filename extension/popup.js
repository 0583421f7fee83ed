// The toolbar popup: the product in the current tab (or the one last viewed) with a
// one-click alert at a suggested price, the alerts already set on it, and sign-in by emailed
// code when needed. Every server call goes through the service worker.

import init, { format_price } from './pkg/pricewatch_wasm.js';

const $ = (id) => document.getElementById(id);
const view = { product: null, signedIn: false, email: null };

/** A message to the service worker; an `{error}` answer is thrown as an Error with `.code`. */
async function send(message) {
  const answer = await chrome.runtime.sendMessage(message);
  if (!answer) throw Object.assign(new Error('The extension did not answer.'), { code: 'internal' });
  if (answer.error) throw Object.assign(new Error(answer.message || answer.error), { code: answer.error, field: answer.field });
  return answer;
}

function say(el, text, kind = '') {
  el.textContent = text || '';
  el.className = kind;
  el.hidden = !text;
}

function fmt(marketplace, minor) {
  try {
    return format_price(marketplace, minor);
  } catch {
    return String(minor);
  }
}

/** Ask the content script in tab `tabId` what it read; null when it has nothing. */
async function readingInTab(tabId) {
  try {
    const answer = await chrome.tabs.sendMessage(tabId, { type: 'reading' });
    return answer?.reading ?? null;
  } catch {
    return null; // no content script there (not an Amazon product page)
  }
}

/**
 * The product to show: the tab the panel named (`?tab=`), the active tab, an explicit
 * `?marketplace=&asin=`, or the product page last read in any tab.
 */
async function findProduct() {
  const params = new URLSearchParams(location.search);
  const tabId = Number(params.get('tab'));
  if (Number.isInteger(tabId) && tabId > 0) {
    const reading = await readingInTab(tabId);
    if (reading) return reading;
  }
  const [active] = await chrome.tabs.query({ active: true, currentWindow: true });
  if (active?.id && !active.url?.startsWith(chrome.runtime.getURL(''))) {
    const reading = await readingInTab(active.id);
    if (reading) return reading;
  }
  if (params.get('marketplace') && params.get('asin')) {
    return { marketplace: params.get('marketplace'), asin: params.get('asin'), title: null, price: null };
  }
  return (await send({ type: 'lastProduct' })).product;
}

async function showProduct(product) {
  $('product').hidden = false;
  $('title').textContent = product.title || `Product ${product.asin}`;
  const minor = product.price?.amount_minor ?? null;
  $('price').textContent = minor != null ? fmt(product.marketplace, minor) : '';
  const history = await send({
    type: 'history', marketplace: product.marketplace, asin: product.asin, period: '30d',
    price: minor, currency: product.price?.currency ?? null,
  }).catch((e) => ({ status: 'error', error: e }));
  if (minor == null && history.product?.current_price) {
    $('price').textContent = fmt(product.marketplace, history.product.current_price.amount_minor);
  }
  product.currency = product.price?.currency ?? history.product?.currency ?? null;
  const v = history.versus;
  $('versus').textContent = !v ? '' : v.kind === 'above' ? `${v.percent.toFixed(0)}% above the all-time low`
    : 'the all-time low';
  if (history.suggestion && !$('threshold').value) {
    $('threshold').value = history.suggestion.text;
    $('why').textContent = `Suggested: ${history.suggestion.why}.`;
  }
  if (history.status === 'offline') say($('notice'), 'The PriceWatch server cannot be reached right now.', 'notice');
  if (history.status === 'unknown') $('why').textContent += ' PriceWatch starts tracking this product now.';
}

async function showAlerts() {
  const product = view.product;
  const list = $('alerts');
  list.replaceChildren();
  if (!view.signedIn || !product) return;
  const { alerts } = await send({ type: 'alerts', marketplace: product.marketplace, asin: product.asin });
  for (const a of alerts) {
    const li = document.createElement('li');
    li.dataset.alertId = a.id;
    const text = document.createElement('span');
    text.textContent = a.threshold_minor != null ? `Alert at or below ${fmt(product.marketplace, a.threshold_minor)}` : 'Back-in-stock alert';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'link';
    remove.textContent = 'Delete';
    remove.addEventListener('click', () => guarded(async () => {
      await send({ type: 'removeAlert', id: a.id });
      await showAlerts();
    }, $('alert-msg')));
    li.append(text, remove);
    list.append(li);
  }
  if (alerts[0]?.threshold_text) {
    $('threshold').value = alerts[0].threshold_text;
    $('why').textContent = '';
    $('save').textContent = 'Update alert';
  }
}

async function showAccount() {
  const status = await send({ type: 'status' });
  view.signedIn = status.signedIn;
  view.email = status.email;
  $('signin').hidden = status.signedIn;
  $('account').hidden = !status.signedIn;
  $('who').textContent = status.email || '';
  $('save').disabled = !status.signedIn;
  $('save').title = status.signedIn ? '' : 'Sign in below first';
  if (!status.signedIn && !view.product) $('signin').hidden = false;
  if (status.signedIn && !view.product) {
    const { alerts } = await send({ type: 'allAlerts' }).catch(() => ({ alerts: [] }));
    $('all-alerts').textContent = alerts.length ? `You have ${alerts.length} price alert${alerts.length === 1 ? '' : 's'}.` : '';
  }
}

/** Run `fn`, showing its failure in `out` instead of losing it. */
async function guarded(fn, out) {
  try {
    await fn();
  } catch (e) {
    say(out, e.code === 'unreachable' ? 'The PriceWatch server cannot be reached.' : e.message, 'bad');
  }
}

$('email-form').addEventListener('submit', (event) => {
  event.preventDefault();
  guarded(async () => {
    await send({ type: 'requestCode', email: $('email').value });
    $('code-form').hidden = false;
    $('code').focus();
    say($('signin-msg'), `We emailed a code to ${$('email').value.trim()}.`, 'good');
  }, $('signin-msg'));
});

$('code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  guarded(async () => {
    await send({ type: 'verifyCode', email: $('email').value, code: $('code').value });
    say($('signin-msg'), '');
    $('code-form').hidden = true;
    await showAccount();
    await showAlerts();
  }, $('signin-msg'));
});

$('alert-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const product = view.product;
  if (!product) return;
  guarded(async () => {
    $('save').disabled = true;
    try {
      const { alert } = await send({
        type: 'subscribe', marketplace: product.marketplace, asin: product.asin,
        amount: $('threshold').value, currency: product.currency,
      });
      await showAlerts();
      say($('alert-msg'), `Alert saved: an email when it costs ${fmt(product.marketplace, alert.threshold_minor)} or less.`, 'good');
    } finally {
      $('save').disabled = !view.signedIn;
    }
  }, $('alert-msg'));
});

$('signout').addEventListener('click', () => guarded(async () => {
  await send({ type: 'signOut' });
  await showAccount();
  await showAlerts();
}, $('signin-msg')));

async function main() {
  await init({ module_or_path: chrome.runtime.getURL('pkg/pricewatch_wasm_bg.wasm') });
  view.product = await findProduct();
  if (view.product) await showProduct(view.product);
  else $('no-product').hidden = false;
  await showAccount();
  await showAlerts();
  document.querySelector('main').dataset.state = 'ready';
}

main().catch((e) => {
  say($('notice'), e.code === 'unreachable' ? 'The PriceWatch server cannot be reached right now.' : `PriceWatch: ${e.message}`, 'notice');
  document.querySelector('main').dataset.state = 'error';
});
