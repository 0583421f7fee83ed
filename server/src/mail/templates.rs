//! Message bodies: plain text and HTML for every email the server sends.
//!
//! Product titles come from Amazon pages (and unsigned reports), so every string that is not
//! ours is escaped before it reaches HTML, and stripped of line breaks before it reaches a
//! subject. Prices are written the way their marketplace writes them (`1.299,99 €`).

use std::fmt::Write as _;

use pricewatch_core::alert::{AlertContent, Reasons};
use pricewatch_core::correction::{Correction, Verdict};
use pricewatch_core::{Marketplace, Money};

/// A rendered message: subject, plain text, HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// HTML-escape untrusted text (element content and quoted attribute values).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A title made safe for a subject line: one line, at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    } else {
        flat
    }
}

/// The frame every HTML email shares.
fn page(body: &str, footer: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"></head>\
         <body style=\"font-family:sans-serif;color:#222;max-width:560px;margin:0 auto;padding:16px\">\
         {body}<hr style=\"border:none;border-top:1px solid #ddd;margin:24px 0 8px\">\
         <p style=\"font-size:12px;color:#777\">{footer}</p></body></html>"
    )
}

/// A sign-in email: the code and the link.
pub fn signin(code: &str, link: &str, minutes: i64) -> Rendered {
    let subject = format!("Your PriceWatch sign-in code: {code}");
    let text = format!(
        "Your sign-in code is {code}\n\nOr open this link to sign in:\n{link}\n\n\
         The code and the link work once, for {minutes} minutes. If you did not ask to sign \
         in, ignore this email.\n"
    );
    let body = format!(
        "<p>Your sign-in code is</p><p style=\"font-size:28px;letter-spacing:4px\"><b>{}</b></p>\
         <p><a href=\"{}\">Sign in to PriceWatch</a></p>\
         <p>The code and the link work once, for {minutes} minutes.</p>",
        escape_html(code),
        escape_html(link)
    );
    Rendered {
        subject,
        text,
        html: page(&body, "If you did not ask to sign in, ignore this email."),
    }
}

/// What an alert email shows about its product.
#[derive(Debug, Clone)]
pub struct ProductInfo<'a> {
    /// From the page; untrusted.
    pub title: Option<&'a str>,
    pub marketplace: Marketplace,
    pub asin: &'a str,
    /// The product on Amazon.
    pub amazon_url: String,
    /// The product's chart on our site.
    pub chart_url: String,
}

impl ProductInfo<'_> {
    fn name(&self) -> String {
        self.title
            .map_or_else(|| self.asin.to_owned(), str::to_owned)
    }
}

/// Links every alert email carries.
#[derive(Debug, Clone)]
pub struct Links {
    pub unsubscribe: String,
    pub manage: String,
}

/// A price alert.
#[derive(Debug, Clone)]
pub struct AlertMail<'a> {
    pub product: ProductInfo<'a>,
    pub alert: &'a AlertContent,
    /// The price before the alert's point, if there was one.
    pub old_price: Option<Money>,
    /// The all-time low, from the product's whole history.
    pub all_time_low: Option<Money>,
    /// `cid:` of the inline chart, when one was rendered.
    pub chart_cid: Option<&'a str>,
    pub links: Links,
}

fn headline(reasons: Reasons) -> &'static str {
    if reasons.crossed {
        "dropped to your price"
    } else if reasons.further_drop {
        "dropped even further"
    } else {
        "is back in stock"
    }
}

/// Lines of facts about an alert, as (label, value) pairs, shared by text and HTML.
fn alert_facts(m: &AlertMail<'_>) -> Vec<(&'static str, String)> {
    let fmt = |p: Money| m.product.marketplace.format(p);
    let mut facts = vec![("Now", fmt(m.alert.price))];
    if m.alert.latest != m.alert.price {
        facts.push(("Latest", fmt(m.alert.latest)));
    }
    if let Some(old) = m.old_price.filter(|o| *o != m.alert.price) {
        facts.push(("Was", fmt(old)));
    }
    if let Some(t) = m.alert.threshold {
        facts.push(("Your price", fmt(t)));
    }
    if let Some(low) = m.all_time_low {
        facts.push(("All-time low", fmt(low)));
    }
    if m.alert.merged_events > 1 {
        facts.push((
            "Changes",
            format!(
                "{} price changes since the last alert",
                m.alert.merged_events
            ),
        ));
    }
    facts
}

/// One alert email.
pub fn alert(m: &AlertMail<'_>) -> Rendered {
    let name = m.product.name();
    let what = headline(m.alert.reasons);
    let subject = format!(
        "{}: {} {what}",
        m.product.marketplace.format(m.alert.price),
        one_line(&name, 80)
    );
    let facts = alert_facts(m);
    let mut text = format!("{} {what}.\n\n", one_line(&name, 300));
    for (label, value) in &facts {
        let _ = writeln!(text, "{label}: {value}");
    }
    let _ = write!(
        text,
        "\nBuy on Amazon: {}\nPrice history: {}\n\nStop these alerts: {}\nYour alerts: {}\n",
        m.product.amazon_url, m.product.chart_url, m.links.unsubscribe, m.links.manage
    );

    let mut body = format!(
        "<h2 style=\"font-size:18px\"><a href=\"{}\">{}</a> {what}</h2><table>",
        escape_html(&m.product.amazon_url),
        escape_html(&name)
    );
    for (label, value) in &facts {
        let _ = write!(
            body,
            "<tr><td style=\"color:#777;padding-right:12px\">{label}</td><td><b>{}</b></td></tr>",
            escape_html(value)
        );
    }
    body.push_str("</table>");
    if let Some(cid) = m.chart_cid {
        let _ = write!(
            body,
            "<p><a href=\"{}\"><img src=\"cid:{}\" width=\"480\" height=\"160\" \
             alt=\"Price history chart\"></a></p>",
            escape_html(&m.product.chart_url),
            escape_html(cid)
        );
    }
    let _ = write!(
        body,
        "<p><a href=\"{}\">Buy on Amazon</a> · <a href=\"{}\">Price history</a></p>",
        escape_html(&m.product.amazon_url),
        escape_html(&m.product.chart_url)
    );
    let footer = format!(
        "<a href=\"{}\">Stop alerts for this product</a> · <a href=\"{}\">Your alerts</a>",
        escape_html(&m.links.unsubscribe),
        escape_html(&m.links.manage)
    );
    Rendered {
        subject,
        text,
        html: page(&body, &footer),
    }
}

/// One line of a digest.
#[derive(Debug, Clone)]
pub struct DigestItem<'a> {
    pub product: ProductInfo<'a>,
    pub alert: AlertContent,
    pub unsubscribe: String,
}

/// The daily digest.
pub fn digest(items: &[DigestItem<'_>], manage: &str, unsubscribe_all: &str) -> Rendered {
    let subject = match items {
        [one] => format!(
            "Today's price alert: {} at {}",
            one_line(&one.product.name(), 60),
            one.product.marketplace.format(one.alert.price)
        ),
        many => format!("Today's price alerts: {} products", many.len()),
    };
    let mut text = String::from("Your price alerts of the day:\n\n");
    let mut body =
        String::from("<h2 style=\"font-size:18px\">Your price alerts of the day</h2><ul>");
    for item in items {
        let price = item.product.marketplace.format(item.alert.price);
        let name = item.product.name();
        let what = headline(item.alert.reasons);
        let _ = write!(
            text,
            "- {} {what}: {price}\n  {}\n  Stop: {}\n",
            one_line(&name, 200),
            item.product.amazon_url,
            item.unsubscribe
        );
        let _ = write!(
            body,
            "<li><a href=\"{}\">{}</a> {what}: <b>{}</b> \
             (<a href=\"{}\">history</a>, <a href=\"{}\">stop</a>)</li>",
            escape_html(&item.product.amazon_url),
            escape_html(&name),
            escape_html(&price),
            escape_html(&item.product.chart_url),
            escape_html(&item.unsubscribe)
        );
    }
    body.push_str("</ul>");
    let _ = write!(
        text,
        "\nYour alerts: {manage}\nPause all alerts: {unsubscribe_all}\n"
    );
    let footer = format!(
        "<a href=\"{}\">Your alerts</a> · <a href=\"{}\">Pause all alerts</a>",
        escape_html(manage),
        escape_html(unsubscribe_all)
    );
    Rendered {
        subject,
        text,
        html: page(&body, &footer),
    }
}

/// A correction of an alert sent on a price that turned out wrong.
pub fn correction(product: &ProductInfo<'_>, c: &Correction, links: &Links) -> Rendered {
    let fmt = |p: Money| product.marketplace.format(p);
    let name = product.name();
    let real = c.real.map_or_else(
        || "not available right now".to_owned(),
        |p| format!("{} right now", fmt(p)),
    );
    let (subject, lead) = match c.verdict {
        Verdict::StillMet => (
            format!("Correction: {} is {}", one_line(&name, 80), real),
            format!(
                "We told you {} was {}. The price we had was wrong: it is {}. It still meets \
                 your alert.",
                name,
                fmt(c.told),
                real
            ),
        ),
        Verdict::Wrong => (
            format!(
                "Sorry: the price alert for {} was wrong",
                one_line(&name, 80)
            ),
            format!(
                "We told you {} was {}, but that price was wrong: it is {}. Sorry for the false \
                 alarm. Your alert is active again and will tell you when the price really drops.",
                name,
                fmt(c.told),
                real
            ),
        ),
    };
    let text = format!(
        "{lead}\n\nOn Amazon: {}\nPrice history: {}\n\nStop these alerts: {}\n",
        product.amazon_url, product.chart_url, links.unsubscribe
    );
    let body = format!(
        "<p>{}</p><p><a href=\"{}\">On Amazon</a> · <a href=\"{}\">Price history</a></p>",
        escape_html(&lead),
        escape_html(&product.amazon_url),
        escape_html(&product.chart_url)
    );
    let footer = format!(
        "<a href=\"{}\">Stop alerts for this product</a> · <a href=\"{}\">Your alerts</a>",
        escape_html(&links.unsubscribe),
        escape_html(&links.manage)
    );
    Rendered {
        subject,
        text,
        html: page(&body, &footer),
    }
}

/// "Send a test notification".
pub fn test_message(manage: &str) -> Rendered {
    Rendered {
        subject: "PriceWatch test notification".into(),
        text: format!(
            "This is a test. Your price alerts will arrive like this.\n\nYour alerts: {manage}\n"
        ),
        html: page(
            "<p>This is a test. Your price alerts will arrive like this.</p>",
            &format!("<a href=\"{}\">Your alerts</a>", escape_html(manage)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricewatch_core::alert::{Channel, DedupeKey, SubscriptionId};
    use pricewatch_core::history::PricePointId;
    use pricewatch_core::{Currency, Timestamp};

    fn product(title: &str) -> ProductInfo<'_> {
        ProductInfo {
            title: Some(title),
            marketplace: Marketplace::De,
            asin: "B08N5WRWNW",
            amazon_url: "https://www.amazon.de/dp/B08N5WRWNW".into(),
            chart_url: "https://pw.example/p/de/B08N5WRWNW".into(),
        }
    }

    fn content() -> AlertContent {
        let eur = |m| Money::new(m, Currency::Eur);
        AlertContent {
            key: DedupeKey {
                subscription: SubscriptionId(1),
                point: PricePointId(2),
            },
            channel: Channel::Email,
            reasons: Reasons {
                crossed: true,
                ..Reasons::default()
            },
            price: eur(129_999),
            price_seen_at: Timestamp(0),
            latest: eur(129_999),
            threshold: Some(eur(130_000)),
            previous: None,
            merged_events: 1,
        }
    }

    #[test]
    fn titles_from_pages_cannot_inject_markup_or_headers() {
        let content = content();
        let mail = AlertMail {
            product: product("<script>alert(1)</script> \"Deal\" & more\r\nBcc: x@evil"),
            alert: &content,
            old_price: None,
            all_time_low: None,
            chart_cid: None,
            links: Links {
                unsubscribe: "https://pw.example/api/unsubscribe/s1.x".into(),
                manage: "https://pw.example/account".into(),
            },
        };

        let r = super::alert(&mail);

        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(r
            .html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;Deal&quot; &amp; more"));
        assert!(
            !r.subject.contains('\n') && !r.subject.contains('\r'),
            "{}",
            r.subject
        );
    }

    #[test]
    fn prices_are_written_the_marketplace_way() {
        let content = content();
        let mail = AlertMail {
            product: product("Laptop"),
            alert: &content,
            old_price: Some(Money::new(149_900, Currency::Eur)),
            all_time_low: Some(Money::new(119_900, Currency::Eur)),
            chart_cid: Some("chart"),
            links: Links {
                unsubscribe: "u".into(),
                manage: "m".into(),
            },
        };

        let r = super::alert(&mail);

        assert!(
            r.subject.starts_with("1.299,99\u{a0}€: Laptop"),
            "{}",
            r.subject
        );
        assert!(r.text.contains("Was: 1.499,00\u{a0}€"), "{}", r.text);
        assert!(
            r.text.contains("All-time low: 1.199,00\u{a0}€"),
            "{}",
            r.text
        );
        assert!(r.html.contains("src=\"cid:chart\""));
    }
}
