// A product's public, shareable page: price, stats, the interactive chart (drawn by the same
// wasm renderer as the extension), a table of the same data, downloads, and the alert form.
import { api, h, fill, say, money, wasm, header, when, ApiError } from '/app.js';

const PERIODS = [['30d', '1M'], ['90d', '3M'], ['1y', '1Y'], ['all', 'All']];
const GRANULARITIES = [['raw', 'Every change'], ['daily', 'Daily'], ['weekly', 'Weekly'], ['monthly', 'Monthly']];
const DECIMALS = { JPY: 0, KWD: 3 };

const [, , marketplace, asin] = location.pathname.split('/').map(decodeURIComponent);
const base = `/api/products/${encodeURIComponent(marketplace)}/${encodeURIComponent(asin)}`;
const state = { period: '1y', granularity: 'daily', chart: null, product: null, mod: null, cursor: null };

function $(id) { return document.getElementById(id); }
function fmt(minor) { return money(state.mod, marketplace, state.product?.currency || state.chart?.currency, minor); }

/** Parse what a shopper types as a price ("12,99", "1.299,99", "1299") into minor units. */
function parseAmount(text, currency) {
  const decimals = DECIMALS[currency] ?? 2;
  let t = text.replace(/[^\d.,]/g, '');
  if (!t) return null;
  const lastSep = Math.max(t.lastIndexOf('.'), t.lastIndexOf(','));
  let whole = t; let frac = '';
  if (lastSep >= 0 && t.length - lastSep - 1 <= decimals && t.length - lastSep - 1 > 0) {
    whole = t.slice(0, lastSep); frac = t.slice(lastSep + 1);
  }
  whole = whole.replace(/[.,]/g, '');
  if (!/^\d+$/.test(whole || '0')) return null;
  return Number(whole || '0') * 10 ** decimals + Number((frac + '000').slice(0, decimals) || '0');
}

function toMajorText(minor, currency) {
  const decimals = DECIMALS[currency] ?? 2;
  return decimals ? (minor / 10 ** decimals).toFixed(decimals) : String(minor);
}

function renderProduct(p) {
  document.title = `${p.title || p.asin} — price history — PriceWatch`;
  $('title').textContent = p.title || `Product ${p.asin}`;
  $('amazon').href = p.url;
  $('ids').textContent = `${p.marketplace.toUpperCase()} · ASIN ${p.asin}${p.subscribers ? ` · ${p.subscribers} watching` : ''}`;
  $('price').textContent = p.current_price ? fmt(p.current_price.amount_minor) : 'No price shown';
  const stock = { in_stock: ['In stock', 'good'], out_of_stock: ['Out of stock', 'bad'], unknown: ['Stock unknown', 'muted'] }[p.availability] || ['', 'muted'];
  $('availability').className = stock[1];
  $('availability').textContent = stock[0];
  const s = p.stats;
  const items = s ? [
    ['Current', s.current != null ? fmt(s.current) : '—'],
    ['Lowest', `${fmt(s.lowest.price)} (${when(s.lowest.at)})`],
    ['Highest', `${fmt(s.highest.price)} (${when(s.highest.at)})`],
    ['Average', fmt(s.avg)],
    ['Above the low', s.above_lowest != null ? `${fmt(s.above_lowest)} (${s.above_lowest_percent?.toFixed(1)}%)` : '—'],
  ] : [['History', 'Not enough data yet']];
  fill($('stats'), items.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
  suggestThreshold();
}

function buttons(el, options, current, onPick) {
  fill(el, options.map(([value, label]) => h('button', {
    type: 'button', 'aria-pressed': String(value === current),
    onclick: () => onPick(value),
  }, label)));
}

function summary(chart) {
  const s = chart.stats;
  if (!s) return 'Price history chart: no prices in this period.';
  return `Price history chart from ${when(chart.start)} to ${when(chart.end)}: lowest ${fmt(s.lowest.price)} on ${when(s.lowest.at)}, highest ${fmt(s.highest.price)}, average ${fmt(s.avg)}. The table view below lists every point.`;
}

function renderTable(chart) {
  const table = $('table');
  const rows = chart.buckets.map((b) => h('tr', {},
    h('td', {}, when(b.start, chart.granularity === 'raw' || chart.granularity === 'hourly')),
    b.gap ? h('td', { colspan: '4', class: 'muted' }, b.gap.replaceAll('_', ' '))
      : [h('td', { class: 'num' }, fmt(b.open)), h('td', { class: 'num' }, fmt(b.close)),
        h('td', { class: 'num' }, fmt(b.min)), h('td', { class: 'num' }, fmt(b.max))]));
  fill(table,
    h('caption', { class: 'muted' }, `${chart.buckets.length} rows, ${chart.granularity}, ${chart.currency}`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'From'), h('th', { scope: 'col', class: 'num' }, 'Open'),
      h('th', { scope: 'col', class: 'num' }, 'Close'), h('th', { scope: 'col', class: 'num' }, 'Low'),
      h('th', { scope: 'col', class: 'num' }, 'High'))),
    h('tbody', {}, rows));
}

function draw() {
  const canvas = $('chart');
  canvas.setAttribute('aria-label', summary(state.chart));
  if (!state.mod) {
    say($('readout'), 'The interactive chart is not available here; the table view has the same data.', 'notice');
    return;
  }
  try {
    state.mod.draw_history(canvas, state.chart, { marketplace });
    // For the website benchmark (and anyone profiling): when the first chart was on screen.
    if (!performance.getEntriesByName('chart-drawn').length) performance.mark('chart-drawn');
  } catch (e) {
    say($('readout'), `Could not draw the chart: ${e}`);
  }
}

function readoutAt(x) {
  if (!state.mod || !state.chart) return null;
  try {
    const r = state.mod.hover($('chart'), state.chart, x);
    if (!r) return null;
    state.cursor = r;
    $('readout').textContent = r.gap
      ? `${r.date}: ${r.gap.replaceAll('_', ' ')}`
      : `${r.date}: ${r.price}${r.low && r.low !== r.high ? ` (low ${r.low}, high ${r.high})` : ''}`;
    return r;
  } catch { return null; }
}

/** The first bucket found walking from `x` in steps of `step` CSS px. */
function readoutFrom(x, step) {
  const width = $('chart').getBoundingClientRect().width;
  for (let at = x; at >= 0 && at <= width; at += step) {
    if (readoutAt(at)) return;
  }
}

function historyQuery() {
  return `period=${state.period}&granularity=${state.granularity}`;
}

/** Load (or take the already requested `pending`) history and draw it. */
async function loadChart(pending = null) {
  buttons($('periods'), PERIODS, state.period, (v) => { state.period = v; loadChart(); });
  buttons($('granularities'), GRANULARITIES, state.granularity, (v) => { state.granularity = v; loadChart(); });
  const q = historyQuery();
  $('csv').href = `${base}/history?${q}&format=csv`;
  $('json').href = `${base}/history?${q}`;
  try {
    state.chart = await (pending ?? api(`${base}/history?${q}`));
    state.cursor = null;
    $('readout').textContent = '';
    draw();
    renderTable(state.chart);
  } catch (e) {
    say($('readout'), `Could not load the history: ${e.message}`);
  }
}

function suggestThreshold() {
  const p = state.product;
  const input = $('threshold');
  if (!p || input.value) return;
  const low = p.stats?.lowest?.price;
  const current = p.current_price?.amount_minor;
  const suggestion = low && current && low < current ? low : current ? Math.floor(current * 0.9) : null;
  if (suggestion) input.value = toMajorText(suggestion, p.currency);
  checkThreshold();
}

/** Warn about thresholds below anything the product has cost, and offer a realistic one. */
function checkThreshold() {
  const p = state.product;
  const helper = $('helper');
  if (!p) return;
  const minor = parseAmount($('threshold').value, p.currency);
  if (minor === null) { helper.textContent = 'Type a price, e.g. 19.99.'; return; }
  const s = p.stats;
  if (s && minor < s.lowest.price) {
    helper.className = 'warn';
    helper.textContent = `That is below anything this product has cost (lowest ${fmt(s.lowest.price)}). A realistic target: ${fmt(s.low_on_10pct_of_days)}, the price it reached on 10% of days.`;
  } else if (s) {
    helper.className = 'muted';
    helper.textContent = `Lowest ever ${fmt(s.lowest.price)}; it was at ${fmt(s.low_on_10pct_of_days)} or less on 10% of days.`;
  } else {
    helper.className = 'muted';
    helper.textContent = '';
  }
}

async function setUpSubscribe(user) {
  const form = $('subscribe');
  const status = $('subscribe-status');
  $('threshold').addEventListener('input', checkThreshold);
  if (!user) {
    $('subscribe-btn').textContent = 'Sign in to create the alert';
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!user) { location.assign(`/signin?next=${encodeURIComponent(location.pathname)}`); return; }
    const currency = state.product?.currency || state.chart?.currency;
    const minor = parseAmount($('threshold').value, currency);
    if (minor === null || minor <= 0) { say(status, 'Type the price you want to pay, e.g. 19.99.'); $('threshold').focus(); return; }
    try {
      await api('/api/subscriptions', { method: 'POST', body: { marketplace, asin, threshold_minor: minor, back_in_stock: $('bis').checked } });
      say(status, h('span', {}, 'Alert created. ', h('a', { href: '/alerts' }, 'See your alerts')), 'ok');
    } catch (e) {
      say(status, e instanceof ApiError && e.status === 409 ? 'You already watch this product (or reached your limit): see My alerts.' : e.message);
    }
  });
}

function setUpChartKeys() {
  const canvas = $('chart');
  canvas.addEventListener('pointermove', (e) => readoutAt(e.offsetX));
  canvas.addEventListener('keydown', (e) => {
    if (!state.chart || !state.mod || !['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) return;
    e.preventDefault();
    const width = canvas.getBoundingClientRect().width;
    const r = state.cursor;
    // Step from the edge of the current bucket to its neighbour; the renderer knows the layout.
    if (e.key === 'Home' || (!r && e.key === 'ArrowLeft')) readoutFrom(0, 1);
    else if (e.key === 'End' || !r) readoutFrom(width, -1);
    else if (e.key === 'ArrowRight') readoutFrom(r.right + 0.5, 1);
    else readoutFrom(r.left - 0.5, -1);
  });
  window.addEventListener('resize', () => { if (state.chart) draw(); });
}

async function main() {
  // Everything the first chart needs is asked for at once, so the round trips overlap the
  // wasm module's download and compilation instead of following it.
  const product = api(base);
  const chart = api(`${base}/history?${historyQuery()}`);
  // Their errors are handled below, once awaited; until then they are not unhandled.
  product.catch(() => {});
  chart.catch(() => {});
  const [user, mod] = await Promise.all([header(), wasm()]);
  state.mod = mod;
  setUpChartKeys();
  await setUpSubscribe(user);
  try {
    state.product = await product;
    renderProduct(state.product);
    $('product').hidden = false;
    await loadChart(chart);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      $('product').hidden = false;
      $('title').textContent = `No price history for ${asin} yet`;
      say($('status'), 'Create an alert below and PriceWatch will start tracking this product.', 'notice');
      $('amazon').href = `https://www.amazon.com/dp/${encodeURIComponent(asin)}`;
    } else if (e instanceof ApiError && e.status === 400) {
      say($('status'), e.message);
    } else {
      say($('status'), `Could not load this product: ${e.message}`);
    }
  }
}

main();
