// Home: find a product by link or ASIN; recently dropped and most watched products.
import { api, h, fill, say, money, wasm, header, productPath, ApiError } from '/app.js';

const MARKETPLACES = ['us', 'ca', 'mx', 'br', 'uk', 'de', 'fr', 'it', 'es', 'nl', 'se', 'pl', 'tr', 'ae', 'sa', 'in', 'jp', 'au', 'sg'];

function card(mod, p) {
  const price = p.current_price ? money(mod, p.marketplace, p.current_price.currency, p.current_price.amount_minor) : '—';
  return h('div', { class: 'card' },
    h('a', { href: productPath(p.marketplace, p.asin) },
      h('span', { class: 'title' }, p.title || p.asin)),
    h('div', {},
      h('span', { class: 'price' }, price), ' ',
      p.drop_percent != null ? h('span', { class: 'good' }, `−${p.drop_percent}%`) : null,
      p.previous_price ? h('span', { class: 'muted' }, ` was ${money(mod, p.marketplace, p.previous_price.currency, p.previous_price.amount_minor)}`) : null),
    h('div', { class: 'muted' }, `${p.marketplace.toUpperCase()} · ${p.asin}`,
      p.subscribers ? ` · ${p.subscribers} watching` : ''));
}

async function list(el, sort) {
  try {
    const [items, mod] = await Promise.all([api(`/api/products?sort=${sort}&limit=12`), wasm()]);
    fill(el, items.length ? items.map((p) => card(mod, p)) : h('p', { class: 'muted' }, 'Nothing yet.'));
  } catch (e) {
    say(el, `Could not load this list: ${e.message}`);
  }
}

function setUp() {
  const select = document.getElementById('marketplace');
  fill(select, MARKETPLACES.map((m) => h('option', { value: m }, m.toUpperCase())));
  const form = document.getElementById('find');
  const status = document.getElementById('find-status');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const q = document.getElementById('q').value.trim();
    if (!q) { say(status, 'Paste an Amazon product link or an ASIN.'); return; }
    try {
      const params = new URLSearchParams({ q, marketplace: select.value });
      const found = await api(`/api/resolve?${params}`);
      location.assign(found.path);
    } catch (e) {
      say(status, e instanceof ApiError ? e.message : `Could not look that up: ${e.message}`);
    }
  });
}

setUp();
header();
list(document.getElementById('drops'), 'drops');
list(document.getElementById('watched'), 'watched');
