// The PriceWatch server's HTTP API as the extension uses it. Only the service worker and
// extension pages call it (they have the host permission; a content script on an Amazon page
// would be subject to CORS). Requests never carry cookies: reports are anonymous, alerts use
// the bearer token the extension signed in with.

/** How long one request may take before the server counts as unreachable. */
const TIMEOUT_MS = 8000;

/** The server answered with an error: `status`, and the API's `{error, message, field}`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `the server answered ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.error ?? null;
    this.field = body?.field ?? null;
    this.body = body ?? null;
  }
}

/** The server could not be reached (down, no network, timed out). */
export class Unreachable extends Error {
  constructor(cause) {
    super(`the PriceWatch server cannot be reached: ${cause?.message || cause}`);
    this.name = 'Unreachable';
  }
}

/** A client for `serverUrl`, with `token` (or null) as the bearer. */
export function client(serverUrl, token = null) {
  async function call(method, path, body) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(`${serverUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        // Revalidate (the server's ETags change with every price change) rather than reuse
        // an answer up to max-age old.
        cache: 'no-cache',
        referrerPolicy: 'no-referrer',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw new Unreachable(e);
    }
    const text = await response.text().catch(() => '');
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!response.ok) throw new ApiError(response.status, json);
    return json;
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    patch: (path, body) => call('PATCH', path, body ?? {}),
    delete: (path) => call('DELETE', path),
  };
}

/** `/api/products/{m}/{asin}` with both parts escaped. */
export function productPath(marketplace, asin) {
  return `/api/products/${encodeURIComponent(marketplace)}/${encodeURIComponent(asin)}`;
}

/** The chart granularity for each period the panel offers: few enough buckets to draw. */
export const GRANULARITY = Object.freeze({ '30d': 'daily', '90d': 'daily', '1y': 'daily', all: 'weekly' });
