// The price-history panel: the chart (drawn by the wasm module on a canvas), the period
// buttons, the hover read-out, the period's stats, today's price against the all-time low,
// and the one-click alert. Shared by content.js, which shows it in a shadow root on the
// Amazon page, and frame.js, which shows the same panel inside frame.html, an extension frame
// content.js falls back to on pages whose CSP stops wasm in content scripts.
//
// A classic script (content scripts cannot be modules): `PriceWatchPanel` is a global of the
// content script's isolated world, or of the frame's own page, never of Amazon's page.
// eslint-disable-next-line no-unused-vars
const PriceWatchPanel = (() => {
  'use strict';

  /** The panel's host element id (one per page). */
  const HOST_ID = 'pricewatch-panel';
  const PERIODS = [['30d', '1M'], ['90d', '3M'], ['1y', '1Y'], ['all', 'All']];
  // early.js asks the service worker for this period as the page starts loading.
  const DEFAULT_PERIOD = '1y';
  const CHART_HEIGHT = 170;
  const GAP_TEXT = { out_of_stock: 'out of stock', no_price: 'no price shown', no_data: 'not tracked yet' };

  /** The panel's stylesheet, as a constructed sheet for its shadow root. */
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

  /**
   * The panel for one product `reading` (what `extract` read, or in the frame what the server
   * knows), drawn with the wasm module `pw`. `context`: `send` (a message to the service
   * worker), `mark` (a User Timing measure from the script's start), `started` (that start),
   * `readsPage` (false in the frame, which cannot read the page and so reports nothing).
   */
  function makePanel(pw, reading, styles, { send, mark, started, readsPage = true }) {
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

    function renderStats(chart) {
      stats.replaceChildren();
      const s = chart?.stats;
      const label = state.period === 'all' ? 'all time' : PERIODS.find(([p]) => p === state.period)?.[1] ?? '';
      if (s) {
        stats.append(
          h('div', {}, h('dt', {}, `Lowest ${label}`), h('dd', {}, fmt(s.lowest.price))),
          h('div', {}, h('dt', {}, `Highest ${label}`), h('dd', {}, fmt(s.highest.price))),
          h('div', {}, h('dt', {}, `Average ${label}`), h('dd', {}, fmt(s.avg))));
      }
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
        say(note, readsPage
          ? 'Tracking started: PriceWatch has not seen this product before. Its price history begins today.'
          : 'PriceWatch has no price history for this product yet.', 'info');
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
      renderStats(answer.chart);
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
          await loadAlerts();
          say(alertMsg, `Alert saved: you will get an email when it costs ${fmt(answer.alert.threshold_minor)} or less.`, 'good');
        }
      } finally {
        save.disabled = false;
      }
    }

    /** Put the panel on the page with `place(host)`, and redraw when its width changes. */
    function mount(place) {
      place(host);
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

    return { host, mount, unmount, show, loadAlerts, noteReport, shown: false };
  }

  return { HOST_ID, DEFAULT_PERIOD, makePanel, loadStyles, h, guard, quiet };
})();
