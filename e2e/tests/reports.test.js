// Signed price reports: the extension's key, made on install and registered with the server,
// signs what each product page shows; the service worker posts it; the server's judge
// accepts it. Switching contributions off in the options page stops them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startWorld, panel, waitFor, screenshot, CORPUS_DIR } from '../lib/index.js';

let world;

before(async () => {
  world = await startWorld({ name: 'reports' });
});

after(async () => {
  await world?.close();
});

test('the key made on install is registered with the configured server', async () => {
  const reporter = await waitFor(async () => {
    const stored = (await world.browser.extensionStorage('reporter')).reporter;
    return stored?.registeredWith?.length && stored;
  }, { what: 'the key registered' });

  assert.match(reporter.publicKey, /^[0-9a-f]{64}$/);
  assert.deepEqual(reporter.registeredWith, [world.server.url]);
  const rows = await world.server.sql(`SELECT kind FROM reporters WHERE public_key = '${reporter.publicKey}'`);
  assert.deepEqual(rows, [{ kind: 'extension' }]);
});

test('a price read by the extension arrives signed with its key and is accepted', async () => {
  await world.shop.setProduct('us', 'B0E2EREP01', { title: 'E2E espresso grinder', priceMinor: 12999 });
  const page = await world.browser.open(world.front.productUrl('us', 'B0E2EREP01'));

  assert.equal(await panel.reportOutcome(page), 'queued');
  const [report] = await waitFor(() => world.server.sql(`SELECT r.status, r.decision, k.public_key
      FROM reports r JOIN products p ON p.id = r.product_id JOIN reporters k ON k.id = r.reporter_id
      WHERE p.asin = 'B0E2EREP01'`).then((rows) => rows.length && rows), { what: 'the report in the database' });

  const { reporter, queue } = await world.browser.extensionStorage(['reporter', 'queue']);
  assert.equal(report.public_key, reporter.publicKey);
  assert.equal(report.status, 'published');
  assert.deepEqual(queue, []);
  const product = await world.server.get('/api/products/us/B0E2EREP01');
  assert.deepEqual(product.current_price, { amount_minor: 12999, currency: 'USD' });
  assert.equal(product.title, 'E2E espresso grinder');
  await page.close();
});

test('reloading the page does not report the same price again', async () => {
  const page = await world.browser.open(world.front.productUrl('us', 'B0E2EREP01'));

  assert.equal(await panel.reportOutcome(page), 'repeat');
  await page.reload();
  assert.equal(await panel.reportOutcome(page), 'repeat');

  const rows = await world.server.sql(`SELECT COUNT(*) AS n FROM reports r JOIN products p ON p.id = r.product_id WHERE p.asin = 'B0E2EREP01'`);
  assert.deepEqual(rows, [{ n: 1 }]);
  await page.close();
});

test('only the observation is sent: no page address, cookie or account', async () => {
  await world.shop.setProduct('us', 'B0E2EREP02', { title: 'E2E milk frother', priceMinor: 2599 });
  const worker = await world.browser.serviceWorker();
  const posted = [];
  const listener = (request) => {
    if (request.url().endsWith('/api/reports')) posted.push({ body: request.postDataJSON(), headers: request.headers() });
  };
  world.browser.context.on('request', listener);
  const page = await world.browser.open(world.front.productUrl('us', 'B0E2EREP02'));
  await panel.settled(page);
  await waitFor(() => posted.length > 0, { what: 'the report request' });
  world.browser.context.off('request', listener);

  const [{ body, headers }] = posted;
  assert.deepEqual(Object.keys(body), ['reports']);
  const [item] = body.reports;
  assert.deepEqual(Object.keys(item).sort(), ['public_key', 'report', 'signature', 'title']);
  assert.deepEqual(Object.keys(item.report).sort(), ['asin', 'availability', 'client_version', 'currency', 'marketplace', 'nonce', 'observed_at', 'price'].sort());
  assert.equal(item.report.client_version, (await worker.evaluate(() => chrome.runtime.getManifest().version)));
  assert.equal(JSON.stringify(body).includes('amazon.com'), false, 'no URL');
  assert.equal(headers.cookie, undefined);
  assert.equal(headers.authorization, undefined);
  await page.close();
});

test('with contributing switched off in the options page, pages are shown but nothing is reported', async () => {
  const options = await world.browser.openOptions();
  await options.uncheck('#contribute');
  await waitFor(async () => (await world.browser.extensionStorage('settings')).settings?.contribute === false, { what: 'the setting saved' });
  await screenshot(options, 'options');
  await world.shop.setProduct('us', 'B0E2EREP03', { title: 'E2E tea kettle', priceMinor: 4599 });

  const page = await world.browser.open(world.front.productUrl('us', 'B0E2EREP03'));

  assert.equal(await panel.reportOutcome(page), 'off');
  assert.equal(await panel.settled(page), 'unknown');
  const { lastReported = {}, queue = [] } = await world.browser.extensionStorage(['lastReported', 'queue']);
  assert.equal('us:B0E2EREP03' in lastReported, false);
  assert.deepEqual(queue, []);
  assert.deepEqual(await world.server.sql(`SELECT COUNT(*) AS n FROM products WHERE asin = 'B0E2EREP03'`), [{ n: 0 }]);
  await options.check('#contribute');
  await page.close();
  await options.close();
});

for (const [page, what] of [['us-prime-exclusive-member-price', 'a members-only price'], ['h13-mx-parent-price-range-endash', 'a price range']]) {
  test(`a page showing ${what} gets its panel but is never reported`, async () => {
    const side = JSON.parse(readFileSync(path.join(CORPUS_DIR, `${page}.json`), 'utf8'));
    world.front.serve(side.url, readFileSync(path.join(CORPUS_DIR, `${page}.html`), 'utf8'));
    const tab = await world.browser.open(side.url);

    assert.equal(await panel.reportOutcome(tab), 'not_reportable');
    await panel.settled(tab);
    const { lastReported = {}, queue = [] } = await world.browser.extensionStorage(['lastReported', 'queue']);
    assert.equal(`${side.expect.marketplace}:${side.expect.asin}` in lastReported, false);
    assert.equal(queue.some((q) => q.signed.report.asin === side.expect.asin), false);
    assert.deepEqual(await world.server.sql(`SELECT COUNT(*) AS n FROM products WHERE asin = '${side.expect.asin}'`), [{ n: 0 }]);
    world.front.unserve(side.url);
    await tab.close();
  });
}

test('an address that is not an http(s) server is refused in the options page, and the old one kept', async () => {
  const options = await world.browser.openOptions();
  await options.fill('#server-url', 'ftp://prices.example.org');

  await options.click('#server-form button[type=submit]');

  await options.locator('#server-msg.bad').waitFor();
  assert.match(await options.locator('#server-msg').innerText(), /http:\/\/ or https:\/\//);
  const { settings } = await world.browser.extensionStorage('settings');
  assert.equal(settings.serverUrl, world.server.url);
  await options.close();
});
