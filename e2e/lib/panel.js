// Reading the extension's price-history panel on a product page, from the page's side: its
// host element is in the page's DOM and its shadow root is open (Playwright's locators pierce
// it), and the canvas pixels can be read back.

/** The panel's host element. */
export const HOST = '#pricewatch-panel';

/**
 * Wait until the panel (on `page`, a Page or a Frame) has finished its first render, and return its state: `ready`,
 * `unknown` (tracking started), `offline`, `offline-cached` or `error`.
 */
export async function settled(page, { timeout = 20000 } = {}) {
  const host = page.locator(`${HOST}:not([data-state="loading"])`);
  await host.waitFor({ timeout });
  return host.getAttribute('data-state');
}

/** A locator inside the panel. */
export function part(page, selector) {
  return page.locator(`${HOST} ${selector}`);
}

/**
 * What the chart canvas holds: its backing-store size, CSS size, the device pixel ratio, and
 * how many pixels carry ink (neither transparent nor white) and in how many colours.
 */
export async function chartPixels(page) {
  return page.evaluate((hostSelector) => {
    const canvas = document.querySelector(hostSelector)?.shadowRoot?.querySelector('canvas');
    if (!canvas) return null;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a === 0 || (r > 250 && g > 250 && b > 250)) continue;
      ink += 1;
      colours.add((r << 16) | (g << 8) | b);
    }
    const rect = canvas.getBoundingClientRect();
    return {
      width: canvas.width, height: canvas.height, cssWidth: rect.width, cssHeight: rect.height,
      ratio: window.devicePixelRatio, ink, colours: colours.size, hidden: canvas.hidden,
    };
  }, HOST);
}

/**
 * Move the pointer to `fraction` (0..1) across the chart; the read-out's text afterwards.
 * `page` may be a Page or a Frame (the panel inside frame.html).
 */
export async function hover(page, fraction) {
  const mouse = (typeof page.page === 'function' ? page.page() : page).mouse;
  const canvas = part(page, 'canvas');
  const box = await canvas.boundingBox();
  const before = await part(page, '.readout').textContent();
  await mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
  await page.waitForFunction(
    ([hostSelector, old]) => document.querySelector(hostSelector)?.shadowRoot?.querySelector('.readout')?.textContent !== old,
    [HOST, before],
    { timeout: 5000 },
  );
  return part(page, '.readout').textContent();
}

/**
 * What the service worker did with the page's price report: `queued`, `repeat` (same price
 * reported recently), `off` (contributing is switched off) or `not_reportable`.
 */
export async function reportOutcome(page, { timeout = 10000 } = {}) {
  const host = page.locator(`${HOST}[data-report]`);
  await host.waitFor({ timeout, state: 'attached' });
  return host.getAttribute('data-report');
}
