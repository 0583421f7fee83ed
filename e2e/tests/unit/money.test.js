import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAmount, toInputText, decimals } from '../../../extension/lib/money.js';

test('prices typed the way each storefront writes them become minor units', () => {
  assert.equal(parseAmount('12.99', 'USD'), 1299);
  assert.equal(parseAmount('12,99', 'EUR'), 1299);
  assert.equal(parseAmount('1.299,99 €', 'EUR'), 129999);
  assert.equal(parseAmount('$1,299.99', 'USD'), 129999);
  assert.equal(parseAmount('1 299,99', 'EUR'), 129999);
  assert.equal(parseAmount('12,9', 'EUR'), 1290);
  assert.equal(parseAmount('20', 'GBP'), 2000);
  assert.equal(parseAmount('￥1,299', 'JPY'), 1299);
});

test('a separator followed by more digits than the currency has decimals groups thousands', () => {
  assert.equal(parseAmount('1,299', 'USD'), 129900);
  assert.equal(parseAmount('1.299', 'EUR'), 129900);
  assert.equal(parseAmount('1,299', 'JPY'), 1299);
});

test('texts without a positive price are refused', () => {
  for (const text of ['', '   ', 'abc', '0', '0,00', null, undefined, '-']) {
    assert.equal(parseAmount(text, 'USD'), null, String(text));
  }
});

test('minor units are written back as the plain number an input shows', () => {
  assert.equal(toInputText(1299, 'USD'), '12.99');
  assert.equal(toInputText(5, 'EUR'), '0.05');
  assert.equal(toInputText(129999, 'EUR'), '1299.99');
  assert.equal(toInputText(1299, 'JPY'), '1299');
  assert.equal(toInputText(Number.NaN, 'USD'), '');
  assert.equal(parseAmount(toInputText(250899, 'BRL'), 'BRL'), 250899);
});

test('yen have no decimals and most currencies two', () => {
  assert.equal(decimals('JPY'), 0);
  assert.equal(decimals('USD'), 2);
  assert.equal(decimals('KWD'), 3);
});
