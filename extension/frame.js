// The panel inside frame.html, an extension frame content.js puts on Amazon pages whose CSP
// stops wasm in content scripts. Here the extension's own CSP applies, so the wasm module
// draws the chart as usual. The page itself cannot be read from here: the panel shows what
// the server knows about the product its address names (`?url=`), and nothing is reported.
// It tells the page how tall it is, so the frame fits the panel.
(() => {
  'use strict';

  const started = performance.now();
  const { DEFAULT_PERIOD, makePanel, loadStyles, quiet } = PriceWatchPanel;
  const pageUrl = new URLSearchParams(location.search).get('url') || '';

  async function send(message) {
    const answer = await chrome.runtime.sendMessage(message);
    if (!answer) throw new Error('no answer from the PriceWatch service worker');
    return answer;
  }

  function mark(name, start = started) {
    try {
      performance.measure(`pricewatch:${name}`, { start, end: performance.now() });
    } catch {
      // Timing is a diagnostic only.
    }
  }

  /** Tell the Amazon page (and only it) how tall the panel is. */
  function reportHeight() {
    const origin = new URL(pageUrl).origin;
    const height = document.documentElement.getBoundingClientRect().height;
    parent.postMessage({ pricewatchHeight: height }, origin);
  }

  async function main() {
    const early = send({ type: 'history', url: pageUrl, period: DEFAULT_PERIOD });
    const [pw, styles] = await Promise.all([
      wasm_bindgen({ module_or_path: chrome.runtime.getURL('pkg/pricewatch_wasm_bg.wasm') }).then(() => wasm_bindgen),
      loadStyles(),
    ]);
    const answer = await early;
    if (!answer?.marketplace || !answer?.asin) return;
    // What the server knows stands in for the page's reading.
    const reading = {
      marketplace: answer.marketplace,
      asin: answer.asin,
      title: answer.product?.title ?? null,
      price: answer.product?.current_price ?? null,
    };
    const panel = makePanel(pw, reading, styles, { send, mark, started, readsPage: false });
    panel.mount((host) => document.body.append(host));
    new ResizeObserver(() => reportHeight()).observe(document.documentElement);
    await Promise.all([panel.show(DEFAULT_PERIOD, Promise.resolve(answer)), panel.loadAlerts().catch(quiet)]);
  }

  main().catch(quiet);
})();
