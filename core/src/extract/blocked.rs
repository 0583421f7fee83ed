//! Robot checks: Amazon's CAPTCHA pages, which arrive with HTTP 200 and no price.
//!
//! Reading one as "no price" or "out of stock" is the main source of false alerts in price
//! trackers, so they are recognised before anything else and reported as blocked.

use super::words::{contains_any, ROBOT_CHECK};
use crate::page::{Element, Page};

/// Markup only robot-check pages carry.
const CAPTCHA_MARKUP: &[&str] = &[
    "form[action*=\"validateCaptcha\" i]",
    "#captchacharacters",
    "input[name=\"amzn-captcha-verify\"]",
    "img[src*=\"/captcha/\" i]",
    "#captcha-container",
];

/// Where product pages keep their product; a robot-check page has none of these.
const PRODUCT_MARKUP: &[&str] = &["#productTitle", "#dp-container", "#ppd", "#buybox"];

pub(crate) fn selectors() -> Vec<&'static str> {
    let mut all = CAPTCHA_MARKUP.to_vec();
    all.extend_from_slice(PRODUCT_MARKUP);
    all.extend(["title", "body"]);
    all
}

pub(crate) fn is_robot_check<P: Page>(page: &P) -> bool {
    if CAPTCHA_MARKUP.iter().any(|sel| page.exists(sel)) {
        return true;
    }
    // Text is only consulted on pages without a product: on a product page the same words
    // could come from a review or a question.
    if PRODUCT_MARKUP.iter().any(|sel| page.exists(sel)) {
        return false;
    }
    let title = page
        .first("title")
        .map(|t| t.clean_text())
        .unwrap_or_default();
    if title.eq_ignore_ascii_case("robot check") {
        return true;
    }
    let body = page
        .first("body")
        .map(|b| b.clean_text().to_lowercase())
        .unwrap_or_default();
    contains_any(&body, ROBOT_CHECK)
}
