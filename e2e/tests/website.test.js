// The website in headless Chromium against a server on SQLite with demo data: finding a
// product by link or ASIN, the chart and its table, sign-in by code and by link, alerts from
// the product page and their management, watchlist import, the CSV download, the review queue
// (approval publishes the price and alerts follow; a ban rejects the key), refusals for
// non-admins, untrusted titles shown as text, keyboard use and labels, no console errors or
// CSP violations, and no sideways scrolling at phone and desktop widths (with screenshots of
// every page).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startWorld, screenshot, waitFor } from '../lib/index.js';
import {
  openPage, problemsOf, signInAs, reporter, postReport, inkedPixels, widths, unlabelled, getText,
} from '../lib/site.js';

const ADMIN = 'admin@pricewatch.test';
const USER = 'shopper@example.org';
const SUBSCRIBER = 'watcher@example.org';
const XSS_ASIN = 'B0E2EXSS01';
const XSS_TITLE = '<script>alert(1)</script><img src=x onerror="window.__pwXss=1;alert(2)"> Sneaky kettle';
const DECIMALS = { JPY: 0, KWD: 3 };
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

let world;
/** Demo products by marketplace: `{marketplace, asin, title, priceMinor}`. */
const demo = {};

before(async () => {
  world = await startWorld({
    name: 'website', demo: { products: 60, days: 400 }, extension: false,
    settings: { auth: { admin_emails: [ADMIN] } },
  });
  for (const m of ['us', 'de', 'uk', 'jp']) demo[m] = await world.server.productsOn(m);
  for (const m of Object.keys(demo)) assert.ok(demo[m].length >= 2, `demo products on ${m}`);
});

after(async () => {
  await world?.close();
});

/** A bearer token for `email` (the API as the extension uses it). */
async function bearer(email) {
  return world.server.signIn(email, world.sink);
}

/** Minor units as the decimal text a shopper types. */
function major(minor, currency) {
  const d = DECIMALS[currency] ?? 2;
  return d ? (minor / 10 ** d).toFixed(d) : String(minor);
}

/** Wait until the product page has drawn its chart and filled its table. */
async function chartDrawn(page) {
  await page.locator('#table tbody tr').first().waitFor({ state: 'attached' });
  await page.waitForFunction(() => performance.getEntriesByName('chart-drawn').length > 0);
}

/** Fail on anything the page logged as an error, any CSP violation, any unexpected dialog. */
async function assertClean(page) {
  assert.deepEqual(await problemsOf(page), [], `problems on ${page.url()}`);
}

test('a pasted link (several shapes and storefronts) or ASIN lands on the product page with its chart drawn', async () => {
  const [us, de, uk, jp] = [demo.us[0], demo.de[0], demo.uk[0], demo.jp[0]];
  const inputs = [
    [`https://www.amazon.com/Some-Product-Name/dp/${us.asin}/ref=sr_1_3?keywords=thing&th=1`, us],
    [`https://www.amazon.de/gp/product/${de.asin}?psc=1`, de],
    [`amazon.co.uk/dp/${uk.asin.toLowerCase()}`, uk],
    [`https://www.amazon.co.jp/-/en/product/${jp.asin}`, jp],
    [`  ${de.asin} `, de, 'DE'],
  ];
  for (const [text, product, store] of inputs) {
    const page = await openPage(world, '/');
    await page.getByLabel('Amazon product link or ASIN').fill(text);
    if (store) await page.getByLabel('Store (for a bare ASIN)').selectOption(store.toLowerCase());
    await page.getByRole('button', { name: 'Show price history' }).click();

    await page.waitForURL(`**/p/${product.marketplace}/${product.asin}`);
    await chartDrawn(page);
    assert.equal(await page.locator('#title').textContent(), product.title, text);
    const inked = await inkedPixels(page.locator('#chart'));
    assert.ok(inked > 2000, `the chart has ink (${inked} pixels) for ${text}`);
    assert.match(await page.locator('#chart').getAttribute('aria-label'), /^Price history chart from .+ lowest .+ highest .+ average /);
    const chart = await world.server.get(`/api/products/${product.marketplace}/${product.asin}/history?period=1y&granularity=daily`);
    assert.equal(await page.locator('#table tbody tr').count(), chart.buckets.length);
    assert.ok(chart.buckets.length > 300, 'a year of daily rows');
    await assertClean(page);
    await page.close();
  }
});

test('what is not an Amazon product link is refused on the home page, saying why', async () => {
  const page = await openPage(world, '/', { allow: [[400, /\/api\/resolve/]] });
  await page.getByLabel('Amazon product link or ASIN').fill('https://www.example.org/dp/nothing');

  await page.getByRole('button', { name: 'Show price history' }).click();

  await page.locator('#find-status [role=alert]').waitFor();
  assert.match(await page.locator('#find-status').innerText(), /not an Amazon product link or ASIN/);
  assert.equal(new URL(page.url()).pathname, '/');
  await assertClean(page);
  await page.close();
});

test('the home page lists recently dropped and most watched products', async () => {
  const token = await bearer(SUBSCRIBER);
  const watched = demo.uk[1];
  await world.server.post('/api/subscriptions', { marketplace: watched.marketplace, asin: watched.asin, back_in_stock: true }, { token });
  const page = await openPage(world, '/');

  await page.locator('#drops .card').first().waitFor();
  await page.locator('#watched .card').first().waitFor();

  const drops = await world.server.get('/api/products?sort=drops&limit=12');
  assert.equal(await page.locator('#drops .card').count(), drops.length);
  assert.equal(await page.locator('#drops .card .title').first().textContent(), drops[0].title);
  const card = page.locator('#watched .card', { hasText: watched.title });
  assert.match(await card.innerText(), /1 watching/);
  await card.getByRole('link').click();
  await page.waitForURL(`**/p/uk/${watched.asin}`);
  await chartDrawn(page);
  await assertClean(page);
  await page.close();
});

test('signing in with the emailed code, then with the link from the same email', async () => {
  await world.browser.context.clearCookies();
  const email = 'newcomer@example.org';
  const page = await openPage(world, '/signin');
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Email me a code' }).click();
  const mail = await world.sink.latest(email, { match: (m) => /sign-in code/.test(m.subject) });
  const code = /code:\s*(\S+)/.exec(mail.subject)[1];
  const link = /https?:\/\/\S+\/signin\?token=[\w-]+/.exec(mail.text)?.[0];
  assert.ok(link, `a sign-in link in the email: ${mail.text}`);

  await page.getByLabel('The 6-digit code from the email').fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();

  await page.waitForURL('**/alerts');
  await page.locator('header.site nav', { hasText: email }).waitFor();
  await assertClean(page);
  await page.close();

  // The same email's link signs in too (in a browser without the session).
  await world.browser.context.clearCookies();
  const fresh = await world.sink.to(email).length;
  const second = await openPage(world, '/signin?next=/account');
  await second.getByLabel('Email address').fill(email);
  await second.getByRole('button', { name: 'Email me a code' }).click();
  const linkMail = await world.sink.latest(email, { after: fresh });
  const magic = /https?:\/\/\S+\/signin\?token=[\w-]+/.exec(linkMail.text)[0];
  await second.close();

  const landed = await openPage(world, magic);
  await landed.waitForURL('**/alerts');
  await landed.locator('header.site nav', { hasText: email }).waitFor();
  await assertClean(landed);
  await landed.close();
});

test('an alert made on the product page (with the threshold helper) is edited, paused, resumed and deleted on My alerts', async () => {
  await signInAs(world, USER);
  const product = demo.us[1];
  const info = await world.server.get(`/api/products/us/${product.asin}`);
  const page = await openPage(world, `/p/us/${product.asin}`);
  await chartDrawn(page);
  const threshold = page.getByLabel('Alert me at or below');
  await waitFor(async () => (await threshold.inputValue()) !== '', { what: 'a suggested threshold' });

  await threshold.fill(major(info.stats.lowest.price - 100, info.currency));

  const helper = page.locator('#helper');
  assert.match(await helper.innerText(), /below anything this product has cost/);
  assert.match(await helper.innerText(), /A realistic target: .+, the price it reached on 10% of days/);
  const target = Math.round(info.current_price.amount_minor * 0.9);
  await threshold.fill(major(target, info.currency));
  assert.doesNotMatch(await helper.innerText(), /below anything/);
  await page.getByRole('button', { name: 'Create alert' }).click();
  await page.locator('#subscribe-status .ok', { hasText: 'Alert created' }).waitFor();
  await assertClean(page);
  await page.close();

  const alerts = await openPage(world, '/alerts');
  const row = alerts.locator('#list > li', { hasText: product.title });
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(`target \\$${major(target, 'USD').replace('.', '\\.')}`));
  assert.equal(await row.locator('.badge').innerText(), 'armed');

  await alerts.getByLabel(`New threshold for ${product.title}`).fill(major(target - 500, 'USD'));
  await row.getByRole('button', { name: 'Save threshold' }).click();
  await alerts.locator('#status', { hasText: 'Threshold saved.' }).waitFor();
  await row.filter({ hasText: `target $${major(target - 500, 'USD')}` }).waitFor();

  await row.getByRole('button', { name: 'Pause' }).click();
  await row.locator('.badge', { hasText: 'paused' }).waitFor();
  await row.getByRole('button', { name: 'Resume' }).click();
  await row.locator('.badge', { hasText: 'armed' }).waitFor();
  const [stored] = await world.server.sql(`SELECT s.threshold, s.paused FROM subscriptions s JOIN products p ON p.id = s.product_id
    JOIN users u ON u.id = s.user_id WHERE u.email = '${USER}' AND p.asin = '${product.asin}'`);
  assert.equal(stored.threshold, target - 500);
  assert.equal(stored.paused, 0);

  await row.getByRole('button', { name: 'Delete' }).click();
  await alerts.locator('#status', { hasText: 'Deleted.' }).waitFor();
  await row.waitFor({ state: 'detached' });
  assert.deepEqual(alerts.dialogs, [`confirm: Delete the alert for ${product.title}?`]);
  await assertClean(alerts);
  await alerts.close();
});

test('a watchlist import reports each line as added, already watched or rejected with the reason', async () => {
  await signInAs(world, USER);
  const [a, b] = [demo.us[2], demo.de[1]];
  const page = await openPage(world, '/alerts', {
    allow: [[400, /\/api\/resolve/], [404, /\/api\/products\//], [409, /\/api\/subscriptions$/]],
  });
  await page.locator('#list > li').first().waitFor();
  const lines = [
    `https://www.amazon.com/dp/${a.asin}, ${major(a.priceMinor - 100, 'USD')}`,
    `https://www.amazon.de/-/en/product/${b.asin}`,
    `https://www.amazon.com/gp/product/${a.asin}?psc=1`,
    'not a product at all',
    'B0E2EIMP01, lots',
  ];
  await page.getByLabel('One Amazon link or ASIN per line, optionally followed by a comma and a target price').fill(lines.join('\n'));
  await page.getByLabel('Store for bare ASINs').selectOption('us');

  await page.getByRole('button', { name: 'Import' }).click();

  const results = page.locator('#import-results > li');
  await waitFor(async () => (await results.count()) === lines.length, { what: 'one result per line' });
  const texts = await results.allInnerTexts();
  assert.equal(texts[0], `${lines[0]} — added (US ${a.asin})`);
  assert.equal(texts[1], `${lines[1]} — added (DE ${b.asin})`);
  assert.equal(texts[2], `${lines[2]} — already watched`);
  assert.match(texts[3], /^not a product at all — rejected: not an Amazon product link or ASIN/);
  assert.equal(texts[4], 'B0E2EIMP01, lots — rejected: "lots" is not a price');
  await page.locator('#list > li', { hasText: a.title }).waitFor();
  await page.locator('#list > li', { hasText: b.title }).waitFor();
  const [row] = await world.server.sql(`SELECT s.threshold FROM subscriptions s JOIN products p ON p.id = s.product_id
    JOIN users u ON u.id = s.user_id WHERE u.email = '${USER}' AND p.asin = '${a.asin}'`);
  assert.equal(row.threshold, a.priceMinor - 100);
  await assertClean(page);
  await page.close();
});

test('the CSV downloaded from the product page has the rows of the history API for the same period and granularity', async () => {
  const product = demo.de[0];
  const page = await openPage(world, `/p/de/${product.asin}`);
  await chartDrawn(page);
  await page.getByRole('group', { name: 'Period' }).getByRole('button', { name: 'All' }).click();
  await page.getByRole('group', { name: 'Granularity' }).getByRole('button', { name: 'Weekly' }).click();
  await page.waitForFunction(() => /weekly/.test(document.querySelector('#table caption')?.textContent || ''));

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV' }).click()]);

  assert.match(download.suggestedFilename(), new RegExp(`pricewatch-de-${product.asin}-all-weekly\\.csv`));
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  const chart = await world.server.get(`/api/products/de/${product.asin}/history?period=all&granularity=weekly`);
  assert.equal(csv[0], 'start,end,currency,open,close,min,max,avg,gap');
  assert.equal(csv.length - 1, chart.buckets.length);
  assert.ok(chart.buckets.length > 50);
  const euros = (text) => (text === '' ? null : Math.round(Number(text) * 100));
  // The CSV writes times to the second (RFC 3339); the first bucket starts at the period's
  // start, which has milliseconds.
  const second = (ms) => Math.floor(ms / 1000) * 1000;
  // The last bucket is still open: it ends "now", which moves on between two requests. Its end
  // must agree to within a few seconds; every other byte must be equal.
  const last = chart.buckets.length - 1;
  const nearNow = (a, b) => Math.abs(a - b) <= 5000;
  chart.buckets.forEach((b, i) => {
    const [start, end, currency, open, close, min, max, , gap] = csv[i + 1].split(',');
    const row = { start: Date.parse(start), end: Date.parse(end), currency, open: euros(open), close: euros(close), min: euros(min), max: euros(max), gap: gap || null };
    const expected = {
      start: second(b.start), end: second(b.end), currency: 'EUR', open: b.open ?? null, close: b.close ?? null,
      min: b.min ?? null, max: b.max ?? null, gap: b.gap ?? null,
    };
    if (i === last) {
      assert.ok(nearNow(row.end, expected.end), `the open bucket ends now in both: ${end} vs ${new Date(b.end).toISOString()}`);
      row.end = expected.end;
    }
    assert.deepEqual(row, expected, `row ${i + 1}`);
  });
  // The same bytes as the API's CSV, but for the open bucket's end.
  const openEnd = (text) => {
    const lines = text.trim().split('\n');
    const fields = lines[lines.length - 1].split(',');
    const end = Date.parse(fields[1]);
    fields[1] = 'END';
    lines[lines.length - 1] = fields.join(',');
    return { text: lines.join('\n'), end };
  };
  const fromApi = openEnd(await getText(world, `/api/products/de/${product.asin}/history?period=all&granularity=weekly&format=csv`));
  const downloaded = openEnd(readFileSync(await download.path(), 'utf8'));
  assert.equal(fromApi.text, downloaded.text);
  assert.ok(nearNow(fromApi.end, downloaded.end));
  await assertClean(page);
  await page.close();
});

test('the chart read-out works from the keyboard', async () => {
  const product = demo.us[0];
  const page = await openPage(world, `/p/us/${product.asin}`);
  await chartDrawn(page);
  const readout = page.locator('#readout');
  // Tab from the granularity buttons onto the chart, as a keyboard user would.
  await page.getByRole('group', { name: 'Granularity' }).getByRole('button', { name: 'Monthly' }).focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'chart');

  await page.keyboard.press('End');
  const last = await readout.innerText();
  await page.keyboard.press('ArrowLeft');
  const before = await readout.innerText();
  await page.keyboard.press('Home');
  const first = await readout.innerText();
  await page.keyboard.press('ArrowRight');
  const second = await readout.innerText();

  const dated = /^.+: (.+\d|out of stock|not seen.*|.+)$/;
  for (const text of [last, before, first, second]) assert.match(text, dated);
  assert.notEqual(last, before, 'ArrowLeft moves to the day before');
  assert.notEqual(first, last, 'Home and End are the two ends');
  assert.notEqual(first, second, 'ArrowRight moves on');
  assert.equal(await readout.getAttribute('aria-live'), 'polite');
  await assertClean(page);
  await page.close();
});

test('an admin approves a held report: the price is published, the subscriber gets the alert, the audit log says who', async () => {
  const product = demo.us[3];
  const info = await world.server.get(`/api/products/us/${product.asin}`);
  const was = info.current_price.amount_minor;
  const dropped = Math.round(was / 2);
  const token = await bearer(SUBSCRIBER);
  await world.server.post('/api/subscriptions', { marketplace: 'us', asin: product.asin, threshold_minor: Math.round(was * 0.6), back_in_stock: false }, { token });
  const held = await postReport(world, await reporter(world), { marketplace: 'us', asin: product.asin, currency: 'USD', priceMinor: dropped });
  assert.equal(held.status, 'held', JSON.stringify(held));
  const mailsBefore = world.sink.to(SUBSCRIBER).length;

  await signInAs(world, ADMIN);
  const page = await openPage(world, '/admin');
  const row = page.locator('#queue tbody tr', { hasText: product.title });
  await row.waitFor();
  await row.getByRole('button', { name: 'Approve' }).click();
  await page.locator('#status', { hasText: 'Approve: done.' }).waitFor();

  assert.deepEqual(page.dialogs, ['confirm: Publish this price? Alerts will follow.']);
  const now = await world.server.get(`/api/products/us/${product.asin}`);
  assert.equal(now.current_price.amount_minor, dropped);
  const alert = await world.sink.latest(SUBSCRIBER, { after: mailsBefore, timeoutMs: 20000 });
  assert.match(`${alert.subject}\n${alert.text}`, new RegExp(product.title.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await row.waitFor({ state: 'detached' });
  const entry = page.locator('#audit li', { hasText: ADMIN }).filter({ hasText: /approve/ });
  await entry.first().waitFor();
  assert.doesNotMatch(await page.locator('#audit').innerText(), /\[object Object\]|undefined/, 'the audit log reads as text');
  const audit = await page.evaluate(() => fetch('/api/admin/audit?limit=10').then((r) => r.json()));
  const approval = audit.entries.find((e) => /approve/.test(e.action));
  assert.ok(approval, JSON.stringify(audit));
  assert.equal(approval.admin, ADMIN);
  assert.match(String(approval.target), new RegExp(String(held.report_id)));
  await assertClean(page);
  await page.close();

  // The product page shows the published price, and the subscriber's history the alert.
  const shown = await openPage(world, `/p/us/${product.asin}`);
  await chartDrawn(shown);
  assert.equal(await shown.locator('#price').innerText(), `$${major(dropped, 'USD').replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`);
  await shown.close();
  await signInAs(world, SUBSCRIBER);
  const history = await openPage(world, '/alerts');
  // An entry has its kind as a badge (the placeholders "Loading…" and "Nothing sent yet" do not).
  const item = history.locator('#notifications > li', { has: history.locator('.badge') }).first();
  await item.waitFor();
  assert.match(await item.innerText(), /(sent|queued|pending) by email/);
  await assertClean(history);
  await history.close();
});

test('a non-admin is refused on the review queue: the page says so and the API answers 403', async () => {
  await signInAs(world, USER);
  const page = await openPage(world, '/admin', { allow: [[403, /\/api\/admin\//]] });

  await page.locator('#status', { hasText: 'This page is for admins.' }).waitFor();

  assert.equal(await page.locator('#queue tr').count(), 0);
  const statuses = await page.evaluate(async () => Promise.all(['/api/admin/reports', '/api/admin/audit?limit=5']
    .map((p) => fetch(p).then((r) => r.status))
    .concat([fetch('/api/admin/reports/1/approve', { method: 'POST', headers: { 'X-PriceWatch-CSRF': '1' } }).then((r) => r.status)])));
  assert.deepEqual(statuses, [403, 403, 403]);
  assert.equal(await page.locator('header.site nav a', { hasText: 'Review queue' }).count(), 0);
  await assertClean(page);
  await page.close();
});

test('a title with markup is shown as text on the product page, the home lists and the review queue, and runs nothing', async () => {
  const first = await postReport(world, await reporter(world), { marketplace: 'us', asin: XSS_ASIN, currency: 'USD', priceMinor: 4599, title: XSS_TITLE });
  assert.equal(first.status, 'accepted', JSON.stringify(first));
  // A small drop, so that it is listed among the recent drops.
  const drop = await postReport(world, await reporter(world), { marketplace: 'us', asin: XSS_ASIN, currency: 'USD', priceMinor: 4399 });
  assert.equal(drop.status, 'accepted', JSON.stringify(drop));
  const token = await bearer(SUBSCRIBER);
  await world.server.post('/api/subscriptions', { marketplace: 'us', asin: XSS_ASIN, back_in_stock: true }, { token });
  const held = await postReport(world, await reporter(world), { marketplace: 'us', asin: XSS_ASIN, currency: 'USD', priceMinor: 999 });
  assert.equal(held.status, 'held', JSON.stringify(held));
  await signInAs(world, ADMIN);

  const checks = [
    ['/p/us/' + XSS_ASIN, '#title'],
    ['/', '#drops .card .title'],
    ['/', '#watched .card .title'],
    ['/admin', '#queue tbody tr td:first-child a'],
  ];
  for (const [url, selector] of checks) {
    const page = await openPage(world, url);
    const shown = page.locator(selector, { hasText: 'Sneaky kettle' }).first();
    await shown.waitFor();
    await page.waitForLoadState('networkidle');

    assert.equal(await shown.textContent(), XSS_TITLE, `${url} ${selector}`);
    assert.equal(await page.locator('img[src="x"]').count(), 0, `no <img> made from the title on ${url}`);
    assert.equal(await page.evaluate(() => [...document.scripts].some((s) => /alert/.test(s.textContent))), false);
    assert.equal(await page.evaluate(() => window.__pwXss), undefined);
    await assertClean(page);
    await page.close();
  }
});

/** The site's pages, seen signed in as the admin. */
function pages() {
  return [
    ['home', '/'],
    ['product', `/p/us/${demo.us[0].asin}`],
    ['signin', '/signin'],
    ['alerts', '/alerts'],
    ['account', '/account'],
    ['admin', '/admin'],
    ['crawl', '/admin/crawl'],
  ];
}

test('every page: labelled forms, no console errors or CSP violations, no sideways scrolling at phone and desktop widths', async () => {
  await signInAs(world, ADMIN);
  const token = await bearer(ADMIN);
  for (const p of [demo.us[0], demo.jp[0]]) {
    await world.server.post('/api/subscriptions', { marketplace: p.marketplace, asin: p.asin, threshold_minor: Math.round(p.priceMinor * 0.8), back_in_stock: true }, { token });
  }
  const list = pages();
  for (const [name, url] of list) {
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const page = await openPage(world, null);
      await page.setViewportSize(viewport);
      await page.goto(new URL(url, world.server.url).href);
      await page.waitForLoadState('networkidle');
      if (name === 'product') await chartDrawn(page);
      if (name === 'signin') {
        // Show the code form too, so both forms are checked and pictured.
        await page.getByLabel('Email address').fill(ADMIN);
        await page.getByRole('button', { name: 'Email me a code' }).click();
        await page.getByLabel('The 6-digit code from the email').waitFor();
      }

      const w = await widths(page);
      assert.ok(w.scrollWidth <= w.clientWidth, `${name} at ${size}: ${w.scrollWidth} > ${w.clientWidth}, wide: ${w.widest.join(', ')}`);
      assert.deepEqual(await unlabelled(page), [], `${name}: every form control has a label`);
      await screenshot(page, `website-${name}-${size}`);
      await assertClean(page);
      await page.close();
    }
  }
});

test('an admin bans the key behind a held report: its next report is rejected and the audit log says who', async () => {
  const product = demo.de[2];
  const info = await world.server.get(`/api/products/de/${product.asin}`);
  const key = await reporter(world);
  const held = await postReport(world, key, { marketplace: 'de', asin: product.asin, currency: 'EUR', priceMinor: Math.round(info.current_price.amount_minor * 0.4) });
  assert.equal(held.status, 'held', JSON.stringify(held));
  await signInAs(world, ADMIN);
  const page = await openPage(world, '/admin');
  const row = page.locator('#queue tbody tr', { hasText: product.title });

  await row.getByRole('button', { name: 'Ban key' }).click();

  await page.locator('#status', { hasText: 'Ban key: done.' }).waitFor();
  assert.deepEqual(page.dialogs, ['confirm: Ban this reporter key? Its reports will be rejected.']);
  assert.deepEqual(await world.server.sql(`SELECT banned FROM reporters WHERE public_key = '${key.publicKey}'`), [{ banned: 1 }]);
  const audit = await page.evaluate(() => fetch('/api/admin/audit?limit=20').then((r) => r.json()));
  const ban = audit.entries.find((e) => e.action === 'ban' && e.target === key.publicKey);
  assert.ok(ban, JSON.stringify(audit));
  assert.equal(ban.admin, ADMIN);
  const next = await postReport(world, key, { marketplace: 'de', asin: product.asin, currency: 'EUR', priceMinor: info.current_price.amount_minor });
  assert.equal(next.status, 'rejected');
  assert.ok(next.reasons.includes('banned_reporter'), JSON.stringify(next));
  await assertClean(page);
  await page.close();
});
