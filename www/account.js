// Account: digest mode, webhook, test notifications, export, sign-out, deletion.
import { api, say, header, ApiError } from '/app.js';

const status = document.getElementById('status');
const $ = (id) => document.getElementById(id);

function show(user) {
  $('digest').checked = !!user.digest;
  $('webhook').value = user.webhook_url || '';
  $('secret').textContent = user.webhook_secret || '(none: set a webhook URL first)';
}

async function run(action, done) {
  try { const r = await action(); if (done) say(status, done, 'ok'); return r; }
  catch (e) { say(status, e instanceof ApiError ? e.message : `Failed: ${e.message}`); return null; }
}

(async () => {
  const user = await header();
  if (!user) { location.assign(`/signin?next=${encodeURIComponent(location.pathname)}`); return; }
  show(user);
  $('digest-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const u = await run(() => api('/api/account', { method: 'PATCH', body: { digest: $('digest').checked } }), 'Saved.');
    if (u) show(u);
  });
  $('webhook-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const url = $('webhook').value.trim();
    const u = await run(() => api('/api/account', { method: 'PATCH', body: { webhook_url: url || null } }), url ? 'Webhook saved.' : 'Webhook removed.');
    if (u) show(u);
  });
  $('test-email').addEventListener('click', () => run(() => api('/api/channels/test', { method: 'POST', body: { channel: 'email' } }), 'A test email is on its way.'));
  $('test-webhook').addEventListener('click', () => run(() => api('/api/channels/test', { method: 'POST', body: { channel: 'webhook' } }), 'A test webhook call is on its way.'));
  $('export').addEventListener('click', async () => {
    const data = await run(() => api('/api/account/export'));
    if (!data) return;
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'pricewatch-export.json';
    a.click();
    URL.revokeObjectURL(a.href);
  });
  $('signout').addEventListener('click', async () => {
    await run(() => api('/api/auth/signout', { method: 'POST' }));
    location.assign('/');
  });
  $('delete').addEventListener('click', async () => {
    if (!confirm('Delete your account, all your alerts and their history? This cannot be undone.')) return;
    try {
      await api('/api/account', { method: 'DELETE' });
      location.assign('/');
    } catch (e) {
      say(status, e instanceof ApiError ? e.message : `Could not delete the account: ${e.message}`);
    }
  });
})();
