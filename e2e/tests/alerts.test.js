// Price-drop alerts from the extension: sign-in with the emailed code in the popup, one click
// on the suggested threshold, the alert shown in the panel, and the email when the crawler
// finds the price below it in the shop.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, panel, screenshot, waitFor } from '../lib/index.js';

const EMAIL = 'shopper@example.org';
const ASIN = 'B0E2EALRT1';
const TITLE = 'E2E pour-over coffee maker';

let world;

before(async () => {
  world = await startWorld({ name: 'alerts', crawler: true });
  await world.shop.setProduct('us', ASIN, { title: TITLE, priceMinor: 4999 });
});

after(async () => {
  await world?.close();
});

/** The extension's bearer token for the server, once signed in. */
async function token() {
  const { auth } = await world.browser.extensionStorage('auth');
  return auth?.[world.server.url]?.token;
}

test('setting an alert in the panel while signed out opens the toolbar popup to sign in', async () => {
  const page = await world.browser.open(world.front.productUrl('us', ASIN));
  await panel.settled(page);
  const cdp = await world.browser.context.newCDPSession(page);
  const popups = async () => (await cdp.send('Target.getTargets')).targetInfos
    .filter((t) => t.type === 'page' && t.url === world.browser.extensionUrl('popup.html'));
  assert.deepEqual(await popups(), []);

  await panel.part(page, 'button.save').click();

  // The panel answers once the service worker has: wait for the message, not the click.
  await panel.part(page, '.alert-msg.info').waitFor();
  assert.match(await panel.part(page, '.alert-msg').innerText(), /Sign in first/);
  // The toolbar popup is not a tab Playwright lists; Chrome's own target list shows it.
  await waitFor(async () => (await popups()).length === 1, { what: 'the toolbar popup' });
  await page.close();
});

test('the popup opened for a tab offers the alert on the product that tab shows', async () => {
  const page = await world.browser.open(world.front.productUrl('us', ASIN));
  await panel.settled(page);
  const worker = await world.browser.serviceWorker();
  const [tabId] = await worker.evaluate(async (url) => (await chrome.tabs.query({ url })).map((t) => t.id), world.front.productUrl('us', ASIN));

  const popup = await world.browser.openPopup(`tab=${tabId}`);

  assert.equal(await popup.locator('#title').innerText(), TITLE);
  assert.equal(await popup.locator('#price').innerText(), '$49.99');
  assert.equal(await popup.locator('#signin').isVisible(), true, 'signed out: the sign-in form');
  assert.equal(await popup.locator('#save').isDisabled(), true);
  await popup.close();
  await page.close();
});

test('signing in from the popup with the emailed code and one click on the suggested price creates the alert', async () => {
  const page = await world.browser.open(world.front.productUrl('us', ASIN));
  await panel.settled(page);
  const popup = await world.browser.openPopup();
  assert.equal(await popup.locator('#title').innerText(), TITLE);
  assert.equal(await popup.locator('#save').isDisabled(), true, 'signed out: no alert yet');

  await popup.fill('#email', EMAIL);
  await popup.click('#email-form button[type=submit]');
  const mail = await world.sink.latest(EMAIL, { match: (m) => /sign-in code/.test(m.subject) });
  const code = /code:\s*(\S+)/.exec(mail.subject)[1];
  assert.match(mail.text, new RegExp(code));
  await popup.fill('#code', code);
  await popup.click('#code-form button[type=submit]');
  await popup.locator('#account').waitFor();
  assert.equal(await popup.locator('#who').innerText(), EMAIL);

  assert.equal(await popup.locator('#threshold').inputValue(), '44.99', '10% below today, for a product with no history');
  assert.match(await popup.locator('#why').innerText(), /10% below today/);
  await popup.click('#save');
  await popup.locator('#alert-msg.good').waitFor();

  const { subscriptions } = await world.server.get('/api/subscriptions', { token: await token() });
  assert.equal(subscriptions.length, 1);
  assert.equal(subscriptions[0].asin, ASIN);
  assert.equal(subscriptions[0].threshold_minor, 4499);
  assert.match(await popup.locator('#alerts').innerText(), /at or below \$44\.99/);
  await screenshot(popup.locator('main'), 'popup');
  await popup.close();
  await page.close();
});

test('the panel shows the alert, refuses a price it cannot read, and changing the price there updates the same alert', async () => {
  const page = await world.browser.open(world.front.productUrl('us', ASIN));
  await panel.settled(page);
  await panel.part(page, '.my-alerts li[data-alert-id]').waitFor();
  assert.match(await panel.part(page, '.my-alerts').innerText(), /Your alert: at or below \$44\.99/);
  assert.equal(await panel.part(page, 'input.threshold').inputValue(), '44.99');

  await panel.part(page, 'input.threshold').fill('cheap please');
  await panel.part(page, 'button.save').click();
  await panel.part(page, '.alert-msg.bad').waitFor();
  assert.match(await panel.part(page, '.alert-msg').innerText(), /Enter a price/);

  await panel.part(page, 'input.threshold').fill('45,50');
  await panel.part(page, 'button.save').click();
  await panel.part(page, '.alert-msg.good').waitFor();

  const { subscriptions } = await world.server.get('/api/subscriptions', { token: await token() });
  assert.equal(subscriptions.length, 1);
  assert.equal(subscriptions[0].threshold_minor, 4550);
  assert.match(await panel.part(page, '.my-alerts').innerText(), /at or below \$45\.50/);
  await screenshot(panel.part(page, '.pw'), 'panel-with-alert');
  await page.close();
});

test('a price drop below the alert, found by the crawler in the shop, emails the shopper', async () => {
  const before = world.sink.to(EMAIL).length;

  await world.shop.setProduct('us', ASIN, { title: TITLE, priceMinor: 3999 });

  const mail = await world.sink.latest(EMAIL, { after: before, timeoutMs: 30000, match: (m) => m.subject.startsWith('$39.99') });
  assert.match(mail.subject, /E2E pour-over coffee maker/);
  assert.match(mail.text, /\$39\.99/);
  assert.match(mail.text, /\$45\.50/, 'the email names the alert price');
  const product = await world.server.get(`/api/products/us/${ASIN}`);
  assert.equal(product.current_price.amount_minor, 3999);
});

test('the panel on a page the crawler has just seen at the new price shows today as the new low', async () => {
  const page = await world.browser.open(world.front.productUrl('us', ASIN));
  await panel.settled(page);

  await waitFor(async () => /below every price|all-time low/.test(await panel.part(page, '.versus').innerText()), { what: 'the comparison with the low' });
  assert.equal(await panel.part(page, '.now').innerText(), '$39.99');
  await page.close();
});
