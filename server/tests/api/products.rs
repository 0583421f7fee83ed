//! `GET /api/products/{marketplace}/{asin}` and its history, with ETags.

use pricewatch_core::Span;
use serde_json::Value;

use crate::both_engines;
use crate::support::{spawn_app, Engine, Signer, TestApp, T0};

const ASIN: &str = "B0C1234567";

/// A product with a month of crawler-observed prices: 100.00, 90.00, then out of stock,
/// then 95.00.
async fn seeded(engine: Engine) -> (TestApp, Signer) {
    let app = spawn_app(engine).await;
    let bot = Signer::new(40);
    app.make_crawler(&bot).await;
    let steps: [(i64, Option<i64>); 4] = [
        (0, Some(10_000)),
        (10, Some(9_000)),
        (20, None),
        (25, Some(9_500)),
    ];
    for (day, price) in steps {
        let at = T0 + Span::days(day);
        app.clock.set(at);
        let res = app
            .post_reports(vec![bot.report("de", ASIN, price, at)])
            .await;
        assert_eq!(res.status(), 200);
    }
    app.clock.set(T0 + Span::days(30));
    (app, bot)
}

both_engines!(
    a_product_shows_its_current_price_and_stats,
    |engine: Engine| async move {
        let (app, _) = seeded(engine).await;

        let res = app.get(&format!("/api/products/de/{ASIN}")).await;

        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("etag"));
        assert!(res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age"));
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["marketplace"], "de");
        assert_eq!(p["currency"], "EUR");
        assert_eq!(p["current_price"]["amount_minor"], 9_500);
        assert_eq!(p["availability"], "in_stock");
        assert_eq!(p["url"], format!("https://www.amazon.de/dp/{ASIN}"));
        assert_eq!(p["stats"]["lowest"]["price"], 9_000);
        assert_eq!(p["stats"]["highest"]["price"], 10_000);
    }
);

both_engines!(
    history_comes_in_every_granularity_with_gaps_kept,
    |engine: Engine| async move {
        let (app, _) = seeded(engine).await;
        for granularity in ["raw", "hourly", "daily", "weekly", "monthly"] {
            let res = app
                .get(&format!(
                    "/api/products/de/{ASIN}/history?period=90d&granularity={granularity}"
                ))
                .await;
            assert_eq!(res.status(), 200, "{granularity}");
            let chart: Value = res.json().await.unwrap();
            assert_eq!(chart["granularity"], granularity);
            let buckets = chart["buckets"].as_array().unwrap();
            assert!(!buckets.is_empty(), "{granularity}");
            let lows: Vec<i64> = buckets.iter().filter_map(|b| b["min"].as_i64()).collect();
            assert_eq!(lows.iter().min(), Some(&9_000), "{granularity}");
        }
        let daily: Value = app
            .get(&format!(
                "/api/products/de/{ASIN}/history?period=30d&granularity=daily"
            ))
            .await
            .json()
            .await
            .unwrap();
        let gaps = daily["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b.get("gap").is_some())
            .count();
        assert!(gaps >= 4, "the out-of-stock days are gaps: {daily}");
    }
);

both_engines!(
    an_unchanged_answer_is_304_and_a_change_shows_at_once,
    |engine: Engine| async move {
        let (app, bot) = seeded(engine).await;
        let path = format!("/api/products/de/{ASIN}/history?period=30d");
        let first = app.get(&path).await;
        let tag = first.headers()["etag"].to_str().unwrap().to_owned();

        let again = app
            .client
            .get(app.url(&path))
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);

        let now = app.clock_now();
        app.post_reports(vec![bot.report("de", ASIN, Some(8_000), now)])
            .await;
        let changed = app
            .client
            .get(app.url(&path))
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), 200);
        let product: Value = app
            .get(&format!("/api/products/de/{ASIN}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(product["current_price"]["amount_minor"], 8_000);
    }
);

both_engines!(bad_parameters_name_the_field, |engine: Engine| async move {
    let (app, _) = seeded(engine).await;
    let cases = [
        (format!("/api/products/xx/{ASIN}"), "marketplace"),
        ("/api/products/de/notanasin".to_owned(), "asin"),
        (
            format!("/api/products/de/{ASIN}/history?period=7w"),
            "period",
        ),
        (
            format!("/api/products/de/{ASIN}/history?granularity=minutely"),
            "granularity",
        ),
        (
            format!("/api/products/de/{ASIN}/history?period=all&granularity=hourly&x=1"),
            "granularity",
        ),
    ];
    for (path, field) in cases {
        let res = app.get(&path).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        if field == "granularity" && path.contains("period=all") {
            // A month of hourly buckets is fine; this only checks it is not an error 500.
            assert!(status == 200 || status == 400, "{path}: {status}");
            continue;
        }
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["field"], field, "{path}: {body}");
    }
});

both_engines!(an_unknown_product_is_404, |engine: Engine| async move {
    let app = spawn_app(engine).await;
    let res = app.get("/api/products/us/B000000000").await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
});

both_engines!(
    the_home_lists_recent_drops_and_most_watched,
    |engine: Engine| async move {
        let (app, bot) = seeded(engine).await;
        let now = app.clock_now();
        app.post_reports(vec![bot.report("de", ASIN, Some(8_000), now)])
            .await;
        app.post_reports(vec![bot.report("us", "B000000001", Some(5_000), now)])
            .await;
        app.sql("UPDATE products SET subscribers = 7 WHERE asin = 'B000000001'")
            .await;

        let drops: Value = app
            .get("/api/products?sort=drops")
            .await
            .json()
            .await
            .unwrap();
        let watched: Value = app
            .get("/api/products?sort=watched&limit=5")
            .await
            .json()
            .await
            .unwrap();

        let drops = drops.as_array().unwrap();
        assert_eq!(drops.len(), 1, "{drops:?}");
        assert_eq!(drops[0]["asin"], ASIN);
        assert_eq!(drops[0]["previous_price"]["amount_minor"], 9_500);
        assert_eq!(drops[0]["drop_percent"], 15.8);
        assert_eq!(watched[0]["asin"], "B000000001");
        assert_eq!(watched[0]["subscribers"], 7);
        let bad = app.get("/api/products?sort=cheapest").await;
        assert_eq!(bad.status(), 400);
        let body: Value = bad.json().await.unwrap();
        assert_eq!(body["field"], "sort");
    }
);

both_engines!(
    history_downloads_as_csv_matching_the_json,
    |engine: Engine| async move {
        let (app, _) = seeded(engine).await;
        let json: Value = app
            .get(&format!(
                "/api/products/de/{ASIN}/history?period=30d&granularity=weekly"
            ))
            .await
            .json()
            .await
            .unwrap();

        let res = app
            .get(&format!(
                "/api/products/de/{ASIN}/history?period=30d&granularity=weekly&format=csv"
            ))
            .await;

        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment"));
        let text = res.text().await.unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows[0], "start,end,currency,open,close,min,max,avg,gap");
        let buckets = json["buckets"].as_array().unwrap();
        assert_eq!(rows.len() - 1, buckets.len());
        for (row, bucket) in rows[1..].iter().zip(buckets) {
            let cells: Vec<&str> = row.split(',').collect();
            assert_eq!(cells[2], "EUR");
            match bucket["min"].as_i64() {
                Some(min) => {
                    assert_eq!(cells[5], format!("{}.{:02}", min / 100, min % 100), "{row}")
                }
                None => assert_eq!(cells[8], bucket["gap"].as_str().unwrap(), "{row}"),
            }
        }
        let bad = app
            .get(&format!("/api/products/de/{ASIN}/history?format=xml"))
            .await;
        assert_eq!(bad.status(), 400);
    }
);

both_engines!(
    a_pasted_url_or_asin_resolves_to_the_product_page,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let cases = [
            (
                "https://www.amazon.co.uk/Some-Thing/dp/B08N5WRWNW/ref=sr_1_1?th=1",
                "uk",
            ),
            ("https://m.amazon.de/gp/aw/d/B08N5WRWNW", "de"),
            ("b08n5wrwnw", "us"),
        ];
        for (q, mkt) in cases {
            let res = app
                .client
                .get(app.url("/api/resolve"))
                .query(&[("q", q)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{q}");
            let v: Value = res.json().await.unwrap();
            assert_eq!(v["marketplace"], mkt, "{q}");
            assert_eq!(v["asin"], "B08N5WRWNW");
            assert_eq!(v["path"], format!("/p/{mkt}/B08N5WRWNW"));
        }
        for q in [
            "https://www.ebay.com/itm/123",
            "https://www.amazon.com/s?k=tv",
            "hello",
        ] {
            let res = app
                .client
                .get(app.url("/api/resolve"))
                .query(&[("q", q)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 400, "{q}");
            let v: Value = res.json().await.unwrap();
            assert_eq!(v["field"], "q", "{q}");
        }
    }
);
