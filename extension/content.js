// The content script on Amazon product pages: reads the page with core's extraction rules
// (the wasm module, over the live DOM), tells the service worker what it saw (which signs and
// queues the price report), and shows the price-history panel (panel.js) under the buy box.
//
// Loading: the manifest lists the wasm-bindgen `no-modules` glue and panel.js before this
// file, so `wasm_bindgen` and `PriceWatchPanel` are globals of this extension's isolated world
// (never of the page's `window`), and the wasm bytes are fetched from the extension by
// `chrome.runtime.getURL`. A content script cannot `import()` the ES-module glue on an https
// Amazon page; this scheme works there (the e2e tests load the shipped manifest on the real
// host names over TLS).
//
// A page whose own CSP forbids wasm stops it in content scripts too (Chrome applies the
// page's policy): there the panel is shown inside frame.html, an extension frame where the
// extension's CSP applies, drawn from what the server knows; such a page is not read, so it
// is not reported.
//
// Everything runs inside one function and every error is caught: whatever goes wrong, the
// Amazon page keeps working and at worst the panel says so quietly.
(() => {
  'use strict';

  const started = performance.now();
  const { HOST_ID, DEFAULT_PERIOD, makePanel, loadStyles, h, guard, quiet } = PriceWatchPanel;
  // Where the panel goes, nearest the buy box first.
  const ANCHORS = ['#desktop_buybox', '#buybox_feature_div', '#buybox', '#rightCol', '#corePriceDisplay_desktop_feature_div', '#centerCol', '#ppd', '#dp'];

  /** Cheap pre-check so that search and home pages never load the wasm module. */
  function looksLikeProductPage() {
    return /\/(dp|gp\/product|gp\/aw\/d|product)\/[A-Z0-9]{10}/i.test(location.pathname) ||
      /[?&]asin=[A-Z0-9]{10}/i.test(location.search) ||
      document.getElementById('dp') !== null || document.getElementById('ppd') !== null;
  }

  /** A message to the service worker; rejects when the extension was reloaded or removed. */
  async function send(message) {
    const answer = await chrome.runtime.sendMessage(message);
    if (!answer) throw new Error('no answer from the PriceWatch service worker');
    return answer;
  }

  async function loadWasm() {
    // Defined by pkg/pricewatch_wasm.nomodules.js, listed before this file in the manifest.
    if (typeof wasm_bindgen !== 'function') throw new Error('the PriceWatch wasm glue is missing');
    await wasm_bindgen({ module_or_path: chrome.runtime.getURL('pkg/pricewatch_wasm_bg.wasm') });
    return wasm_bindgen;
  }

  /** A User Timing measure from the script's start, for the e2e bench and DevTools. */
  function mark(name, start = started) {
    try {
      performance.measure(`pricewatch:${name}`, { start, end: performance.now() });
    } catch {
      // Timing is a diagnostic: never let it break the panel.
    }
  }

  /** Put the panel's host near the buy box (or at the top of the page). */
  function place(host) {
    const anchor = ANCHORS.map((s) => document.querySelector(s)).find(Boolean);
    if (anchor && anchor.id === 'rightCol') anchor.prepend(host);
    else if (anchor && anchor.parentNode) anchor.after(host);
    else document.body.prepend(host);
  }

  let panel = null;
  let shownFor = null;
  let current = null;

  // The popup asks what this tab shows, to offer an alert on it.
  chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id || message?.type !== 'reading') return false;
    sendResponse({ reading: current });
    return false;
  });

  async function run(pw, styles, early = null) {
    const t = performance.now();
    const reading = pw.extract(location.href);
    mark('extract', t);
    // Not a product page, or a robot check: nothing to show and nothing to report.
    if (!reading || reading.error || reading.blocked || !reading.asin || !reading.marketplace) return;
    const key = `${reading.marketplace}:${reading.asin}`;
    current = reading;
    if (key !== shownFor) {
      shownFor = key;
      panel?.unmount();
      panel = makePanel(pw, reading, styles, { send, mark, started });
      panel.mount(place);
    }
    const shown = panel;
    // What became of the report (queued, repeat, off, not_reportable) is kept on the host
    // element: the e2e tests read it there.
    send({ type: 'observed', reading })
      .then((answer) => shown.noteReport(answer.queued || answer.error || 'unknown'))
      .catch(quiet);
    if (shown.shown) return;
    shown.shown = true;
    await Promise.all([shown.show(DEFAULT_PERIOD, early), shown.loadAlerts().catch(quiet)]);
  }

  /**
   * The panel inside frame.html, for a page where wasm cannot run in this script. The frame
   * says how tall it is; only messages from that frame's window and the extension's origin
   * are heeded.
   */
  async function mountFrame() {
    const host = h('div', { id: HOST_ID, 'data-mode': 'frame' });
    const root = host.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [await loadStyles()];
    const frame = h('iframe', {
      class: 'frame',
      title: 'PriceWatch price history',
      src: chrome.runtime.getURL(`frame.html?url=${encodeURIComponent(location.href)}`),
    });
    root.append(frame);
    const origin = new URL(chrome.runtime.getURL('')).origin;
    window.addEventListener('message', guard((event) => {
      if (event.source !== frame.contentWindow || event.origin !== origin) return;
      const height = Number(event.data?.pricewatchHeight);
      if (Number.isFinite(height) && height >= 0 && height < 2000) frame.style.height = `${Math.ceil(height)}px`;
    }));
    place(host);
  }

  async function main() {
    if (window.top !== window || !looksLikeProductPage() || document.getElementById(HOST_ID)) return;
    // The history, asked for by page address now, arrives while the wasm module loads (the
    // service worker has usually fetched it already: early.js asked at document_start).
    const early = send({ type: 'history', url: location.href, period: DEFAULT_PERIOD }).catch(() => null);
    let pw;
    let styles;
    try {
      [pw, styles] = await Promise.all([loadWasm(), loadStyles()]);
    } catch (e) {
      if (e instanceof WebAssembly.CompileError || e?.name === 'CompileError') {
        quiet(e);
        await mountFrame();
        return;
      }
      throw e;
    }
    mark('wasm');
    await run(pw, styles, early);
    // Amazon swaps variations without a page load: read again when the address changes.
    let href = location.href;
    setInterval(guard(async () => {
      if (location.href === href || document.hidden) return;
      href = location.href;
      await run(pw, styles);
    }), 1500);
  }

  main().catch(quiet);
})();
