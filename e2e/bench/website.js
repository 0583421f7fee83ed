// The website's product-page budget, measured in headless Chromium against a server on
// 127.0.0.1 with demo data (run by `cargo xtask bench-website`, which builds first and writes
// the figures into BENCHMARKS.md). Prints one JSON object.
//
// Each round loads the page of a demo product with a year of history twice: "cold" after
// clearing the browser's HTTP and code caches (a first visit), then "warm" (a second visit:
// cached files revalidated as their headers say). Time to chart is product.js's
// `performance.mark('chart-drawn')`, taken after the first chart is drawn, from navigation
// start. Bytes are what the Resource Timing API reports: `encodedBodySize` (bodies as served,
// compressed when the server compressed them) and `transferSize` (what crossed the wire,
// headers included, nothing for files served from the cache).
// Usage: node bench/website.js [ROUNDS]

import { startWorld } from '../lib/index.js';

const ROUNDS = Number(process.argv[2] || 30);

/** Bytes and timing of the page now loaded in `page`. */
async function measure(page) {
  await page.waitForFunction(() => performance.getEntriesByName('chart-drawn').length > 0, null, { timeout: 30000 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const entries = [nav, ...performance.getEntriesByType('resource')];
    const path = (u) => new URL(u).pathname;
    return {
      chartMs: performance.getEntriesByName('chart-drawn')[0].startTime,
      encoded: entries.reduce((n, e) => n + e.encodedBodySize, 0),
      decoded: entries.reduce((n, e) => n + e.decodedBodySize, 0),
      transferred: entries.reduce((n, e) => n + e.transferSize, 0),
      resources: entries.map((e) => ({
        path: path(e.name), encoded: e.encodedBodySize, decoded: e.decodedBodySize, transferred: e.transferSize,
        start: Math.round(e.startTime), end: Math.round(e.responseEnd),
      })),
    };
  });
}

async function main() {
  // BENCH_WEB_ROOT=dir serves another copy of www/, to compare a change with what was before.
  const settings = process.env.BENCH_WEB_ROOT ? { web: { root: process.env.BENCH_WEB_ROOT } } : {};
  const world = await startWorld({ name: 'bench-website', demo: { products: 30, days: 400 }, extension: false, settings });
  try {
    const [product] = await world.server.productsOn('us');
    const url = `${world.server.url}/p/us/${product.asin}`;
    const chart = await world.server.get(`/api/products/us/${product.asin}/history?period=1y&granularity=daily`);
    // A bare tab: no console listeners, whose CDP traffic would slow the page down.
    const page = await world.browser.context.newPage();
    const cdp = await world.browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    const load = async ({ cold }) => {
      if (cold) await cdp.send('Network.clearBrowserCache');
      await page.goto('about:blank');
      await page.goto(url);
      const m = await measure(page);
      // BENCH_DEBUG=1 prints every load's resources, to see where the time goes.
      if (process.env.BENCH_DEBUG) console.error(JSON.stringify({ cold, ...m }));
      return m;
    };

    await load({ cold: true }); // the server's first answers (SQLite pages, chart cache) warm up
    const cold = [];
    const warm = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      cold.push(await load({ cold: true }));
      warm.push(await load({ cold: false }));
    }
    const last = cold.at(-1);
    const out = {
      browser: (await cdp.send('Browser.getVersion')).product.replace(/^(Headless)?Chrome\//, 'Chromium '),
      cold_ms: cold.map((m) => m.chartMs),
      warm_ms: warm.map((m) => m.chartMs),
      cold_encoded_bytes: last.encoded,
      cold_decoded_bytes: last.decoded,
      cold_transferred_bytes: last.transferred,
      warm_transferred_bytes: warm.at(-1).transferred,
      requests: last.resources.length,
      resources: last.resources,
      buckets: chart.buckets.length,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await world.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
