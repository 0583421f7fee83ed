// The end-to-end harness: real processes, sockets and a real browser, no mocks.
//
//   import { startWorld } from '../lib/index.js';
//   const world = await startWorld({ name: 'panel', demo: { products: 20 } });
//   const page = await world.browser.open(world.front.productUrl('us', asin));
//   ...
//   await world.close();
//
// - `world.js`: `startWorld()` composes the pieces below and closes them in reverse.
// - `smtp.js` + `mime.js`: an SMTP sink that keeps and parses every message.
// - `server.js`: the `pricewatch` server on SQLite, restartable on the same port.
// - `shop.js`: the fixture shop and its admin API.
// - `amazon.js` + `tls.js` + `marketplaces.js`: https "Amazon" for all 19 storefront host
//   names with a throwaway CA trusted only by the test browser.
// - `browser.js`: Chromium with the extension, its popup, options and storage.
// - `panel.js`: reading the extension's panel on a product page.
// - `build.js`, `paths.js`, `process.js`, `net.js`, `http.js`, `artifacts.js`: plumbing.

export { startWorld } from './world.js';
export { SmtpSink, Mail } from './smtp.js';
export { parseMessage } from './mime.js';
export { PriceWatchServer } from './server.js';
export { Shop } from './shop.js';
export { AmazonFront, AMAZON_HEADERS } from './amazon.js';
export { Browser } from './browser.js';
export { makeCertificates, trustInNssDb } from './tls.js';
export { MARKETPLACES, HOSTS, marketplaceOf } from './marketplaces.js';
export { freePort, waitFor } from './net.js';
export { request, HttpError } from './http.js';
export { screenshot } from './artifacts.js';
export { artifact, ROOT, CORPUS_DIR, EXTENSION_DIR } from './paths.js';
export * as panel from './panel.js';
