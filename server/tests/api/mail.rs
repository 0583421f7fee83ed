//! What the emails say, read off the SMTP sink as a mail client would: sign-in codes, and
//! alerts with the product, prices formatted for the marketplace, the all-time low, links,
//! the inline chart and one-click unsubscribe headers.

use mail_parser::MimeHeaders;
use pricewatch_core::Span;
use serde_json::{json, Value};

use crate::alerts::{subscribe, trusted_bot};
use crate::auth::{app_with_sink, request_code, sign_in, MAIL_WAIT};
use crate::both_engines;
use crate::support::Engine;

both_engines!(
    the_sign_in_email_carries_the_code_and_a_link_to_our_site,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;

        let mail = request_code(&app, &sink, "new@example.org").await;

        let code = crate::auth::code_of(&mail);
        assert!(mail.text().contains(&code));
        assert!(mail.html().contains(&code));
        assert!(mail
            .text()
            .contains("https://pricewatch.test/signin?token="));
        assert!(
            mail.header("List-Unsubscribe").is_none(),
            "not a subscription"
        );
        assert_eq!(mail.to, vec!["new@example.org".to_owned()]);
    }
);

both_engines!(
    an_alert_email_shows_the_deal_and_a_chart_and_escapes_the_title,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 80).await;
        let token = sign_in(&app, &sink, "reader@example.org").await;
        let asin = "B0DEALDEAL";
        // A German product, a hostile title, a history with a lower low.
        let mut first = bot.report("de", asin, Some(119_900), app.clock_now());
        first["title"] = json!("<b>Laptop</b> & \"Co\" <script>alert(1)</script>");
        let res = app
            .post_json("/api/reports", &json!({"reports": [first]}))
            .await;
        assert_eq!(res.status(), 200);
        app.clock.advance(Span::days(1));
        app.post_reports(vec![bot.report("de", asin, Some(149_900), app.clock_now())])
            .await;
        subscribe(
            &app,
            &token,
            json!({"marketplace": "de", "asin": asin, "threshold_minor": 130_000}),
        )
        .await;
        app.clock.advance(Span::days(1));

        app.post_reports(vec![bot.report("de", asin, Some(129_999), app.clock_now())])
            .await;

        let mails = sink.wait_for_to("reader@example.org", 2, MAIL_WAIT).await;
        let alert = &mails[1];
        let subject = alert.subject();
        assert!(subject.starts_with("1.299,99\u{a0}€"), "{subject}");
        let text = alert.text();
        assert!(text.contains("Was: 1.499,00\u{a0}€"), "{text}");
        assert!(text.contains("All-time low: 1.199,00\u{a0}€"), "{text}");
        assert!(text.contains("Your price: 1.300,00\u{a0}€"), "{text}");
        assert!(
            text.contains("https://www.amazon.de/dp/B0DEALDEAL"),
            "{text}"
        );
        // The price history link is the website's product page, which the server serves.
        let history = text
            .lines()
            .find_map(|l| l.strip_prefix("Price history: "))
            .expect("a price history link");
        assert_eq!(history, "https://pricewatch.test/p/de/B0DEALDEAL", "{text}");
        let page = app
            .get(history.strip_prefix("https://pricewatch.test").unwrap())
            .await;
        assert_eq!(page.status(), 200, "{history}");
        assert!(page.text().await.unwrap().contains("Price history"));
        let html = alert.html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("src=\"cid:chart\""), "{html}");
        let parsed = alert.parsed();
        let png = parsed
            .attachments()
            .find(|a| a.content_type().is_some_and(|c| c.c_type == "image"))
            .expect("an inline chart");
        assert_eq!(&png.contents()[..8], b"\x89PNG\r\n\x1a\n");
        assert!(alert.header("List-Unsubscribe").is_some());
        assert!(alert
            .header("Message-ID")
            .is_some_and(|id| id.contains("notification-")));
    }
);

both_engines!(
    a_test_notification_is_a_real_email_through_the_queue,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let token = sign_in(&app, &sink, "tester@example.org").await;

        let res = app
            .client
            .post(app.url("/api/channels/test"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();

        assert_eq!(res.status(), 202);
        let mails = sink.wait_for_to("tester@example.org", 2, MAIL_WAIT).await;
        assert_eq!(mails[1].subject(), "PriceWatch test notification");
        let page: Value = app
            .client
            .get(app.url("/api/notifications"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + MAIL_WAIT;
        let mut status = page["notifications"][0]["status"].clone();
        while status != "sent" && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let page: Value = app
                .client
                .get(app.url("/api/notifications"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            status = page["notifications"][0]["status"].clone();
        }
        assert_eq!(status, "sent");
    }
);
