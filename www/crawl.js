// The crawler's admin page: the queue's depth and age by kind of job, each host's health
// (success and robot-check rates, back-off) and the recent jobs with what their crawl found.
// Everything from the server goes into the page as text.
import { api, h, fill, say, money, header, when, productPath, ApiError } from '/app.js';

const status = document.getElementById('status');
let kind = '';

/** A duration in ms for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. */
export function age(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

const percent = (x) => `${(x * 100).toFixed(1)} %`;

function table(el, caption, columns, rows, empty) {
  fill(el,
    h('caption', { class: 'muted' }, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.length
      ? rows.map((r) => h('tr', {}, columns.map((c, i) => (i === 0
        ? h('th', { scope: 'row' }, c.cell(r))
        : h('td', { class: c.num ? 'num' : null }, c.cell(r))))))
      : h('tr', {}, h('td', { colspan: String(columns.length) }, empty))));
}

function showQueue({ queues }) {
  table(document.getElementById('queue'), 'Jobs waiting, by kind', [
    { label: 'Kind', cell: (q) => q.kind },
    { label: 'Pending', num: true, cell: (q) => String(q.pending) },
    { label: 'Due now', num: true, cell: (q) => String(q.due) },
    { label: 'Oldest due for', num: true, cell: (q) => (q.due ? age(q.oldest_due_ms) : '—') },
  ], queues, 'The queue is empty.');
}

function showHosts({ hosts }) {
  table(document.getElementById('hosts'), 'Each host as the crawler sees it', [
    { label: 'Host', cell: (x) => x.host },
    { label: 'Requests', num: true, cell: (x) => String(x.requests) },
    { label: 'Success rate', num: true, cell: (x) => percent(x.success_rate) },
    { label: 'CAPTCHA rate', num: true, cell: (x) => percent(x.robot_check_rate) },
    { label: '503/429', num: true, cell: (x) => String(x.unavailable) },
    { label: 'Unreachable', num: true, cell: (x) => String(x.unreachable) },
    { label: 'Back-off', cell: (x) => (x.backing_off
      ? `backing off, ${age(x.backoff_remaining_ms)} left (${x.failures_in_row} failures in a row)`
      : 'no') },
    { label: 'Last outcome', cell: (x) => (x.last_outcome || '—').replaceAll('_', ' ') },
  ], hosts, 'No host has been crawled yet.');
}

/** What a job's last crawl found, in words. */
function result(job) {
  const r = job.result;
  if (!r) return job.claimed_by ? 'crawling' : 'waiting';
  const parts = [(r.verdict || r.outcome || 'done').replaceAll('_', ' ')];
  if (r.http_status) parts.push(`HTTP ${r.http_status}`);
  const price = r.observation && r.observation.price;
  if (price) parts.push(money(null, job.marketplace, price.currency, price.amount_minor));
  if (r.error || r.reason) parts.push(r.error || r.reason);
  if (!job.done_at) parts.push('will retry');
  return parts.join(' · ');
}

function showJobs({ jobs }) {
  table(document.getElementById('jobs'), `The latest ${jobs.length} jobs${kind ? ` (${kind})` : ''}, newest first`, [
    { label: 'Job', cell: (j) => `#${j.id} ${j.kind}` },
    { label: 'Product', cell: (j) => h('a', { href: productPath(j.marketplace, j.asin) }, `${j.marketplace.toUpperCase()} ${j.asin}`) },
    { label: 'Report', cell: (j) => (j.report_id ? `#${j.report_id}` : '—') },
    { label: 'Due', cell: (j) => when(j.due_at, true) },
    { label: 'Attempts', num: true, cell: (j) => String(j.attempts) },
    { label: 'Finished', cell: (j) => (j.done_at ? when(j.done_at, true) : '—') },
    { label: 'Result', cell: result },
  ], jobs, 'No jobs.');
}

async function load() {
  fill(document.getElementById('job-filters'), [['', 'All'], ['verify', 'Verifications'], ['refresh', 'Refreshes']].map(([v, l]) =>
    h('button', { type: 'button', 'aria-pressed': String(v === kind), onclick: () => { kind = v; load(); } }, l)));
  try {
    const [queue, hosts, jobs] = await Promise.all([
      api('/api/admin/crawl-queue'),
      api('/api/admin/hosts'),
      api(`/api/admin/crawl-jobs?limit=50${kind ? `&kind=${kind}` : ''}`),
    ]);
    showQueue(queue);
    showHosts(hosts);
    showJobs(jobs);
    fill(document.getElementById('taken'), `As of ${when(queue.at, true)}`);
    say(status, null);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { location.assign(`/signin?next=${encodeURIComponent(location.pathname)}`); return; }
    say(status, e instanceof ApiError && e.status === 403 ? 'This page is for admins.' : e.message);
  }
}

(async () => {
  await header();
  document.getElementById('refresh').addEventListener('click', load);
  load();
})();
