// With the PriceWatch server down, Amazon pages keep working: a product seen before shows
// its saved chart, others a quiet message; the price reports wait in the queue and go out on
// the retry alarm once the server is back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, panel, screenshot, waitFor } from '../lib/index.js';

let world;
let seen;

before(async () => {
  world = await startWorld({ name: 'offline', demo: { products: 20, days: 200 } });
  [seen] = await world.server.productsOn('us');
  await world.shop.setProduct('us', seen.asin, { title: seen.title, priceMinor: seen.priceMinor });
  await world.shop.setProduct('us', 'B0E2EOFF01', { title: 'E2E travel mug', priceMinor: 1899 });
  await world.shop.setProduct('us', 'B0E2EOFF02', { title: 'E2E lunch box', priceMinor: 2499 });
  // Seen once while the server is up: its history is saved for later.
  const page = await world.browser.open(world.front.productUrl('us', seen.asin));
  assert.equal(await panel.settled(page), 'ready');
  await waitFor(async () => Object.keys(await world.browser.extensionStorage(null)).some((k) => k.startsWith('cache:') && k.includes(seen.asin)), { what: 'the saved history' });
  await page.close();
  await world.server.stop();
});

after(async () => {
  await world?.close();
});

test('with the server down, a product seen before shows its saved chart and a quiet message', async () => {
  const page = await world.browser.open(world.front.productUrl('us', seen.asin));

  assert.equal(await panel.settled(page), 'offline-cached');

  assert.match(await panel.part(page, '.note').innerText(), /cannot be reached: showing the history saved on \d{4}-\d{2}-\d{2}/);
  assert.ok((await panel.chartPixels(page)).ink > 2000);
  assert.equal(await panel.part(page, 'form.alert').isVisible(), false, 'no alert form while the server is away');
  assert.equal(await page.locator('#productTitle').innerText(), seen.title);
  assert.deepEqual(page.pageErrors, []);
  await screenshot(panel.part(page, '.pw'), 'panel-offline');
  await page.close();
});

test('with the server down, a product never seen shows a quiet message and the page stays intact', async () => {
  const page = await world.browser.open(world.front.productUrl('us', 'B0E2EOFF01'));

  assert.equal(await panel.settled(page), 'offline');

  assert.match(await panel.part(page, '.note').innerText(), /cannot be reached right now/);
  assert.equal(await panel.part(page, 'canvas').isVisible(), false);
  assert.equal(await page.locator('#productTitle').innerText(), 'E2E travel mug');
  assert.equal(await page.locator('#add-to-cart-button, #buybox_feature_div').first().isVisible(), true);
  assert.deepEqual(page.pageErrors, []);
  await page.close();
});

test('reports read while the server is down wait in the queue and are sent together by the retry alarm once it is back', async () => {
  const second = await world.browser.open(world.front.productUrl('us', 'B0E2EOFF02'));
  assert.equal(await panel.reportOutcome(second), 'queued');
  await second.close();
  const { queue } = await waitFor(async () => {
    const stored = await world.browser.extensionStorage(['queue']);
    const asins = (stored.queue ?? []).map((q) => q.signed.report.asin);
    return asins.includes('B0E2EOFF01') && asins.includes('B0E2EOFF02') && stored;
  }, { what: 'both reports queued' });
  const worker = await world.browser.serviceWorker();
  const alarm = await waitFor(() => worker.evaluate(() => chrome.alarms.get('pricewatch-flush-reports')), { what: 'the retry alarm' });
  assert.ok(alarm.scheduledTime > Date.now() - 1000);
  assert.equal(queue.length, 2);
  const posted = [];
  const listener = (request) => {
    if (request.url().endsWith('/api/reports')) posted.push(request.postDataJSON());
  };
  world.browser.context.on('request', listener);

  await world.server.start();

  // Chrome fires alarms no sooner than 30 s after they are set.
  await waitFor(() => world.server.sql(`SELECT COUNT(*) AS n FROM reports r JOIN products p ON p.id = r.product_id WHERE p.asin IN ('B0E2EOFF01', 'B0E2EOFF02')`)
    .then(([{ n }]) => n === 2), { timeoutMs: 90_000, intervalMs: 500, what: 'the queued reports on the server' });
  await waitFor(async () => ((await world.browser.extensionStorage(['queue'])).queue ?? []).length === 0, { what: 'an empty queue' });
  world.browser.context.off('request', listener);
  assert.deepEqual(posted.map((body) => body.reports.map((r) => r.report.asin).sort()), [['B0E2EOFF01', 'B0E2EOFF02']], 'one batch');
});
