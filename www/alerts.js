// My alerts: each subscription with its current price against its threshold and status,
// edit / pause / delete, a watchlist import, and the notification history.
import { api, h, fill, say, money, wasm, header, when, productPath, ApiError } from '/app.js';

const MARKETPLACES = ['us', 'ca', 'mx', 'br', 'uk', 'de', 'fr', 'it', 'es', 'nl', 'se', 'pl', 'tr', 'ae', 'sa', 'in', 'jp', 'au', 'sg'];
const DECIMALS = { JPY: 0, KWD: 3 };
const status = document.getElementById('status');
let mod = null;

function toMinor(text, currency) {
  const decimals = DECIMALS[currency] ?? 2;
  const t = text.trim().replace(/[^\d.,]/g, '');
  if (!t) return null;
  const last = Math.max(t.lastIndexOf('.'), t.lastIndexOf(','));
  const fracLen = last >= 0 ? t.length - last - 1 : 0;
  const [whole, frac] = last >= 0 && fracLen > 0 && fracLen <= decimals ? [t.slice(0, last), t.slice(last + 1)] : [t, ''];
  const w = whole.replace(/[.,]/g, '');
  if (!/^\d*$/.test(w)) return null;
  return Number(w || '0') * 10 ** decimals + Number((frac + '000').slice(0, decimals) || '0');
}

function statusBadge(s) {
  if (s.paused) return h('span', { class: 'badge paused' }, 'paused');
  return s.armed ? h('span', { class: 'badge armed' }, 'armed') : h('span', { class: 'badge fired' }, 'fired — re-arms when the price goes back up');
}

function row(s) {
  const fmt = (m) => money(mod, s.marketplace, s.currency, m);
  const below = s.current_price_minor != null && s.threshold_minor != null && s.current_price_minor <= s.threshold_minor;
  const thresholdInput = h('input', { 'aria-label': `New threshold for ${s.title || s.asin}`, inputmode: 'decimal', size: '8',
    value: s.threshold_minor != null ? (s.threshold_minor / 10 ** (DECIMALS[s.currency] ?? 2)).toFixed(DECIMALS[s.currency] ?? 2) : '' });
  const act = async (body, done) => {
    try { await api(`/api/subscriptions/${s.id}`, body); say(status, done, 'ok'); load(); }
    catch (e) { say(status, e.message); }
  };
  return h('li', {},
    h('div', {}, h('a', { href: productPath(s.marketplace, s.asin) }, s.title || s.asin), ' ', statusBadge(s)),
    h('div', { class: 'row' },
      h('span', {}, 'Now ', h('strong', { class: below ? 'good' : '' }, fmt(s.current_price_minor))),
      h('span', {}, s.threshold_minor != null ? `target ${fmt(s.threshold_minor)}` : 'back in stock only'),
      s.drop_percent != null ? h('span', { class: 'muted' }, `(${s.drop_percent}% below ${fmt(s.reference_price_minor)})`) : null,
      s.back_in_stock ? h('span', { class: 'muted' }, '+ back in stock') : null),
    h('form', { class: 'inline', onsubmit: (e) => {
      e.preventDefault();
      const minor = toMinor(thresholdInput.value, s.currency);
      if (minor === null || minor <= 0) { say(status, 'Type a price, e.g. 19.99.'); thresholdInput.focus(); return; }
      act({ method: 'PATCH', body: { threshold_minor: minor } }, 'Threshold saved.');
    } },
    thresholdInput,
    h('button', { type: 'submit', class: 'secondary' }, 'Save threshold'),
    h('button', { type: 'button', class: 'secondary', onclick: () => act({ method: 'PATCH', body: { paused: !s.paused } }, s.paused ? 'Resumed.' : 'Paused.') }, s.paused ? 'Resume' : 'Pause'),
    h('button', { type: 'button', class: 'danger', onclick: () => {
      if (confirm(`Delete the alert for ${s.title || s.asin}?`)) act({ method: 'DELETE' }, 'Deleted.');
    } }, 'Delete')));
}

async function load() {
  const list = document.getElementById('list');
  try {
    const { subscriptions } = await api('/api/subscriptions');
    fill(list, subscriptions.length ? subscriptions.map(row)
      : h('li', { class: 'muted' }, 'No alerts yet. Find a product on the home page and create one.'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) location.assign(`/signin?next=${encodeURIComponent(location.pathname)}`);
    else say(status, e.message);
  }
}

async function notifications() {
  const el = document.getElementById('notifications');
  try {
    const { notifications: items } = await api('/api/notifications?limit=50');
    fill(el, items.length ? items.map((n) => h('li', {},
      h('span', { class: 'badge' }, n.kind), ' ', h('span', { class: n.status === 'failed' ? 'bad' : 'muted' }, `${n.status} by ${n.channel}`),
      ' ', when(n.sent_at || n.created_at, true),
      n.last_error ? h('div', { class: 'bad' }, n.last_error) : null))
      : h('li', { class: 'muted' }, 'Nothing sent yet.'));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) say(el, e.message);
  }
}

/** Each line: a link or ASIN, optionally ", price". Reports added / already watched / rejected. */
async function importList(text) {
  const results = document.getElementById('import-results');
  const market = document.getElementById('import-mkt').value;
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  fill(results);
  for (const [i, line] of lines.entries()) {
    const cells = line.split(/[,;\t]/).map((c) => c.trim());
    // A CSV header row names no product: skip it quietly.
    if (i === 0 && /^(url|asin|link)$/i.test(cells[0])) continue;
    const [q, ...rest] = cells;
    let outcome;
    try {
      const found = await api(`/api/resolve?${new URLSearchParams({ q, marketplace: market })}`);
      const price = rest.join(',');
      const body = { marketplace: found.marketplace, asin: found.asin, back_in_stock: !price };
      if (price) {
        const product = await api(`/api/products/${found.marketplace}/${found.asin}`).catch(() => null);
        const minor = toMinor(price, product?.currency || { us: 'USD', uk: 'GBP', jp: 'JPY' }[found.marketplace] || 'EUR');
        if (minor === null) throw new Error(`"${price}" is not a price`);
        body.threshold_minor = minor;
      }
      await api('/api/subscriptions', { method: 'POST', body });
      outcome = h('span', { class: 'good' }, `added (${found.marketplace.toUpperCase()} ${found.asin})`);
    } catch (e) {
      outcome = e instanceof ApiError && e.status === 409
        ? h('span', { class: 'muted' }, 'already watched')
        : h('span', { class: 'bad' }, `rejected: ${e.message}`);
    }
    results.append(h('li', {}, h('code', {}, line), ' — ', outcome));
  }
  load();
}

function setUpImport() {
  fill(document.getElementById('import-mkt'), MARKETPLACES.map((m) => h('option', { value: m }, m.toUpperCase())));
  document.getElementById('import-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = document.getElementById('import-file').files[0];
    const text = file ? await file.text() : document.getElementById('import-text').value;
    if (!text.trim()) { say(status, 'Paste some links or choose a file.'); return; }
    importList(text);
  });
}

(async () => {
  const user = await header();
  if (!user) { location.assign(`/signin?next=${encodeURIComponent(location.pathname)}`); return; }
  mod = await wasm();
  setUpImport();
  load();
  notifications();
})();
