// Runs as an Amazon product page starts loading (document_start), long before content.js
// (document_idle): wakes the service worker and has it fetch the product's history while
// Amazon's page is still loading, so the chart can be drawn as soon as content.js has read
// the page. Sends only the page's address to the extension's own worker; never throws.
(() => {
  try {
    if (window.top !== window) return;
    if (!/\/(dp|gp\/product|gp\/aw\/d|product)\/[A-Z0-9]{10}/i.test(location.pathname) &&
        !/[?&]asin=[A-Z0-9]{10}/i.test(location.search)) return;
    // The period content.js shows first (its DEFAULT_PERIOD).
    chrome.runtime.sendMessage({ type: 'prefetch', url: location.href, period: '1y' }).catch(() => {});
  } catch {
    // The page must never notice the extension.
  }
})();
