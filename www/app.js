// Shared by every page: the API client, safe DOM building, the site header, money formatting.
//
// All text from the server (product titles come from Amazon pages and crowd reports) goes
// into the page through textContent, never as HTML, so it can never become markup.

/** An error answer from the API: `{error, message, field?}` plus the HTTP status. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `request failed (${status})`);
    this.status = status;
    this.code = body?.error;
    this.field = body?.field;
  }
}

/**
 * Call the API. Cookie sessions need the CSRF header on every unsafe request; the server
 * refuses cross-site requests without it.
 */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { 'Accept': 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-PriceWatch-CSRF'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, signal, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Build an element: `h('a', {href: '/'}, 'text', child)`. Strings become text nodes. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Show an error (or a message) in a status area, announced to screen readers. */
export function say(el, message, kind = 'error') {
  fill(el, message ? h('div', { class: kind, role: kind === 'error' ? 'alert' : 'status' }, message) : null);
}

let wasmPromise = null;
/** The wasm module (charts, price formatting), or null when it is not built or fails. */
export function wasm() {
  if (!wasmPromise) {
    wasmPromise = import('/pkg/pricewatch_wasm.js')
      .then(async (mod) => { await mod.default({ module_or_path: '/pkg/pricewatch_wasm_bg.wasm' }); return mod; })
      .catch((e) => { console.warn('wasm module unavailable:', e); return null; });
  }
  return wasmPromise;
}

const DECIMALS = { JPY: 0, KWD: 3 };
const LOCALES = {
  us: 'en-US', ca: 'en-CA', mx: 'es-MX', br: 'pt-BR', uk: 'en-GB', de: 'de-DE', fr: 'fr-FR',
  it: 'it-IT', es: 'es-ES', nl: 'nl-NL', se: 'sv-SE', pl: 'pl-PL', tr: 'tr-TR', ae: 'en-AE',
  sa: 'en-SA', in: 'en-IN', jp: 'ja-JP', au: 'en-AU', sg: 'en-SG',
};

/** Minor units as the storefront writes them; core's formatter when wasm is loaded. */
export function money(mod, marketplace, currency, minor) {
  if (minor === null || minor === undefined) return '—';
  if (mod) {
    try { return mod.format_price(marketplace, minor); } catch { /* fall back below */ }
  }
  const decimals = DECIMALS[currency] ?? 2;
  return new Intl.NumberFormat(LOCALES[marketplace] || 'en-US', { style: 'currency', currency })
    .format(minor / 10 ** decimals);
}

/** A date for people, in their own locale. */
export function when(ms, withTime = false) {
  if (!ms) return '—';
  const d = new Date(ms);
  return withTime ? d.toLocaleString() : d.toLocaleDateString();
}

let mePromise = null;
/** The signed-in user, or null. */
export function me() {
  if (!mePromise) {
    mePromise = api('/api/me').catch((e) => {
      if (e instanceof ApiError && e.status === 401) return null;
      throw e;
    });
  }
  return mePromise;
}

/** Fill the site header: links, and who is signed in. */
export async function header() {
  const nav = document.querySelector('header.site nav');
  if (!nav) return null;
  let user = null;
  try { user = await me(); } catch { user = null; }
  const links = [h('a', { href: '/' }, 'Home')];
  if (user) {
    links.push(h('a', { href: '/alerts' }, 'My alerts'), h('a', { href: '/account' }, 'Account'));
    if (user.role === 'admin') links.push(h('a', { href: '/admin' }, 'Review queue'));
    links.push(h('span', { class: 'muted' }, user.email));
  } else {
    links.push(h('a', { href: `/signin?next=${encodeURIComponent(location.pathname + location.search)}` }, 'Sign in'));
  }
  fill(nav, links);
  return user;
}

/** The page path of a product. */
export function productPath(marketplace, asin) {
  return `/p/${encodeURIComponent(marketplace)}/${encodeURIComponent(asin)}`;
}
