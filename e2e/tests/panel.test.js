// The price-history panel on Amazon product pages (https, real storefront host names), drawn
// by the extension's content script from the server's history.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startWorld, panel, screenshot, waitFor, request, CORPUS_DIR } from '../lib/index.js';

let world;
let product;

before(async () => {
  world = await startWorld({ name: 'panel', demo: { products: 30, days: 400 } });
  [product] = await world.server.productsOn('us');
  await world.shop.setProduct('us', product.asin, { title: product.title, priceMinor: product.priceMinor });
});

after(async () => {
  await world?.close();
});

test('a product page with history shows the panel with a drawn chart, its stats and the distance from the all-time low', async () => {
  const page = await world.browser.open(world.front.productUrl('us', product.asin));

  const state = await panel.settled(page);

  assert.equal(state, 'ready');
  const pixels = await panel.chartPixels(page);
  assert.ok(pixels.ink > 2000, `the chart has ink: ${JSON.stringify(pixels)}`);
  assert.ok(pixels.colours > 5, 'lines, band, grid and labels in several colours');
  const stats = await panel.part(page, '.stats').innerText();
  assert.match(stats, /Lowest 1Y\s+\$\d+\.\d\d/);
  assert.match(stats, /Highest 1Y\s+\$\d+\.\d\d/);
  assert.match(stats, /Average 1Y\s+\$\d+\.\d\d/);
  assert.match(await panel.part(page, '.versus').innerText(), /all-time low/);
  assert.equal(await panel.part(page, '.now').innerText(), `$${(product.priceMinor / 100).toFixed(2)}`);
  await screenshot(panel.part(page, '.pw'), 'panel');
  await page.close();
});

test('the chart is drawn at the device pixel ratio, so it stays crisp on high-DPI screens', async () => {
  const page = await world.browser.open(null);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1000, height: 900, deviceScaleFactor: 2, mobile: false });
  await page.goto(world.front.productUrl('us', product.asin));

  await panel.settled(page);

  const pixels = await panel.chartPixels(page);
  assert.equal(pixels.ratio, 2);
  assert.equal(pixels.width, Math.round(pixels.cssWidth * 2));
  assert.equal(pixels.height, Math.round(pixels.cssHeight * 2));
  await screenshot(panel.part(page, '.pw'), 'panel-2x');
  await page.close();
});

test('pointing at the chart reads out that day and its price', async () => {
  const page = await world.browser.open(world.front.productUrl('us', product.asin));
  await panel.settled(page);

  const readout = await panel.hover(page, 0.6);

  assert.match(readout, /^\d{4}-\d{2}-\d{2}: (\$\d+\.\d\d|out of stock|no price shown|not tracked yet)/);
  assert.equal(await panel.part(page, '.cursor').isVisible(), true);
  await screenshot(panel.part(page, '.pw'), 'panel-hover');
  await page.close();
});

test('each period button redraws the chart and the stats for that period', async () => {
  const page = await world.browser.open(world.front.productUrl('us', product.asin));
  await panel.settled(page);

  for (const [label, days, words] of [['1M', 31, '1M'], ['3M', 92, '3M'], ['All', 400, 'all time']]) {
    await panel.part(page, `button.period:text-is("${label}")`).click();
    await waitFor(async () => (await panel.part(page, '.stats').innerText()).includes(`Lowest ${words}`), { what: `${label} stats` });

    assert.equal(await panel.part(page, `button.period:text-is("${label}")`).getAttribute('aria-pressed'), 'true');
    // A tenth of the way in (past the price labels) is most of the period ago.
    const early = await panel.hover(page, 0.1);
    const age = (Date.now() - Date.parse(early.slice(0, 10))) / 86_400_000;
    assert.ok(age >= days * 0.75 && age <= days + 2, `${label}: a tenth of the way in is ${age.toFixed(0)} days ago`);
    assert.ok((await panel.chartPixels(page)).ink > 1000);
  }
  await page.close();
});

test('the Amazon page keeps its content and no PriceWatch global or style leaks into it', async () => {
  const page = await world.browser.open(world.front.productUrl('us', product.asin));
  await panel.settled(page);

  const seen = await page.evaluate(() => ({
    title: document.getElementById('productTitle')?.textContent.trim(),
    buyBox: Boolean(document.getElementById('buybox_feature_div')),
    globals: ['wasm_bindgen', 'pricewatch', 'PriceWatch'].filter((name) => name in window),
    added: [...document.querySelectorAll('[id^="pricewatch"], [class*="pricewatch"]')].map((e) => e.id || e.className),
    bodyFont: getComputedStyle(document.body).fontFamily,
    sheets: document.styleSheets.length,
  }));

  assert.equal(seen.title, product.title);
  assert.equal(seen.buyBox, true);
  assert.deepEqual(seen.globals, []);
  assert.deepEqual(seen.added, ['pricewatch-panel'], 'one host element, everything else in its shadow root');
  assert.deepEqual(page.pageErrors, []);
  await page.close();
});

test('a product the server has never seen says tracking started, and its report starts the history', async () => {
  const asin = 'B0E2E0NEW1';
  await world.shop.setProduct('us', asin, { title: 'Brand-new e2e kettle', priceMinor: 3499 });
  const page = await world.browser.open(world.front.productUrl('us', asin));

  assert.equal(await panel.settled(page), 'unknown');
  assert.match(await panel.part(page, '.note').innerText(), /Tracking started/);
  await waitFor(async () => (await panel.part(page, 'input.threshold').inputValue()) === '31.49', { what: 'the suggestion: 10% below today' });

  const seen = await waitFor(() => world.server.get(`/api/products/us/${asin}`).catch(() => null), { what: 'the product on the server' });
  assert.equal(seen.current_price.amount_minor, 3499);
  await page.reload();
  assert.equal(await panel.settled(page), 'ready');
  assert.ok((await panel.chartPixels(page)).ink > 100, 'one price is a chart too');
  await page.close();
});

test('a robot-check page shows no panel and reports nothing', async () => {
  const url = 'https://www.amazon.de/dp/B0C7H3K9QZ';
  world.front.serve(url, readFileSync(path.join(CORPUS_DIR, 'de-captcha-roboter.html'), 'utf8'));
  const reportsBefore = await world.server.sql('SELECT COUNT(*) AS n FROM reports');
  const page = await world.browser.open(url);

  // The content script has read the page once it measured its extraction.
  await page.waitForFunction(() => performance.getEntriesByName('pricewatch:extract').length > 0);

  assert.equal(await page.locator(panel.HOST).count(), 0);
  const { lastReported = {}, queue = [] } = await world.browser.extensionStorage(['lastReported', 'queue']);
  assert.equal(Object.keys(lastReported).some((k) => k.startsWith('de:')), false);
  assert.equal(queue.length, 0);
  assert.deepEqual(await world.server.sql('SELECT COUNT(*) AS n FROM reports'), reportsBefore);
  world.front.unserve(url);
  await page.close();
});

test('on a page whose CSP forbids wasm, the panel is drawn in an extension frame and the page is left as it was', async () => {
  const url = `https://www.amazon.com/Strict-Policy/dp/${product.asin}`;
  const html = await request('GET', `${world.shop.url}/dp/${product.asin}`);
  world.front.serve(url, html, { headers: { 'content-security-policy': "default-src 'self'; script-src 'self'; frame-src 'none'" } });
  const count = `SELECT COUNT(*) AS n FROM reports r JOIN products p ON p.id = r.product_id WHERE p.asin = '${product.asin}'`;
  const reportsBefore = await world.server.sql(count);
  const page = await world.browser.open(url);

  await page.locator(`${panel.HOST}[data-mode="frame"]`).waitFor({ state: 'attached' });
  const frame = await waitFor(() => page.frames().find((f) => f.url().includes('/frame.html')), { what: 'the panel frame' });

  assert.equal(await panel.settled(frame), 'ready');
  assert.ok((await panel.chartPixels(frame)).ink > 2000);
  await waitFor(async () => (await panel.part(page, 'iframe').boundingBox())?.height > 200, { what: 'the frame sized to the panel' });
  assert.match(await panel.hover(frame, 0.5), /^\d{4}-\d{2}-\d{2}: /);
  assert.equal(await page.locator('#productTitle').innerText(), product.title);
  assert.deepEqual(page.pageErrors, []);
  assert.deepEqual(await world.server.sql(count), reportsBefore, 'a page the extension cannot read is not reported');
  await screenshot(page.locator(panel.HOST), 'panel-in-frame');
  world.front.unserve(url);
  await page.close();
});
