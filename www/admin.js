// The review queue: reports the judge held or rejected, with its reasons and the reporter's
// record; approve (publishes the price; alerts follow), reject, ban the key, re-crawl. Every
// action lands in the audit log with who and when.
import { api, h, fill, say, money, wasm, header, when, productPath, ApiError } from '/app.js';

const status = document.getElementById('status');
let mod = null;
let filter = 'held';

function action(label, path, confirmText, cls = 'secondary') {
  return h('button', { type: 'button', class: cls, onclick: async () => {
    if (confirmText && !confirm(confirmText)) return;
    try {
      await api(path, { method: 'POST' });
      say(status, `${label}: done.`, 'ok');
      load();
    } catch (e) {
      say(status, e instanceof ApiError ? e.message : `${label} failed: ${e.message}`);
    }
  } }, label);
}

/** An audit entry's detail object as short text: `status before: held, point id: 12`. */
function detailText(detail) {
  if (!detail || typeof detail !== 'object') return '';
  return Object.entries(detail)
    .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k.replaceAll('_', ' ')}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
    .join('; ');
}

function row(r) {
  const rec = r.reporter_record;
  const record = rec
    ? `${rec.confirmed} confirmed, ${rec.refuted} refuted, ${rec.reports} reports, score ${rec.score.toFixed(2)}${rec.banned ? ', banned' : ''}`
    : '';
  const review = r.review ? h('div', { class: 'muted' }, `${r.review.decision} by ${r.review.by}`) : null;
  return h('tr', {},
    h('td', {}, h('a', { href: productPath(r.marketplace, r.asin) }, r.title || r.asin),
      h('div', { class: 'muted' }, `${r.marketplace.toUpperCase()} ${r.asin}`)),
    h('td', { class: 'num' }, r.price_minor != null ? money(mod, r.marketplace, r.currency, r.price_minor) : 'no price'),
    h('td', {}, r.decision, h('div', { class: 'muted' }, `suspicion ${r.suspicion.toFixed(2)}`), review),
    h('td', {}, h('ul', {}, r.reasons.map((x) => h('li', {}, x.replaceAll('_', ' '))))),
    h('td', {}, h('code', { title: r.reporter }, `${r.reporter.slice(0, 12)}…`), h('div', { class: 'muted' }, record)),
    h('td', {}, when(r.observed_at, true)),
    h('td', {}, r.crawl ? `${r.crawl.state}${r.crawl.price_minor != null ? `: ${money(mod, r.marketplace, r.currency, r.crawl.price_minor)}` : ''}` : '—'),
    h('td', {}, h('div', { class: 'row' },
      action('Approve', `/api/admin/reports/${r.report_id}/approve`, 'Publish this price? Alerts will follow.'),
      filter === 'held' ? action('Reject', `/api/admin/reports/${r.report_id}/reject`) : null,
      action('Re-crawl', `/api/admin/reports/${r.report_id}/recrawl`),
      action('Ban key', `/api/admin/reporters/${r.reporter}/ban`, 'Ban this reporter key? Its reports will be rejected.', 'danger'))));
}

let keySort = 'refuted';

function keyRow(k) {
  return h('tr', {},
    h('th', { scope: 'row' }, h('code', { title: k.public_key }, `${k.public_key.slice(0, 12)}…`)),
    h('td', {}, k.kind),
    h('td', { class: 'num' }, String(k.reports)),
    h('td', { class: 'num' }, String(k.confirmed)),
    h('td', { class: 'num' }, String(k.refuted)),
    h('td', { class: 'num' }, k.score.toFixed(2)),
    h('td', {}, when(k.created_at)),
    h('td', {}, k.banned
      ? action('Unban', `/api/admin/reporters/${k.public_key}/unban`)
      : action('Ban', `/api/admin/reporters/${k.public_key}/ban`, 'Ban this reporter key? Its reports will be rejected.', 'danger')));
}

async function loadKeys() {
  fill(document.getElementById('key-sorts'), [['refuted', 'Most refuted'], ['reports', 'Most reports'], ['recent', 'Newest'], ['last_report', 'Last reported']].map(([v, l]) =>
    h('button', { type: 'button', 'aria-pressed': String(v === keySort), onclick: () => { keySort = v; loadKeys(); } }, l)));
  const table = document.getElementById('keys');
  try {
    const { reporters } = await api(`/api/admin/reporters?limit=50&sort=${keySort}`);
    fill(table,
      h('caption', { class: 'muted' }, `${reporters.length} reporter keys`),
      h('thead', {}, h('tr', {}, ['Key', 'Kind', 'Reports', 'Confirmed', 'Refuted', 'Score', 'Since', 'Actions']
        .map((t, i) => h('th', { scope: 'col', class: i >= 2 && i <= 5 ? 'num' : null }, t)))),
      h('tbody', {}, reporters.map(keyRow)));
  } catch { fill(table); /* the queue's error already says why */ }
}

async function load() {
  loadKeys();
  fill(document.getElementById('filters'), [['held', 'Held'], ['rejected', 'Rejected']].map(([v, l]) =>
    h('button', { type: 'button', 'aria-pressed': String(v === filter), onclick: () => { filter = v; load(); } }, l)));
  const table = document.getElementById('queue');
  try {
    const { reports } = await api(`/api/admin/reports?status=${filter}`);
    fill(table,
      h('caption', { class: 'muted' }, `${reports.length} ${filter} reports`),
      h('thead', {}, h('tr', {}, ['Product', 'Price', 'Decision', 'Reasons', 'Reporter', 'Seen', 'Crawl', 'Actions']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, reports.map(row)));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { location.assign(`/signin?next=${encodeURIComponent(location.pathname)}`); return; }
    say(status, e instanceof ApiError && e.status === 403 ? 'This page is for admins.' : e.message);
    fill(table);
  }
  try {
    const { entries } = await api('/api/admin/audit?limit=50');
    fill(document.getElementById('audit'), entries.map((a) =>
      h('li', {}, when(a.at, true), ' — ', h('strong', {}, a.admin), ` ${a.action.replaceAll('_', ' ')} ${a.target_kind || ''} `,
        h('code', {}, a.target.length > 16 ? `${a.target.slice(0, 12)}…` : a.target),
        detailText(a.detail) ? h('span', { class: 'muted' }, ` (${detailText(a.detail)})`) : null)));
  } catch { /* the queue's error already says why */ }
}

(async () => {
  await header();
  mod = await wasm();
  load();
})();
