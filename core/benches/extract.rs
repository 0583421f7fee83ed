//! Extraction of a typical 1 MB Amazon product page: parse the HTML and run every rule.
//!
//! Real product pages are mostly noise around a small buy box: inline scripts and JSON,
//! carousels of other products with their own prices, reviews. The page here is built that
//! way, so the rules pay what they pay on a real page (target: under 5 ms natively).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pricewatch_core::html::HtmlPage;
use pricewatch_core::{extract, PageContext};
use std::hint::black_box;

/// About one megabyte of product page with the buy box in the middle.
fn typical_page() -> String {
    let mut html = String::with_capacity(1 << 20);
    html.push_str("<!doctype html><html lang=\"en-us\"><head><meta charset=\"utf-8\"><title>Amazon.com: Acme Noise-Cancelling Headphones</title>");
    html.push_str(
        "<link rel=\"canonical\" href=\"https://www.amazon.com/Acme-Headphones/dp/B0C1234567\">",
    );
    for i in 0..60 {
        html.push_str("<script type=\"text/javascript\">P.when('A').execute(function(A){var data=");
        for j in 0..40 {
            html.push_str(&format!(
                "{{\"asin\":\"B0{i:04}{j:04}\",\"price\":\"${}.{:02}\",\"rank\":{j}}},",
                10 + j,
                i % 100
            ));
        }
        html.push_str("null;});</script>\n");
    }
    html.push_str("</head><body><div id=\"nav-belt\"><span id=\"nav-link-accountList-nav-line-1\">Hello, sign in</span></div>");
    html.push_str(
        "<div id=\"dp\" data-asin=\"B0C1234567\"><div id=\"dp-container\"><div id=\"centerCol\">",
    );
    html.push_str("<div id=\"title_feature_div\"><h1 id=\"title\"><span id=\"productTitle\"> Acme Noise-Cancelling Headphones, Black </span></h1></div>");
    html.push_str(concat!(
        "<div id=\"corePriceDisplay_desktop_feature_div\"><div class=\"a-section\">",
        "<span class=\"a-price aok-align-center reinventPricePriceToPayMargin priceToPay\" data-a-size=\"xl\">",
        "<span class=\"a-offscreen\">$249.99</span><span aria-hidden=\"true\"><span class=\"a-price-symbol\">$</span>",
        "<span class=\"a-price-whole\">249<span class=\"a-price-decimal\">.</span></span><span class=\"a-price-fraction\">99</span></span></span>",
        "<span class=\"a-size-small aok-offscreen\">List Price: $349.99</span>",
        "<span class=\"basisPrice\">List Price: <span class=\"a-price a-text-price\" data-a-size=\"s\" data-a-strike=\"true\" data-a-color=\"secondary\">",
        "<span class=\"a-offscreen\">$349.99</span><span aria-hidden=\"true\">$349.99</span></span></span></div></div>",
    ));
    html.push_str("<div id=\"feature-bullets\"><ul>");
    for i in 0..30 {
        html.push_str(&format!("<li><span class=\"a-list-item\">Feature {i}: long descriptive text about the product that goes on for a while.</span></li>"));
    }
    html.push_str("</ul></div></div><div id=\"rightCol\"><div id=\"buybox\"><div id=\"availability\"><span class=\"a-size-medium a-color-success\">In Stock</span></div>");
    html.push_str("<div id=\"merchant-info\">Ships from and sold by Amazon.com.</div><input type=\"submit\" id=\"add-to-cart-button\" value=\"Add to Cart\">");
    html.push_str(
        "<input type=\"hidden\" id=\"ASIN\" name=\"ASIN\" value=\"B0C1234567\"></div></div></div>",
    );
    while html.len() < 1_000_000 {
        html.push_str("<div class=\"a-carousel-container\"><ol class=\"a-carousel\">");
        for k in 0..20 {
            html.push_str(&format!(
                "<li class=\"a-carousel-card\"><div data-asin=\"B0X{k:07}\"><a class=\"a-link-normal\" href=\"/dp/B0X{k:07}\">Sponsored product number {k} with a long title</a>\
                 <span class=\"a-price\" data-a-size=\"l\"><span class=\"a-offscreen\">${k}.99</span><span aria-hidden=\"true\"><span class=\"a-price-symbol\">$</span><span class=\"a-price-whole\">{k}<span class=\"a-price-decimal\">.</span></span><span class=\"a-price-fraction\">99</span></span></span>\
                 <i class=\"a-icon a-icon-star-small a-star-small-4-5\"><span class=\"a-icon-alt\">4.5 out of 5 stars</span></i></div></li>"
            ));
        }
        html.push_str("</ol></div><div class=\"review\"><span class=\"review-text\">I bought these last year and they are great, though the case is flimsy. Currently unavailable colours aside, recommended.</span></div>");
    }
    html.push_str("</div></body></html>");
    html
}

fn bench_extract(c: &mut Criterion) {
    let html = typical_page();
    let ctx = PageContext::from_url("https://www.amazon.com/dp/B0C1234567");
    let mut group = c.benchmark_group("extract");
    group.throughput(Throughput::Bytes(html.len() as u64));
    group.bench_function("parse_and_extract_1mb_page", |b| {
        b.iter(|| {
            let page = HtmlPage::parse(black_box(&html));
            black_box(extract(&page, &ctx))
        })
    });
    let page = HtmlPage::parse(&html);
    group.bench_function("rules_only_1mb_page", |b| {
        b.iter(|| black_box(extract(&page, &ctx)))
    });
    group.finish();

    let mut text = c.benchmark_group("price_text");
    text.bench_function("parse_price_de", |b| {
        b.iter(|| {
            pricewatch_core::price_text::parse_price(
                black_box("1.299,99\u{a0}€"),
                pricewatch_core::Marketplace::De,
            )
        })
    });
    text.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
