// Sign-in by emailed code or magic link; then back to where the shopper came from.
import { api, say, header, ApiError } from '/app.js';

const params = new URLSearchParams(location.search);
const next = (() => {
  const n = params.get('next') || '/alerts';
  // Only same-site paths: an open redirect would let a phishing link borrow our name.
  return n.startsWith('/') && !n.startsWith('//') ? n : '/alerts';
})();
const status = document.getElementById('status');

async function verify(body) {
  try {
    await api('/api/auth/verify', { method: 'POST', body: { ...body, client: 'web' } });
    location.assign(next);
  } catch (e) {
    say(status, e instanceof ApiError ? e.message : `Could not sign in: ${e.message}`);
  }
}

document.getElementById('email-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = document.getElementById('email').value.trim();
  if (!email.includes('@')) { say(status, 'Type your email address.'); return; }
  try {
    await api('/api/auth/email', { method: 'POST', body: { email } });
    document.getElementById('code-form').hidden = false;
    say(status, `We sent a code to ${email}. It works once and expires soon.`, 'ok');
    document.getElementById('code').focus();
  } catch (e) {
    say(status, e instanceof ApiError ? e.message : `Could not send the code: ${e.message}`);
  }
});

document.getElementById('code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  verify({ email: document.getElementById('email').value.trim(), code: document.getElementById('code').value.trim() });
});

header();
if (params.get('token')) verify({ token: params.get('token') });
