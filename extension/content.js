// The content script on Amazon product pages: reads the page with core's extraction rules
// (the wasm module, over the live DOM), tells the service worker what it saw (which signs and
// queues the price report), and shows the price-history panel under the buy box.
//
// Loading: the manifest lists the wasm-bindgen `no-modules` glue before this file, so its
// `wasm_bindgen` function is defined in this extension's isolated world (never on the page's
// `window`), and the wasm bytes are fetched from the extension by `chrome.runtime.getURL`.
// A content script cannot `import()` the ES-module glue on an https Amazon page, so this is
// the scheme that works there (proved by the e2e tests on https Amazon host names).
//
// The panel lives in a shadow root with `:host { all: initial }`, so Amazon's CSS neither
// reaches in nor is touched. Everything runs inside one function and every error is caught:
// whatever goes wrong, the Amazon page keeps working and at worst the panel says so quietly.
(() => {
  'use strict';

  const started = performance.now();
  const HOST_ID = 'pricewatch-panel';
  const PERIODS = [['30d', '1M'], ['90d', '3M'], ['1y', '1Y'], ['all', 'All']];
  // early.js asks the service worker for this period as the page starts loading.
  const DEFAULT_PERIOD = '1y';
  const CHART_HEIGHT = 170;
  // Where the panel goes, nearest the buy box first.
  const ANCHORS = ['#desktop_buybox', '#buybox_feature_div', '#buybox', '#rightCol', '#corePriceDisplay_desktop_feature_div', '#centerCol', '#ppd', '#dp'];
  const GAP_TEXT = { out_of_stock: 'out of stock', no_price: 'no price shown', no_data: 'not tracked yet' };

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

  async function loadStyles() {
    const response = await fetch(chrome.runtime.getURL('content.css'));
    const sheet = new CSSStyleSheet();
    // A constructed sheet is not an inline style, so a strict page CSP does not block it.
    sheet.replaceSync(await response.text());
    return sheet;
  }

  /** `tag` with attributes and children; `on*` attributes become listeners. */
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), guard(v));
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c != null && c !== false) el.append(c);
    return el;
  }

  /** `fn` with its errors logged instead of thrown into Amazon's page. */
  function guard(fn) {
    return (...args) => {
      try {
        const out = fn(...args);
        if (out && typeof out.catch === 'function') out.catch(quiet);
      } catch (e) {
        quiet(e);
      }
    };
  }

  function quiet(error) {
    console.debug('PriceWatch:', error);
  }

  function dateText(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  /** The panel for one product reading. */
  function makePanel(pw, reading, styles) {
    const { marketplace, asin } = reading;
    const price = reading.price?.amount_minor ?? null;
    const currency = reading.price?.currency ?? null;
    const fmt = (minor) => {
      try {
        return pw.format_price(marketplace, minor);
      } catch {
        return String(minor);
      }
    };
    const state = { period: DEFAULT_PERIOD, chart: null, loadId: 0, width: 0, pointer: null, suggested: null };

    const host = h('div', { id: HOST_ID, 'data-state': 'loading', 'data-asin': asin });
    const root = host.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [styles];

    const periodButtons = PERIODS.map(([value, label]) =>
      h('button', { type: 'button', class: 'period', 'data-period': value, 'aria-pressed': String(value === state.period), onclick: () => show(value) }, label));
    const note = h('p', { class: 'note', role: 'status', hidden: true });
    const canvas = h('canvas', { class: 'chart', role: 'img', 'aria-label': 'Price history chart' });
    const cursor = h('div', { class: 'cursor', hidden: true });
    const dot = h('div', { class: 'dot', hidden: true });
    const chartBox = h('div', { class: 'chart-box' }, canvas, cursor, dot);
    const readout = h('p', { class: 'readout', 'aria-live': 'polite' }, 'Point at the chart to read a day’s price.');
    const stats = h('dl', { class: 'stats' });
    const versus = h('p', { class: 'versus' });
    const input = h('input', { class: 'threshold', type: 'text', inputmode: 'decimal', autocomplete: 'off', 'aria-label': 'Alert price' });
    const why = h('small', { class: 'why' });
    const save = h('button', { type: 'submit', class: 'save' }, 'Set alert');
    const form = h('form', { class: 'alert', onsubmit: onSubscribe },
      h('label', {}, 'Email me at or below ', input), save, why);
    const alertMsg = h('p', { class: 'alert-msg', role: 'status' });
    const myAlerts = h('ul', { class: 'my-alerts' });

    root.append(h('section', { class: 'pw', 'aria-label': 'PriceWatch price history' },
      h('header', {},
        h('span', { class: 'brand' }, 'PriceWatch'),
        h('span', { class: 'now' }, price != null ? fmt(price) : 'no price shown'),
        h('nav', { class: 'periods', 'aria-label': 'Period' }, periodButtons)),
      note, chartBox, readout, stats, versus, form, alertMsg, myAlerts));

    canvas.addEventListener('pointermove', guard((e) => {
      const first = state.pointer == null;
      state.pointer = e.offsetX;
      if (first) requestAnimationFrame(guard(hover));
    }));
    canvas.addEventListener('pointerleave', guard(() => {
      state.pointer = null;
      cursor.hidden = true;
      dot.hidden = true;
    }));

    function setState(name) {
      host.dataset.state = name;
    }

    function say(el, text, kind = '') {
      el.textContent = text || '';
      el.hidden = !text;
      el.className = `${el.className.split(' ')[0]} ${kind}`.trim();
    }

    function hover() {
      const x = state.pointer;
      state.pointer = null;
      if (x == null || !state.chart) return;
      const r = pw.hover(canvas, state.chart, x);
      if (!r) {
        cursor.hidden = true;
        dot.hidden = true;
        return;
      }
      readout.textContent = r.gap
        ? `${r.date}: ${GAP_TEXT[r.gap] || 'no price'}`
        : `${r.date}: ${r.price}${r.low !== r.high ? ` (low ${r.low}, high ${r.high})` : ''}`;
      cursor.hidden = false;
      cursor.style.left = `${r.left}px`;
      cursor.style.width = `${Math.max(1, r.right - r.left)}px`;
      dot.hidden = r.y == null;
      if (r.y != null) {
        dot.style.left = `${(r.left + r.right) / 2}px`;
        dot.style.top = `${r.y}px`;
      }
    }

    function draw() {
      if (!state.chart) return;
      const width = Math.max(200, Math.round(chartBox.clientWidth || 300));
      state.width = width;
      pw.draw_history(canvas, state.chart, { marketplace, width, height: CHART_HEIGHT });
      canvas.hidden = false;
      canvas.setAttribute('aria-label', summary(state.chart));
    }

    function summary(chart) {
      const s = chart.stats;
      if (!s) return 'Price history chart: no prices in this period.';
      return `Price history from ${dateText(chart.start)}: lowest ${fmt(s.lowest.price)}, highest ${fmt(s.highest.price)}, average ${fmt(s.avg)}.`;
    }

    function renderStats(chart, product) {
      stats.replaceChildren();
      const s = chart?.stats;
      const label = state.period === 'all' ? 'all time' : PERIODS.find(([p]) => p === state.period)?.[1] ?? '';
      if (s) {
        stats.append(
          h('div', {}, h('dt', {}, `Lowest ${label}`), h('dd', {}, fmt(s.lowest.price))),
          h('div', {}, h('dt', {}, `Highest ${label}`), h('dd', {}, fmt(s.highest.price))),
          h('div', {}, h('dt', {}, `Average ${label}`), h('dd', {}, fmt(s.avg))));
      }
      const low = product?.stats?.lowest;
      stats.dataset.allTimeLow = low ? String(low.price) : '';
    }

    function renderVersus(v, product) {
      const low = product?.stats?.lowest;
      if (!v || !low) {
        versus.textContent = '';
        return;
      }
      const lowText = `${fmt(low.price)} on ${dateText(low.at)}`;
      versus.textContent = v.kind === 'above'
        ? `Today is ${v.percent.toFixed(v.percent < 10 ? 1 : 0)}% above the all-time low (${lowText}).`
        : v.kind === 'at_low' ? `Today’s price is the all-time low.` : `Today’s price is below every price seen before (previous low ${lowText}).`;
      versus.className = `versus ${v.kind}`;
    }

    /** Prefill the alert price with a suggestion, unless the shopper or an alert set it. */
    function suggest(suggestion) {
      if (!suggestion || (input.value && input.value !== state.suggested)) return;
      input.value = suggestion.text;
      state.suggested = suggestion.text;
      why.textContent = `Suggested: ${suggestion.why}`;
    }

    /**
     * Show `period`. `early` is the answer to the request the script sent by page address as
     * it started; it is used when it names the product the page turned out to show.
     */
    async function show(period, early = null) {
      state.period = period;
      for (const b of periodButtons) b.setAttribute('aria-pressed', String(b.dataset.period === period));
      const id = ++state.loadId;
      let answer = early ? await early : null;
      const byAddress = Boolean(answer && !answer.error && answer.marketplace === marketplace && answer.asin === asin);
      if (!byAddress) answer = await send({ type: 'history', marketplace, asin, period, price, currency });
      mark('history');
      if (id !== state.loadId) return; // a later click won
      if (answer.error) {
        setState('error');
        say(note, 'PriceWatch could not load this product’s history.', 'quiet');
        return;
      }
      render(answer);
      // Asked by address, the server's price was compared; the page's may be newer.
      if (byAddress && price != null && price !== answer.product?.current_price?.amount_minor) {
        const fresher = await send({ type: 'compare', price, currency, product: answer.product ?? null });
        if (id !== state.loadId || fresher.error) return;
        suggest(fresher.suggestion);
        if (state.chart) renderVersus(fresher.versus, answer.product);
      }
    }

    function render(answer) {
      suggest(answer.suggestion);
      if (answer.status === 'unknown') {
        state.chart = null;
        canvas.hidden = true;
        say(note, 'Tracking started: PriceWatch has not seen this product before. Its price history begins today.', 'info');
        stats.replaceChildren();
        versus.textContent = '';
        setState('unknown');
        done();
        return;
      }
      if (answer.status === 'offline') {
        form.hidden = true;
        if (!answer.chart) {
          state.chart = null;
          canvas.hidden = true;
          say(note, 'The PriceWatch server cannot be reached right now. The price history will show when it is back.', 'quiet');
          setState('offline');
          done();
          return;
        }
        say(note, `The PriceWatch server cannot be reached: showing the history saved on ${dateText(answer.savedAt)}.`, 'quiet');
      } else {
        form.hidden = false;
        say(note, '');
      }
      state.chart = answer.chart;
      draw();
      renderStats(answer.chart, answer.product);
      renderVersus(answer.versus, answer.product);
      setState(answer.status === 'offline' ? 'offline-cached' : 'ready');
      done();
    }

    /** The first render is over: measured from the content script's start. */
    function done() {
      if (host.dataset.firstRenderMs) return;
      host.dataset.firstRenderMs = (performance.now() - started).toFixed(1);
      mark('first-render');
    }

    async function loadAlerts() {
      const answer = await send({ type: 'alerts', marketplace, asin });
      myAlerts.replaceChildren();
      if (answer.error === 'sign_in') {
        myAlerts.append(h('li', { class: 'muted' }, 'Sign in from the PriceWatch toolbar button to get emails.'));
        return;
      }
      if (answer.error) return;
      for (const a of answer.alerts) {
        const target = a.threshold_minor != null ? `at or below ${fmt(a.threshold_minor)}` : 'back in stock';
        myAlerts.append(h('li', { 'data-alert-id': a.id }, `Your alert: ${target}${a.paused ? ' (paused)' : ''}`));
      }
      const first = answer.alerts.find((a) => a.threshold_text);
      if (first) {
        input.value = first.threshold_text;
        state.suggested = null;
        why.textContent = '';
        save.textContent = 'Update alert';
      }
    }

    async function onSubscribe(event) {
      event.preventDefault();
      // Only a shopper's own click: page scripts can reach an open shadow root.
      if (!event.isTrusted) return;
      save.disabled = true;
      try {
        const answer = await send({ type: 'subscribe', marketplace, asin, amount: input.value, currency: currency ?? state.chart?.currency });
        if (answer.error === 'sign_in') {
          say(alertMsg, 'Sign in first: the PriceWatch sign-in opens now.', 'info');
          await send({ type: 'openSignIn' });
        } else if (answer.error) {
          say(alertMsg, answer.message || 'The alert could not be saved.', 'bad');
        } else {
          say(alertMsg, `Alert saved: you will get an email when it costs ${fmt(answer.alert.threshold_minor)} or less.`, 'good');
          await loadAlerts();
        }
      } finally {
        save.disabled = false;
      }
    }

    function mount() {
      const anchor = ANCHORS.map((s) => document.querySelector(s)).find(Boolean);
      if (anchor && anchor.id === 'rightCol') anchor.prepend(host);
      else if (anchor && anchor.parentNode) anchor.after(host);
      else document.body.prepend(host);
      new ResizeObserver(guard(() => {
        const width = Math.round(chartBox.clientWidth);
        if (state.chart && width > 0 && Math.abs(width - state.width) > 2) draw();
      })).observe(chartBox);
    }

    function unmount() {
      host.remove();
    }

    function noteReport(outcome) {
      host.dataset.report = outcome;
    }

    return { mount, unmount, show, loadAlerts, noteReport, shown: false };
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

  /** A User Timing measure from the script's start, for the e2e bench and DevTools. */
  function mark(name, start = started) {
    try {
      performance.measure(`pricewatch:${name}`, { start, end: performance.now() });
    } catch {
      // Timing is a diagnostic: never let it break the panel.
    }
  }

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
      panel = makePanel(pw, reading, styles);
      panel.mount();
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

  async function main() {
    if (window.top !== window || !looksLikeProductPage() || document.getElementById(HOST_ID)) return;
    // The history, asked for by page address now, arrives while the wasm module loads (the
    // service worker has usually fetched it already: early.js asked at document_start).
    const early = send({ type: 'history', url: location.href, period: DEFAULT_PERIOD }).catch(() => null);
    const [pw, styles] = await Promise.all([loadWasm(), loadStyles()]);
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
