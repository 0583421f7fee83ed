// The 19 Amazon storefronts PriceWatch knows (core's `Marketplace`), by code and host name.

export const MARKETPLACES = Object.freeze({
  us: 'www.amazon.com',
  ca: 'www.amazon.ca',
  mx: 'www.amazon.com.mx',
  br: 'www.amazon.com.br',
  uk: 'www.amazon.co.uk',
  de: 'www.amazon.de',
  fr: 'www.amazon.fr',
  it: 'www.amazon.it',
  es: 'www.amazon.es',
  nl: 'www.amazon.nl',
  se: 'www.amazon.se',
  pl: 'www.amazon.pl',
  tr: 'www.amazon.com.tr',
  ae: 'www.amazon.ae',
  sa: 'www.amazon.sa',
  in: 'www.amazon.in',
  jp: 'www.amazon.co.jp',
  au: 'www.amazon.com.au',
  sg: 'www.amazon.sg',
});

/** Every storefront host name. */
export const HOSTS = Object.freeze(Object.values(MARKETPLACES));

/** The marketplace code of a host name, or null. */
export function marketplaceOf(host) {
  const bare = String(host || '').toLowerCase().replace(/:\d+$/, '');
  return Object.keys(MARKETPLACES).find((code) => MARKETPLACES[code] === bare) ?? null;
}
