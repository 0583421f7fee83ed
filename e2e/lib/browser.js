// Headless Chromium (the system's, through playwright-core) with the built extension loaded
// unpacked, the storefront host names mapped to the https front, and the front's throwaway
// CA trusted in this browser's own NSS database (its HOME is a temporary folder).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, EXTENSION_DIR } from './paths.js';
import { trustInNssDb } from './tls.js';
import { waitFor } from './net.js';

export class Browser {
  /**
   * Launch in `dir` (profile and HOME under it). `extension`: the unpacked folder, or false
   * for none. `front`: an AmazonFront whose host rules and CA (`caFile`) to use.
   */
  static async launch({ dir, extension = EXTENSION_DIR, front = null, caFile = null, deviceScaleFactor = 1, viewport = { width: 1280, height: 900 } }) {
    const home = path.join(dir, 'home');
    mkdirSync(home, { recursive: true });
    if (caFile) trustInNssDb(home, caFile);
    const args = [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ];
    if (extension) args.push(`--disable-extensions-except=${extension}`, `--load-extension=${extension}`);
    if (front) args.push(`--host-resolver-rules=${front.hostResolverRules()}`);
    const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args,
      env: { ...process.env, HOME: home },
      viewport,
      deviceScaleFactor,
    });
    const browser = new Browser();
    browser.context = context;
    browser.extensionDir = extension || null;
    if (extension) {
      const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 20000 }));
      browser.extensionId = new URL(worker.url()).host;
    }
    return browser;
  }

  /** The extension's service worker (woken if it was stopped). */
  async serviceWorker() {
    const prefix = `chrome-extension://${this.extensionId}/`;
    const running = this.context.serviceWorkers().find((w) => w.url().startsWith(prefix));
    if (running) return running;
    // Opening an extension page wakes the worker.
    const page = await this.context.newPage();
    await page.goto(`${prefix}options.html`);
    const worker = await waitFor(() => this.context.serviceWorkers().find((w) => w.url().startsWith(prefix)), { what: 'the service worker' });
    await page.close();
    return worker;
  }

  /** `chrome-extension://ID/<file>`. */
  extensionUrl(file) {
    return `chrome-extension://${this.extensionId}/${file}`;
  }

  /** A new tab at `url` (console messages collected in `page.consoleMessages`). */
  async open(url, { waitUntil = 'load' } = {}) {
    const page = await this.context.newPage();
    page.consoleMessages = [];
    page.pageErrors = [];
    page.on('console', (m) => page.consoleMessages.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => page.pageErrors.push(String(e)));
    if (url) await page.goto(url, { waitUntil });
    return page;
  }

  /** The extension's popup, opened as a tab; `query` is its URL query (`tab=`, `asin=`...). */
  async openPopup(query = '') {
    const page = await this.open(this.extensionUrl(`popup.html${query ? `?${query}` : ''}`));
    await page.locator('main:not([data-state="loading"])').waitFor();
    return page;
  }

  /** The options page. */
  async openOptions() {
    const page = await this.open(this.extensionUrl('options.html'));
    await page.locator('main:not([data-state="loading"])').waitFor();
    return page;
  }

  /** Point the extension at `serverUrl` through its options page, as a user would. */
  async useServer(serverUrl) {
    const page = await this.openOptions();
    await page.fill('#server-url', serverUrl);
    await page.click('#server-form button[type=submit]');
    await page.locator('#server-msg.good').waitFor();
    await page.close();
  }

  /** `chrome.storage.local` of the extension, read in its service worker. */
  async extensionStorage(keys = null) {
    const worker = await this.serviceWorker();
    return worker.evaluate((k) => chrome.storage.local.get(k), keys);
  }

  async close() {
    await this.context.close();
  }
}
