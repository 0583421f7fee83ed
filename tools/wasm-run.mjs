// Runs the built wasm package (dist/pkg) in headless Chromium the way the extension's content
// script does: on a product page served at its real Amazon URL (answered from a file by
// request interception, so nothing leaves the machine), the module imported by the page, then
// `extract(location.href)` on the live DOM. Prints what it saw as one JSON object on stdout.
//
// `cargo xtask test` uses it to prove the optimised module loads and reads and signs a page;
// `cargo xtask bench-wasm` to time extraction. Usage: node wasm-run.mjs PLAN.json, where the
// plan is {pkg_dir, glue, wasm, page_file, url, iterations, sign}.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

const plan = JSON.parse(await readFile(process.argv[2], 'utf8'));
const pkgBase = `${new URL(plan.url).origin}/__pricewatch/pkg/`;
const page = await readFile(plan.page_file, 'utf8');

// Runs inside the page. Timing uses batches as well as single runs: performance.now() is
// coarsened to 0.1 ms in pages that are not cross-origin isolated.
const probe = `<script type="module">
const out = {};
try {
  const wasm = await import('${pkgBase}${plan.glue}');
  await wasm.default({ module_or_path: '${pkgBase}${plan.wasm}' });
  out.reading = wasm.extract(location.href);
  // Untimed runs first: V8 compiles wasm with a baseline tier, then optimises hot code.
  for (let i = 0; i < 10; i++) wasm.extract(location.href);
  const times = [];
  const batch = performance.now();
  for (let i = 0; i < ${Number(plan.iterations)}; i++) {
    const t = performance.now();
    wasm.extract(location.href);
    times.push(performance.now() - t);
  }
  out.extract_batch_ms = performance.now() - batch;
  out.extract_ms = times;
  const text = await (await fetch(location.href)).text();
  const parsed = [];
  for (let i = 0; i < Math.min(${Number(plan.iterations)}, 20); i++) {
    const t = performance.now();
    wasm.extract_document(new DOMParser().parseFromString(text, 'text/html'), location.href);
    parsed.push(performance.now() - t);
  }
  out.parse_and_extract_ms = parsed;
  out.page_bytes = new TextEncoder().encode(text).length;
  if (${plan.sign ? 'true' : 'false'}) {
    out.observed_at = Date.now();
    out.signed = wasm.sign_report(wasm.generate_key(), out.reading, out.observed_at, '0.0.0-xtask');
  }
} catch (e) {
  out.error = String((e && e.stack) || e);
}
window.__pricewatch_result = out;
</script>`;

const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.ts': 'text/plain' };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
});
try {
  const tab = await browser.newPage();
  tab.on('console', (m) => {
    // The saved page's images and scripts are refused on purpose (see the route below).
    if (!m.text().startsWith('Failed to load resource')) process.stderr.write(`[page] ${m.text()}\n`);
  });
  await tab.route('**/*', async (route) => {
    const url = route.request().url();
    if (new URL(url).href === new URL(plan.url).href) {
      // After </html> the parser puts the script at the end of the body, as an injected
      // content script runs after the page.
      return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: page + probe });
    }
    if (url.startsWith(pkgBase)) {
      const name = path.basename(new URL(url).pathname);
      const body = await readFile(path.join(plan.pkg_dir, name));
      return route.fulfill({ status: 200, contentType: types[path.extname(name)] || 'application/octet-stream', body });
    }
    // Images, fonts, trackers of the saved page: nothing is fetched from the network.
    return route.abort();
  });
  await tab.goto(plan.url);
  await tab.waitForFunction(() => window.__pricewatch_result !== undefined, null, { timeout: 120000 });
  const result = await tab.evaluate(() => window.__pricewatch_result);
  process.stdout.write(JSON.stringify({ ...result, browser: browser.version() }));
} finally {
  await browser.close();
}
