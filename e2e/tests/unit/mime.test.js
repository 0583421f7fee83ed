import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, decodeQuotedPrintable, decodeWords } from '../../lib/mime.js';

const MULTIPART = [
  'From: PriceWatch <alerts@pricewatch.test>',
  'To: shopper@example.org',
  'Subject: =?utf-8?b?UHJpY2UgZHJvcDogS2FmZmVlbcO8aGxl?=',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative;',
  ' boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Now 12,99=C2=A0=E2=82=AC, your alert was 13,00 =',
  '=E2=82=AC.',
  '--b1',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('<p>Now <b>12,99 €</b></p>').toString('base64'),
  '--b1--',
  '',
].join('\r\n');

test('a multipart message gives its subject and both bodies decoded', () => {
  const mail = parseMessage(MULTIPART);
  assert.equal(mail.subject, 'Price drop: Kaffeemühle');
  assert.equal(mail.to, 'shopper@example.org');
  assert.equal(mail.text, 'Now 12,99\u00a0€, your alert was 13,00 €.');
  assert.equal(mail.html, '<p>Now <b>12,99 €</b></p>');
});

test('a single-part message is its own text body', () => {
  const mail = parseMessage('Subject: Your PriceWatch sign-in code: 123456\r\nContent-Type: text/plain\r\n\r\nYour sign-in code is 123456\r\n');
  assert.equal(mail.subject, 'Your PriceWatch sign-in code: 123456');
  assert.match(mail.text, /123456/);
});

test('quoted-printable and encoded words decode to UTF-8', () => {
  assert.equal(decodeQuotedPrintable('caf=C3=A9 =\r\nau lait').toString('utf8'), 'café au lait');
  assert.equal(decodeWords('=?UTF-8?Q?caf=C3=A9_cr=C3=A8me?= =?UTF-8?Q?_br=C3=BBl=C3=A9e?='), 'café crème brûlée');
});
