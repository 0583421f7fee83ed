// The "Amazon" the test browser sees: an https server on 127.0.0.1 answering for every
// storefront host name (Chromium maps the names here with --host-resolver-rules), with a
// certificate from the throwaway test CA. Product pages come from the fixture shop (so its
// admin API changes what the page shows); single pages can be served at exact URLs instead
// (a saved corpus page, a 1 MB page, a page with a strict CSP). Answers carry the headers
// Amazon sends, including its Content-Security-Policy.

import https from 'node:https';
import http from 'node:http';
import { MARKETPLACES, marketplaceOf } from './marketplaces.js';

/** The CSP Amazon product pages enforce, and the one they only report. */
export const AMAZON_HEADERS = Object.freeze({
  'content-security-policy': 'upgrade-insecure-requests;report-uri https://metrics.media-amazon.com/',
  'content-security-policy-report-only': "default-src 'self' blob: https: data: mediastream: 'unsafe-eval' 'unsafe-inline';report-uri https://metrics.media-amazon.com/",
  'strict-transport-security': 'max-age=47474747; includeSubDomains; preload',
  'x-content-type-options': 'nosniff',
});

const PRODUCT_PATH = /^\/(?:[^/]+\/)?(?:dp|gp\/product|gp\/aw\/d)\/([A-Z0-9]{10})(?:[/?]|$)/i;

export class AmazonFront {
  constructor() {
    this.pages = new Map();
    this.requests = [];
  }

  /**
   * Start serving on 127.0.0.1 (`port` 0: a free one) with `tls` ({cert, key}); product
   * pages come from the fixture shop at `shopUrl`, whose default marketplace is
   * `shopDefault`.
   */
  static async start({ tls, shopUrl = null, shopDefault = 'us', port = 0 }) {
    const front = new AmazonFront();
    front.shopUrl = shopUrl;
    front.shopDefault = shopDefault;
    front.server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      front.#handle(req, res).catch((e) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`front: ${e.message}`);
      });
    });
    await new Promise((resolve, reject) => {
      front.server.once('error', reject);
      front.server.listen(port, '127.0.0.1', resolve);
    });
    return front;
  }

  get port() {
    return this.server.address().port;
  }

  /** Chromium's `--host-resolver-rules` value sending every storefront here. */
  hostResolverRules() {
    return Object.values(MARKETPLACES).map((h) => `MAP ${h} 127.0.0.1:${this.port}`).join(', ');
  }

  /** `https://www.amazon.xx/dp/ASIN` for a marketplace code. */
  productUrl(marketplace, asin) {
    return `https://${MARKETPLACES[marketplace]}/dp/${asin}`;
  }

  /**
   * Serve `html` at exactly `url` (host and path; the query is ignored) instead of the shop,
   * with `headers` added to (or, with a null value, removed from) Amazon's.
   */
  serve(url, html, { status = 200, headers = {} } = {}) {
    const u = new URL(url);
    this.pages.set(`${u.host}${u.pathname}`, { html, status, headers });
  }

  /** Stop serving a page set with `serve`. */
  unserve(url) {
    const u = new URL(url);
    this.pages.delete(`${u.host}${u.pathname}`);
  }

  /** Requests for `path` (or all), as `{host, path, at}`. */
  requestsFor(path = null) {
    return this.requests.filter((r) => path == null || r.path.startsWith(path));
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
  }

  async #handle(req, res) {
    const host = (req.headers.host || '').replace(/:\d+$/, '');
    const url = new URL(req.url, `https://${host}`);
    this.requests.push({ host, path: url.pathname + url.search, at: Date.now() });
    const page = this.pages.get(`${host}${url.pathname}`);
    if (page) {
      return send(res, page.status, page.html, page.headers);
    }
    const marketplace = marketplaceOf(host);
    const product = PRODUCT_PATH.exec(url.pathname);
    if (!marketplace || !product || !this.shopUrl) {
      return send(res, 404, '<!doctype html><title>Page Not Found</title><p>Looking for something?</p>', {});
    }
    const prefix = marketplace === this.shopDefault ? '' : `/${marketplace}`;
    const upstream = await get(`${this.shopUrl}${prefix}/dp/${product[1].toUpperCase()}`);
    return send(res, upstream.status, upstream.body, {});
  }
}

function send(res, status, body, extra) {
  const headers = { 'content-type': 'text/html;charset=UTF-8', 'cache-control': 'no-cache', ...AMAZON_HEADERS };
  for (const [k, v] of Object.entries(extra)) {
    if (v == null) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  res.writeHead(status, headers);
  res.end(body);
}

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}
