// The extension's settings and what it keeps in chrome.storage.local, in one place.
//
// Keys: `settings` ({serverUrl, contribute}), `reporter` ({seed, publicKey, registeredWith}),
// `auth` ({[serverUrl]: {token, email, expiresAt}}), `queue` (signed reports not yet sent),
// `queueFailures`, `lastReported` ({"us:B0...": {price, availability, at}}), and the history
// cache (`cache:*` entries plus `cacheIndex`). Nothing else is stored.

/** The server a fresh install talks to: a self-hosted PriceWatch on this machine. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

export const DEFAULTS = Object.freeze({ serverUrl: DEFAULT_SERVER_URL, contribute: true });

/** Why a setting was refused; `field` names the input. */
export class SettingsError extends Error {
  constructor(field, message) {
    super(message);
    this.name = 'SettingsError';
    this.field = field;
  }
}

/**
 * A server address as the extension stores it: http(s), no credentials, query or fragment,
 * no trailing slash ("https://prices.example.org/pw"). Throws SettingsError otherwise.
 */
export function normalizeServerUrl(text) {
  let url;
  try {
    url = new URL(String(text ?? '').trim());
  } catch {
    throw new SettingsError('serverUrl', 'Enter the full address, e.g. https://prices.example.org');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingsError('serverUrl', 'The address must start with http:// or https://');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new SettingsError('serverUrl', 'The address must not carry a user, query or fragment');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The host-permission pattern that lets the extension call `serverUrl`. */
export function originPattern(serverUrl) {
  const url = new URL(serverUrl);
  return `${url.protocol}//${url.hostname}/*`;
}

// Read on every API call, so kept in memory until they change (in any extension context).
let cached = null;
globalThis.chrome?.storage?.onChanged.addListener((changes, area) => {
  if (area === 'local' && changes.settings) cached = null;
});

/**
 * The current settings, defaults filled in. `fresh`: read storage now rather than trust the
 * copy in memory (for the privacy switch, which must hold from the moment it is saved).
 */
export function getSettings({ fresh = false } = {}) {
  if (fresh) cached = null;
  cached ??= chrome.storage.local.get('settings').then(({ settings }) => ({ ...DEFAULTS, ...(settings || {}) }));
  return cached;
}

/** Merge `patch` into the settings (the server address normalised); returns the result. */
export async function saveSettings(patch) {
  const next = { ...(await getSettings()), ...patch };
  next.serverUrl = normalizeServerUrl(next.serverUrl);
  next.contribute = Boolean(next.contribute);
  await chrome.storage.local.set({ settings: next });
  cached = null;
  return next;
}

/** The session for `serverUrl`: {token, email, expiresAt} or null. */
export async function getAuth(serverUrl) {
  const { auth } = await chrome.storage.local.get('auth');
  const session = auth?.[serverUrl];
  if (!session || (session.expiresAt && session.expiresAt < Date.now())) return null;
  return session;
}

/** Keep (or with null, forget) the session for `serverUrl`. */
export async function setAuth(serverUrl, session) {
  const { auth } = await chrome.storage.local.get('auth');
  const next = { ...(auth || {}) };
  if (session) next[serverUrl] = session;
  else delete next[serverUrl];
  await chrome.storage.local.set({ auth: next });
}
