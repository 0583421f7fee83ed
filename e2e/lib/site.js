// Helpers for the website's tests: pages that record what went wrong in them (console errors,
// uncaught exceptions, CSP violations, dialogs), signing in as a user by cookie, signed price
// reports from a throwaway reporter key, and layout and chart checks.

import crypto from 'node:crypto';
import { request } from './http.js';

/**
 * What a page may log as an error without it being a fault: the browser's own line for an
 * answer the page expects and handles (`Failed to load resource: ... 401` for /api/me when
 * signed out, 403 for the admin API of a non-admin, 404 for a product not tracked yet).
 * Each entry: `[status, path regexp]`.
 */
export const EXPECTED_FAILURES = [[401, /\/api\/me$/]];

/**
 * A new tab on the world's browser that records, in `page.problems`, every console error,
 * uncaught exception, CSP violation and `alert()`; confirm dialogs are accepted (and recorded
 * in `page.dialogs`). `allow`: more `[status, path regexp]` answers this page may log.
 */
export async function openPage(world, url, { allow = [] } = {}) {
  const page = await world.browser.context.newPage();
  page.problems = [];
  page.dialogs = [];
  const allowed = [...EXPECTED_FAILURES, ...allow];
  // Runs before any of the page's scripts; CDP-injected, so the page's CSP does not apply.
  await page.addInitScript(() => {
    window.__pwViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__pwViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on('console', (m) => {
    if (m.type() !== 'error' && !/Content.Security.Policy/i.test(m.text())) return;
    const text = m.text();
    const failed = /status of (\d+)/.exec(text);
    const at = m.location()?.url || '';
    if (failed && allowed.some(([status, path]) => Number(failed[1]) === status && path.test(at))) return;
    page.problems.push(`console ${m.type()}: ${text} (${at})`);
  });
  page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
  page.on('dialog', async (d) => {
    page.dialogs.push(`${d.type()}: ${d.message()}`);
    if (d.type() === 'confirm') await d.accept();
    else {
      page.problems.push(`unexpected ${d.type()} dialog: ${d.message()}`);
      await d.dismiss();
    }
  });
  if (url) await page.goto(new URL(url, world.server.url).href);
  return page;
}

/** Everything `page` recorded as a fault, CSP violations included (read from the page). */
export async function problemsOf(page) {
  const violations = await page.evaluate(() => window.__pwViolations || []).catch(() => []);
  return [...page.problems, ...violations.map((v) => `CSP violation: ${v}`)];
}

/** The session cookie for `email`, signed in through the emailed code. */
export async function sessionCookie(world, email) {
  const before = world.sink.to(email).length;
  await world.server.post('/api/auth/email', { email });
  const mail = await world.sink.latest(email, { after: before });
  const code = /code:\s*(\S+)/.exec(mail.subject)?.[1];
  if (!code) throw new Error(`no sign-in code in "${mail.subject}"`);
  const response = await fetch(`${world.server.url}/api/auth/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-pricewatch-csrf': '1' },
    body: JSON.stringify({ email, code, client: 'web' }),
  });
  if (!response.ok) throw new Error(`verify answered ${response.status}: ${await response.text()}`);
  const set = response.headers.getSetCookie().find((c) => c.startsWith('pw_session='));
  if (!set) throw new Error('verify set no session cookie');
  return set.slice('pw_session='.length, set.indexOf(';'));
}

/** Make the browser signed in as `email` (and nobody else). */
export async function signInAs(world, email) {
  const value = await sessionCookie(world, email);
  await world.browser.context.clearCookies();
  await world.browser.context.addCookies([{ name: 'pw_session', value, url: world.server.url, httpOnly: true, sameSite: 'Lax' }]);
}

// PKCS#8 DER for an Ed25519 private key is this prefix followed by the 32-byte seed.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A reporter key (as the extension makes one), registered with the server. */
export async function reporter(world) {
  const seed = crypto.randomBytes(32);
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  await world.server.post('/api/reporters', { public_key: publicKey });
  return { privateKey, publicKey };
}

function str(text) {
  const bytes = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function i64(value) {
  const out = Buffer.alloc(8);
  out.writeBigInt64BE(BigInt(value));
  return out;
}

/** The canonical bytes of a report (core's `report::canonical`, version 1). */
export function canonicalBytes(r) {
  return Buffer.concat([
    Buffer.from('pricewatch-report\x01', 'latin1'),
    str(r.marketplace), str(r.asin), str(r.currency),
    r.price ? Buffer.concat([Buffer.from([1]), str(r.price.currency), i64(r.price.amount_minor)]) : Buffer.from([0]),
    str(r.availability), i64(r.observed_at), str(r.client_version), Buffer.from(r.nonce, 'hex'),
  ]);
}

/**
 * Post one signed report of `priceMinor` in `currency` for `marketplace`/`asin` (with the
 * unsigned `title`) from `key`; the judge's answer for it (`{report_id, status, ...}`).
 */
export async function postReport(world, key, { marketplace, asin, currency, priceMinor, title }) {
  const report = {
    marketplace, asin, currency,
    price: { amount_minor: priceMinor, currency },
    availability: 'in_stock',
    observed_at: Date.now(),
    client_version: '0.1.0',
    nonce: crypto.randomBytes(16).toString('hex'),
  };
  const signature = crypto.sign(null, canonicalBytes(report), key.privateKey).toString('hex');
  const { results } = await world.server.post('/api/reports', { reports: [{ report, public_key: key.publicKey, signature, title }] });
  return results[0];
}

/** How many pixels of the canvas differ from its top-left pixel (the background). */
export async function inkedPixels(canvas) {
  return canvas.evaluate((c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 4; i < data.length; i += 4) {
      if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2] || data[i + 3] !== data[3]) n += 1;
    }
    return n;
  });
}

/** `{scrollWidth, clientWidth}` of the document: wider than the window means sideways scrolling. */
export async function widths(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    widest: [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).split(' ')[0]}` : ''}`),
  }));
}

/** Form controls on the page without an accessible name from a label or aria-label(ledby). */
export async function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'))
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
    .map((el) => el.outerHTML.slice(0, 80)));
}

/** `GET` a path of the server as raw text (for CSV). */
export function getText(world, path) {
  return request('GET', `${world.server.url}${path}`);
}
