// Prices as shoppers type them, turned into the integer minor units the API takes. Pure: used
// by the service worker (alerts set from the panel) and the popup, and unit-tested in node.

/** Decimal places of an ISO 4217 currency as Amazon prices it. */
export function decimals(currency) {
  switch (currency) {
    case 'JPY':
      return 0;
    case 'KWD':
    case 'BHD':
    case 'OMR':
      return 3;
    default:
      return 2;
  }
}

/**
 * Minor units of what a shopper typed as a price in `currency`: "12,99", "1.299,99",
 * "$1,299.99", "1299", "€ 12". A separator followed by at most the currency's number of
 * decimals is the decimal mark; any other separator groups thousands. Returns null when the
 * text holds no positive price.
 */
export function parseAmount(text, currency) {
  const places = decimals(currency);
  const t = String(text ?? '').replace(/[\s\u00a0\u202f]/g, '').replace(/[^\d.,]/g, '');
  if (!/\d/.test(t)) return null;
  const last = Math.max(t.lastIndexOf('.'), t.lastIndexOf(','));
  let whole = t;
  let fraction = '';
  const after = last >= 0 ? t.length - last - 1 : 0;
  if (last >= 0 && after > 0 && after <= places) {
    whole = t.slice(0, last);
    fraction = t.slice(last + 1);
  }
  whole = whole.replace(/[.,]/g, '') || '0';
  if (!/^\d+$/.test(whole) || !/^\d*$/.test(fraction)) return null;
  const minor = Number(whole) * 10 ** places + Number(fraction.padEnd(places, '0') || '0');
  return Number.isSafeInteger(minor) && minor > 0 ? minor : null;
}

/** `minor` as the plain number an input field shows ("12.99", "1299" for yen). */
export function toInputText(minor, currency) {
  const places = decimals(currency);
  if (!Number.isSafeInteger(minor)) return '';
  if (places === 0) return String(minor);
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  const whole = Math.floor(abs / 10 ** places);
  const fraction = String(abs % 10 ** places).padStart(places, '0');
  return `${sign}${whole}.${fraction}`;
}
