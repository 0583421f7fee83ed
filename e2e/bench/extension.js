// The extension's speed budgets, measured in headless Chromium on an https Amazon host name
// with the built extension and a server on 127.0.0.1 (run by `cargo xtask bench-extension`,
// which builds first and writes the figures into BENCHMARKS.md). Prints one JSON object.
//
// The product page is a demo product with a year of history, served as the fixture shop
// renders it but grown to 1 MB (real product pages are 1-2 MB), so one set of loads times
// both the content script's extract() on a 1 MB live page and its start-to-chart time.
// Usage: node bench/extension.js [LOADS]

import { startWorld, panel, request } from '../lib/index.js';

const LOADS = Number(process.argv[2] || 40);
const PAGE_BYTES = 1_000_000;

/** `html` grown to `bytes` with what makes product pages big: scripts, carousels, reviews. */
function grow(html, bytes) {
  const at = html.lastIndexOf('</body>') >= 0 ? html.lastIndexOf('</body>') : html.length;
  const head = html.slice(0, at);
  const tail = html.slice(at);
  // Amazon's pages define `P` (their module loader) before the scripts that use it.
  const parts = [head, '<script>var P={when:function(){return{execute:function(){}}}};</script>'];
  let size = head.length + tail.length;
  for (let round = 0; size < bytes; round += 1) {
    const data = Array.from({ length: 40 }, (_, j) => `{"asin":"B0${String(round).padStart(4, '0')}${String(j).padStart(4, '0')}","price":"$${10 + j}.${String(round % 100).padStart(2, '0')}"}`).join(',');
    const cards = Array.from({ length: 20 }, (_, k) => `<li class="a-carousel-card"><div data-asin="B0X${String(round).padStart(3, '0')}${String(k).padStart(4, '0')}"><a class="a-link-normal" href="/dp/B0X${String(round).padStart(3, '0')}${String(k).padStart(4, '0')}">Sponsored product ${k}</a><span class="a-price"><span class="a-offscreen">$${k}.99</span></span></div></li>`).join('');
    const chunk = `<script>P.when('A').execute(function(A){var data=[${data}];});</script><div class="a-carousel-container"><ol class="a-carousel">${cards}</ol></div><div class="review"><span class="review-text">Bought these last year for $49.99 and they are great.</span></div>`;
    parts.push(chunk);
    size += chunk.length;
  }
  parts.push(tail);
  return parts.join('');
}

/** The content script's User Timing measures on `page`, by name. */
async function measures(page) {
  return page.evaluate(() => Object.fromEntries(performance.getEntriesByType('measure')
    .filter((e) => e.name.startsWith('pricewatch:'))
    .map((e) => [e.name.slice('pricewatch:'.length), e.duration])));
}

async function main() {
  const world = await startWorld({ name: 'bench', demo: { products: 30, days: 400 } });
  try {
    const [product] = await world.server.productsOn('us');
    await world.shop.setProduct('us', product.asin, { title: product.title, priceMinor: product.priceMinor });
    const html = grow(await request('GET', `${world.shop.url}/dp/${product.asin}`), PAGE_BYTES);
    const url = world.front.productUrl('us', product.asin);
    world.front.serve(url, html);
    const chart = await world.server.get(`/api/products/us/${product.asin}/history?period=1y&granularity=daily`);

    // A bare tab: no console listeners, whose CDP traffic would slow the page down.
    const page = await world.browser.context.newPage();
    const cdp = await world.browser.context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    const load = async ({ stopWorker }) => {
      if (stopWorker) await cdp.send('ServiceWorker.stopAllWorkers');
      await page.goto(url);
      const state = await panel.settled(page);
      if (state !== 'ready') throw new Error(`the panel ended ${state}, not ready`);
      const m = await measures(page);
      // BENCH_DEBUG=1 prints every load's measures, to see where the time goes.
      if (process.env.BENCH_DEBUG) console.error(JSON.stringify({ stopWorker, ...m }));
      return m;
    };

    // One load warms the HTTP cache and the wasm code cache, as a shopper's first page did.
    await load({ stopWorker: false });
    const cold = [];
    const warm = [];
    const extract = [];
    for (let i = 0; i < LOADS; i += 1) {
      const stopped = await load({ stopWorker: true });
      cold.push(stopped['first-render']);
      extract.push(stopped.extract);
      const awake = await load({ stopWorker: false });
      warm.push(awake['first-render']);
      extract.push(awake.extract);
    }
    const out = {
      browser: (await cdp.send('Browser.getVersion')).product.replace(/^(Headless)?Chrome\//, 'Chromium '),
      first_render_ms: cold,
      warm_first_render_ms: warm,
      extract_ms: extract,
      page_bytes: Buffer.byteLength(html),
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
