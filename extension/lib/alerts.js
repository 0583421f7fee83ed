// Price alerts and the sign-in they need: the emailed code exchanged for a bearer token
// (kept in chrome.storage.local per server), the signed-in user's alerts on one product, and
// setting one. Used by the service worker for the panel and the popup alike.

import { client, ApiError } from './api.js';
import { getSettings, getAuth, setAuth } from './settings.js';
import { parseAmount } from './money.js';

/** Not signed in (or the token expired): the caller shows the sign-in form. */
export class SignInNeeded extends Error {
  constructor() {
    super('Sign in to set price alerts.');
    this.name = 'SignInNeeded';
  }
}

async function session() {
  const { serverUrl } = await getSettings();
  const auth = await getAuth(serverUrl);
  return { serverUrl, auth, api: client(serverUrl, auth?.token) };
}

/** Forget a token the server no longer accepts, then say so. */
async function signedInCall(fn) {
  const { serverUrl, auth, api } = await session();
  if (!auth) throw new SignInNeeded();
  try {
    return await fn(api);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      await setAuth(serverUrl, null);
      throw new SignInNeeded();
    }
    throw e;
  }
}

/** Who is signed in: `{signedIn, email}`. */
export async function status() {
  const { auth } = await session();
  return { signedIn: Boolean(auth), email: auth?.email ?? null };
}

/** Email a sign-in code to `email`. */
export async function requestCode(email) {
  const { api } = await session();
  await api.post('/api/auth/email', { email: String(email ?? '').trim() });
}

/** Exchange the emailed code for a bearer token and keep it. */
export async function verifyCode(email, code) {
  const { serverUrl, api } = await session();
  const address = String(email ?? '').trim();
  const answer = await api.post('/api/auth/verify', {
    email: address,
    code: String(code ?? '').trim(),
    client: 'extension',
  });
  if (!answer?.token) throw new Error('the server answered without a token');
  await setAuth(serverUrl, { token: answer.token, email: answer.user?.email ?? address, expiresAt: answer.expires_at ?? null });
  return { signedIn: true, email: answer.user?.email ?? address };
}

/** Sign out here and on the server (best effort: the token is forgotten either way). */
export async function signOut() {
  const { serverUrl, auth, api } = await session();
  await setAuth(serverUrl, null);
  if (auth) await api.post('/api/auth/signout').catch(() => {});
}

/** The signed-in user's alerts on one product. */
export async function forProduct(marketplace, asin) {
  return signedInCall(async (api) => {
    const { subscriptions = [] } = (await api.get('/api/subscriptions')) || {};
    return subscriptions.filter((s) => s.marketplace === marketplace && s.asin === asin);
  });
}

/** All of the signed-in user's alerts. */
export async function all() {
  return signedInCall(async (api) => ((await api.get('/api/subscriptions')) || {}).subscriptions || []);
}

/**
 * Alert when `marketplace`/`asin` costs `amount` or less: minor units, or the text the
 * shopper typed (read in `currency`). Changes the threshold of an existing alert on the
 * product rather than failing. Returns the subscription.
 */
export async function subscribe({ marketplace, asin, amount, currency }) {
  const minor = typeof amount === 'number' ? amount : parseAmount(amount, currency);
  if (!Number.isSafeInteger(minor) || minor <= 0) {
    throw new ApiError(400, { error: 'invalid_field', field: 'threshold', message: 'Enter a price, e.g. 19.99' });
  }
  return signedInCall(async (api) => {
    const { subscriptions = [] } = (await api.get('/api/subscriptions')) || {};
    const existing = subscriptions.find((s) => s.marketplace === marketplace && s.asin === asin);
    if (existing) {
      return api.patch(`/api/subscriptions/${existing.id}`, { threshold_minor: minor, paused: false });
    }
    return api.post('/api/subscriptions', { marketplace, asin, threshold_minor: minor });
  });
}

/** Delete one of the signed-in user's alerts. */
export async function remove(id) {
  return signedInCall((api) => api.delete(`/api/subscriptions/${encodeURIComponent(id)}`));
}
