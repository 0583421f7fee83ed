// Everything one test file runs against, started together and stopped together: an SMTP
// sink, the fixture shop, the PriceWatch server (SQLite in a temporary folder), the https
// "Amazon" front with its throwaway CA, and Chromium with the extension pointed at the server.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SmtpSink } from './smtp.js';
import { Shop } from './shop.js';
import { PriceWatchServer } from './server.js';
import { AmazonFront } from './amazon.js';
import { Browser } from './browser.js';
import { makeCertificates } from './tls.js';
import { HOSTS } from './marketplaces.js';
import { ensureBuilt } from './build.js';

/**
 * Start a world. Options: `name` (log and artefact names), `demo` ({products, days}: fill
 * the database first), `crawler` (run the server's crawler against the shop), `settings`
 * (more server settings), `extension` (false: a browser without it), `browser` (false: none),
 * `deviceScaleFactor`. Returns `{sink, shop, server, front, browser, dir, close()}`.
 */
export async function startWorld({ name = 'world', demo = null, crawler = false, settings = {}, extension = undefined, browser = true, deviceScaleFactor = 1 } = {}) {
  // A browser may open the website, whose chart needs the wasm package.
  ensureBuilt({ extension: browser && extension !== false, pkg: Boolean(browser) });
  const dir = mkdtempSync(path.join(os.tmpdir(), `pricewatch-e2e-${name}-`));
  const world = { dir, closers: [] };
  const onClose = (fn) => world.closers.unshift(fn);
  world.close = async () => {
    for (const fn of world.closers) {
      try {
        await fn();
      } catch (e) {
        console.error(`closing ${name}: ${e.message}`);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    world.sink = await SmtpSink.start();
    onClose(() => world.sink.close());
    world.shop = await Shop.start({ logName: `${name}-shop` });
    onClose(() => world.shop.stop());
    world.server = await PriceWatchServer.start({
      dir, smtpPort: world.sink.port, shop: world.shop, crawler, demo, settings, logName: `${name}-server`,
    });
    onClose(() => world.server.stop());
    const tls = makeCertificates(path.join(dir, 'tls'), HOSTS);
    world.front = await AmazonFront.start({ tls, shopUrl: world.shop.url });
    onClose(() => world.front.close());
    if (browser) {
      world.browser = await Browser.launch({
        dir: path.join(dir, 'browser'), extension, front: world.front, caFile: tls.caFile, deviceScaleFactor,
      });
      onClose(() => world.browser.close());
      if (world.browser.extensionId) await world.browser.useServer(world.server.url);
    }
    return world;
  } catch (e) {
    await world.close();
    throw e;
  }
}
