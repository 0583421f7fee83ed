//! Pages from templates: the product page in the markup of `core/tests/pages/` (modern
//! `corePriceDisplay` + tabular buy box, with sponsored-carousel and review prices as noise),
//! localized per marketplace, and the corpus's own robot-check pages served verbatim.

use pricewatch_core::{Marketplace, Money};

use crate::catalog::ProductState;

const PRODUCT: &str = include_str!("../templates/product.html");
/// The corpus's robot-check pages, so the crawler meets exactly what the rules were built on.
const CAPTCHA_EN: &str = include_str!("../../core/tests/pages/us-captcha-robot-check.html");
const CAPTCHA_DE: &str = include_str!("../../core/tests/pages/de-captcha-roboter.html");

/// The phrases a storefront's buy box uses, in its own language.
struct Words {
    lang: &'static str,
    in_stock: &'static str,
    unavailable: &'static str,
    add_to_cart: &'static str,
    sold_by: &'static str,
}

const ENGLISH: Words = Words {
    lang: "en-us",
    in_stock: "In Stock",
    unavailable: "Currently unavailable.",
    add_to_cart: "Add to Cart",
    sold_by: "Sold by",
};

fn words(m: Marketplace) -> Words {
    let w = |lang, in_stock, unavailable, add_to_cart, sold_by| Words {
        lang,
        in_stock,
        unavailable,
        add_to_cart,
        sold_by,
    };
    match m {
        Marketplace::De => w(
            "de-de",
            "Auf Lager",
            "Derzeit nicht verfügbar.",
            "In den Einkaufswagen",
            "Verkäufer",
        ),
        Marketplace::Fr => w(
            "fr-fr",
            "En stock",
            "Actuellement indisponible.",
            "Ajouter au panier",
            "Vendu par",
        ),
        Marketplace::It => w(
            "it-it",
            "Disponibilità immediata",
            "Attualmente non disponibile.",
            "Aggiungi al carrello",
            "Venditore",
        ),
        Marketplace::Es => w(
            "es-es",
            "En stock",
            "Temporalmente sin stock.",
            "Añadir a la cesta",
            "Vendido por",
        ),
        Marketplace::Mx => w(
            "es-mx",
            "Disponible",
            "No disponible por el momento.",
            "Agregar al Carrito",
            "Vendido por",
        ),
        Marketplace::Br => w(
            "pt-br",
            "Em estoque",
            "Não disponível.",
            "Adicionar ao carrinho",
            "Vendido por",
        ),
        Marketplace::Nl => w(
            "nl-nl",
            "Op voorraad",
            "Momenteel niet verkrijgbaar. Niet leverbaar.",
            "In winkelwagen",
            "Verkoper",
        ),
        Marketplace::Se => w(
            "sv-se",
            "I lager",
            "Inte tillgänglig för närvarande.",
            "Lägg i varukorgen",
            "Säljare",
        ),
        Marketplace::Pl => w(
            "pl-pl",
            "W magazynie",
            "Brak w magazynie.",
            "Dodaj do koszyka",
            "Sprzedawca",
        ),
        Marketplace::Tr => w(
            "tr-tr",
            "Stokta var",
            "Şu anda stokta yok.",
            "Sepete Ekle",
            "Satıcı",
        ),
        Marketplace::Jp => w(
            "ja-jp",
            "在庫あり。",
            "現在在庫切れです。",
            "カートに入れる",
            "販売元",
        ),
        _ => ENGLISH,
    }
}

fn site_name(m: Marketplace) -> String {
    let domain = m.domain();
    let mut name = String::with_capacity(domain.len());
    let mut chars = domain.chars();
    if let Some(first) = chars.next() {
        name.extend(first.to_uppercase());
    }
    name.extend(chars);
    name
}

/// Escape text for HTML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// The split spans Amazon prints a price with: `$` `1,299` `.` `99`, or `1.299` `,` `99` `€`.
fn price_span(m: Marketplace, money: Money, class: &str, size: &str) -> String {
    let f = m.number_format();
    let offscreen = m.format(money);
    let number: String = offscreen
        .replace(f.symbol, "")
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{A0}')
        .to_owned();
    let (whole, fraction) = if money.currency.exponent() > 0 {
        match number.rsplit_once(f.decimal) {
            Some((w, fr)) => (w.to_owned(), Some(fr.to_owned())),
            None => (number.clone(), None),
        }
    } else {
        (number.clone(), None)
    };
    let whole_span = match &fraction {
        Some(_) => format!(
            "<span class=\"a-price-whole\">{whole}<span class=\"a-price-decimal\">{}</span></span>",
            f.decimal
        ),
        None => format!("<span class=\"a-price-whole\">{whole}</span>"),
    };
    let fraction_span = fraction
        .map(|fr| format!("<span class=\"a-price-fraction\">{fr}</span>"))
        .unwrap_or_default();
    let symbol = format!("<span class=\"a-price-symbol\">{}</span>", f.symbol);
    let visible = match f.position {
        pricewatch_core::marketplace::SymbolPosition::Before => {
            format!("{symbol}{whole_span}{fraction_span}")
        }
        pricewatch_core::marketplace::SymbolPosition::After => {
            format!("{whole_span}{fraction_span}{symbol}")
        }
    };
    format!(
        "<span class=\"a-price{class}\" data-a-size=\"{size}\" data-a-color=\"base\"><span class=\"a-offscreen\">{}</span><span aria-hidden=\"true\">{visible}</span></span>",
        escape(&offscreen)
    )
}

/// Other products' prices around the buy box, in the storefront's currency: the rules must
/// not read them.
fn noise(m: Marketplace, major: i64) -> Money {
    let c = m.currency();
    Money::new(major * c.minor_per_major() + c.minor_per_major() / 2, c)
}

/// A product page for `state`.
pub(crate) fn product_page(m: Marketplace, asin: &str, state: &ProductState) -> String {
    let w = words(m);
    let title = escape(&state.title);
    let buyable_price = state.price_minor.filter(|_| state.in_stock);
    let (center_price, buy_box) = match buyable_price {
        Some(minor) => {
            let money = Money::new(minor, m.currency());
            let center = format!(
                "<div id=\"corePriceDisplay_desktop_feature_div\" class=\"celwidget\" data-feature-name=\"corePriceDisplay_desktop\" data-csa-c-asin=\"{asin}\">\n<div class=\"a-section a-spacing-none aok-align-center aok-relative\">{}</div></div>",
                price_span(m, money, " aok-align-center reinventPricePriceToPayMargin priceToPay", "xl")
            );
            let buy_box = format!(
                "<div id=\"buybox\" class=\"a-section a-spacing-none\"><div class=\"a-box-group\"><div class=\"a-box a-last\"><div class=\"a-box-inner\">\n\
<form method=\"post\" id=\"addToCart\" action=\"/cart/add-to-cart/ref=dp_start-bbf_1_glance\" class=\"a-content\" autocomplete=\"off\">\n\
<input type=\"hidden\" id=\"ASIN\" name=\"ASIN\" value=\"{asin}\" />\n\
<div id=\"corePrice_feature_div\" class=\"celwidget\" data-feature-name=\"corePrice\" data-csa-c-asin=\"{asin}\"><div class=\"a-section a-spacing-micro\">{price}</div></div>\n\
<div id=\"availabilityInsideBuyBox_feature_div\" class=\"celwidget\"><div id=\"availability\" class=\"a-section a-spacing-base \"><span class=\"a-size-medium a-color-success\">\n    {in_stock}\n   </span><br/></div></div>\n\
<div id=\"addToCart_feature_div\" class=\"celwidget\"><span id=\"submit.add-to-cart\" class=\"a-button a-spacing-small a-button-primary a-button-icon natc-enabled\"><span class=\"a-button-inner\"><input id=\"add-to-cart-button\" name=\"submit.add-to-cart\" title=\"{cart}\" class=\"a-button-input\" type=\"submit\" value=\"{cart}\"><span id=\"submit.add-to-cart-announce\" class=\"a-button-text\" aria-hidden=\"true\">{cart}</span></span></span></div>\n\
<div id=\"tabular-buybox\" class=\"a-section a-spacing-small show-more-tabular\"><div class=\"tabular-buybox-container\" role=\"table\">\n\
<div class=\"tabular-buybox-text a-spacing-none\" tabular-attribute-name=\"Sold by\" role=\"row\"><div class=\"a-section a-spacing-none tabular-buybox-text\" role=\"cell\"><span class=\"a-size-small tabular-buybox-label\">{sold_by}</span></div></div><div class=\"tabular-buybox-text a-spacing-none\" tabular-attribute-name=\"Sold by\"><div class=\"a-section a-spacing-none tabular-buybox-text\" role=\"cell\"><span class=\"a-size-small tabular-buybox-text-message\">{site}</span></div></div>\n\
</div></div>\n</form></div></div></div></div>",
                price = price_span(m, money, " aok-align-center", "xl"),
                in_stock = w.in_stock,
                cart = w.add_to_cart,
                sold_by = w.sold_by,
                site = site_name(m),
            );
            (center, buy_box)
        }
        None => {
            let buy_box = format!(
                "<div id=\"outOfStockBuyBox_feature_div\" class=\"celwidget\"><div id=\"outOfStock\" class=\"a-box\"><div class=\"a-box-inner\">\n\
<input type=\"hidden\" id=\"ASIN\" name=\"ASIN\" value=\"{asin}\" />\n\
<div id=\"availabilityInsideBuyBox_feature_div\" class=\"celwidget\"><div id=\"availability\" class=\"a-section a-spacing-base a-spacing-top-micro\"><span class=\"a-size-medium a-color-price a-text-bold\">\n    {}\n   </span><br/></div></div>\n\
</div></div></div>",
                w.unavailable
            );
            (String::new(), buy_box)
        }
    };
    let noise_span = |major| price_span(m, noise(m, major), "", "l");
    PRODUCT
        .replace("{{lang}}", w.lang)
        .replace("{{domain}}", m.domain())
        .replace("{{site}}", &site_name(m))
        .replace("{{asin}}", asin)
        .replace("{{title}}", &title)
        .replace("{{center_price}}", &center_price)
        .replace("{{buy_box}}", &buy_box)
        .replace("{{noise_price_1}}", &noise_span(13))
        .replace("{{noise_price_2}}", &noise_span(185))
        .replace("{{noise_price_3}}", &noise_span(158))
        .replace("{{noise_text_price}}", &escape(&m.format(noise(m, 1_199))))
        .replace(
            "{{nav_promo}}",
            &escape(&format!("Deals from {}", m.format(noise(m, 299)))),
        )
        .replace(
            "{{footer_promo}}",
            &escape(&format!("Try Prime, then {}/month", m.format(noise(m, 14)))),
        )
}

/// The robot-check page a storefront would show, in its language where the corpus has one.
pub(crate) fn robot_check(m: Marketplace) -> &'static str {
    match m {
        Marketplace::De => CAPTCHA_DE,
        _ => CAPTCHA_EN,
    }
}

/// Amazon's "page not found" answer, for ASINs the shop does not sell.
pub(crate) fn not_found(m: Marketplace) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>Page Not Found</title></head><body><div id=\"g\"><h1>Looking for something?</h1><p>We're sorry. The Web address you entered is not a functioning page on our site.</p><a href=\"/ref=cs_404_logo\">Go to {}'s Home Page</a></div></body></html>",
        words(m).lang,
        site_name(m)
    )
}
