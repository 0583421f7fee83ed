// The fixture shop (the `fixture-shop` binary): Amazon-like product pages whose prices the
// tests set through its admin API. The crawler reads it directly; the browser reads it
// through the https front under the real Amazon host names.

import { startProcess } from './process.js';
import { binary, artifact } from './paths.js';
import { request } from './http.js';

export class Shop {
  /**
   * Start a shop on a free port, stocked with `products` products per marketplace in
   * `marketplaces` (ASINs B0FX000001...), `us` being the default.
   */
  static async start({ marketplaces = ['us', 'de'], products = 3, logName = 'shop' } = {}) {
    const child = await startProcess(binary('fixture-shop'), [
      '--port', '0', '--default', 'us', '--marketplaces', marketplaces.join(','), '--products', String(products),
    ], {
      name: 'fixture-shop',
      ready: /fixture shop listening on (http:\/\/[^\s]+)/,
      logFile: artifact('logs', `${logName}.log`),
    });
    const shop = new Shop();
    shop.child = child;
    shop.url = child.ready[1];
    return shop;
  }

  /** The base URL the crawler uses for `marketplace` (`/de` under the shop for non-default). */
  baseUrl(marketplace) {
    return marketplace === 'us' ? this.url : `${this.url}/${marketplace}`;
  }

  /** Put a product on sale (or change it): `{title, price_minor, in_stock}`. */
  async setProduct(marketplace, asin, { title, priceMinor, inStock = true }) {
    return request('PUT', `${this.url}/_shop/products/${marketplace}/${asin}`, {
      json: { title, price_minor: priceMinor, in_stock: inStock },
    });
  }

  /** The requests the shop answered, oldest first. */
  async requests() {
    return request('GET', `${this.url}/_shop/requests`);
  }

  async stop() {
    await this.child.stop();
  }
}
