//! The fixture shop over real sockets: its pages read with the same core rules the crawler
//! and extension use, and its admin API changes what it serves.

#![allow(clippy::unwrap_used)]

use pricewatch_core::html::HtmlPage;
use pricewatch_core::{extract, Availability, Marketplace, Money, PageContext, ReadError};
use pricewatch_fixture_shop::{spawn, ModeUpdate, ProductSpec, ProductState, Served, ShopConfig};
use serde_json::json;

const ASIN: &str = "B0FX000042";

fn stocked(m: Marketplace, price_minor: i64) -> ProductSpec {
    ProductSpec {
        marketplace: m,
        asin: ASIN.into(),
        state: ProductState {
            title: format!("Kettleby \"Pro\" Kettle & Mug <{}>", m.code()),
            price_minor: Some(price_minor),
            in_stock: true,
        },
    }
}

async fn read(url: &str, m: Marketplace) -> (u16, Result<pricewatch_core::Observation, ReadError>) {
    let res = reqwest::get(url).await.unwrap();
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    let page = HtmlPage::parse(&body);
    let ctx = PageContext {
        marketplace: Some(m),
        url_asin: None,
    };
    (status, extract(&page, &ctx))
}

#[tokio::test]
async fn every_marketplace_s_page_reads_back_its_price_title_and_stock() {
    // A price with grouping and decimals where the currency has them.
    let price = |m: Marketplace| 123_456 * m.currency().minor_per_major() / 100;
    let shop = spawn(ShopConfig {
        products: Marketplace::ALL
            .into_iter()
            .map(|m| stocked(m, price(m)))
            .collect(),
        ..ShopConfig::default()
    })
    .await
    .unwrap();

    for m in Marketplace::ALL {
        let url = shop.product_url(m, ASIN);
        let (status, obs) = read(&url, m).await;
        assert_eq!(status, 200, "{m}");
        let obs = obs.unwrap_or_else(|e| panic!("{m}: {e}"));
        assert_eq!(obs.asin.as_str(), ASIN, "{m}");
        assert_eq!(
            obs.public_price(),
            Some(Money::new(price(m), m.currency())),
            "{m}"
        );
        assert_eq!(obs.availability, Availability::InStock, "{m}");
        assert_eq!(
            obs.title.as_deref(),
            Some(format!("Kettleby \"Pro\" Kettle & Mug <{}>", m.code()).as_str()),
            "{m}"
        );

        shop.set_out_of_stock(m, ASIN);
        let (_, gone) = read(&url, m).await;
        let gone = gone.unwrap_or_else(|e| panic!("{m}: {e}"));
        assert_eq!(gone.price, None, "{m}");
        assert_eq!(gone.availability, Availability::OutOfStock, "{m}");
    }
}

#[tokio::test]
async fn the_admin_api_changes_prices_and_robot_checks_read_as_blocked() {
    let shop = spawn(ShopConfig {
        products: vec![stocked(Marketplace::De, 2_999)],
        default_marketplace: Marketplace::De,
        ..ShopConfig::default()
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let url = shop.product_url(Marketplace::De, ASIN);

    let res = client
        .put(format!("{}/_shop/products/de/{ASIN}", shop.base_url()))
        .json(&json!({"title": "Neuer Titel", "price_minor": 1_999, "in_stock": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, obs) = read(&url, Marketplace::De).await;
    assert_eq!(
        obs.unwrap().public_price(),
        Some(Money::new(1_999, Marketplace::De.currency()))
    );

    let res = client
        .put(format!("{}/_shop/mode", shop.base_url()))
        .json(&json!({"robot_check_next": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, blocked) = read(&url, Marketplace::De).await;
    assert_eq!(status, 200, "robot checks come with 200, as on Amazon");
    assert!(
        matches!(blocked, Err(ReadError::Blocked { .. })),
        "{blocked:?}"
    );
    let (_, after) = read(&url, Marketplace::De).await;
    assert!(after.is_ok(), "only the next page was a robot check");

    // Robot checks still due come first, then the server errors, then the page.
    let res = client
        .put(format!("{}/_shop/mode", shop.base_url()))
        .json(&json!({"robot_check_next": 1, "error_next": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let statuses = [
        read(&url, Marketplace::De).await.0,
        read(&url, Marketplace::De).await.0,
        read(&url, Marketplace::De).await.0,
    ];
    assert_eq!(statuses, [200, 500, 200]);

    let res = client
        .put(format!("{}/_shop/mode", shop.base_url()))
        .json(&json!({"price": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "unknown mode fields are refused");
}

#[tokio::test]
async fn outages_slow_answers_and_robots_txt_are_served_and_logged() {
    let shop = spawn(ShopConfig {
        products: vec![stocked(Marketplace::Us, 999)],
        ..ShopConfig::default()
    })
    .await
    .unwrap();
    let url = shop.product_url(Marketplace::Us, ASIN);
    let client = reqwest::Client::builder()
        .user_agent("PriceWatchBot/test")
        .build()
        .unwrap();

    let robots = client
        .get(format!("{}/robots.txt", shop.base_url()))
        .send()
        .await
        .unwrap();
    assert!(robots.text().await.unwrap().contains("Disallow: /_shop/"));
    shop.set_mode(&ModeUpdate {
        unavailable_next: Some(2),
        ..ModeUpdate::default()
    });
    assert_eq!(client.get(&url).send().await.unwrap().status(), 503);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 503);
    shop.set_mode(&ModeUpdate {
        delay_ms: Some(300),
        ..ModeUpdate::default()
    });
    let started = std::time::Instant::now();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(
        client
            .get(shop.product_url(Marketplace::Us, "B0NOSUCH00"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let log: serde_json::Value = client
        .get(format!("{}/_shop/requests", shop.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let served: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["served"].as_str().unwrap())
        .collect();
    assert_eq!(
        served,
        [
            "robots",
            "unavailable",
            "unavailable",
            "product",
            "not_found"
        ]
    );
    let records = shop.requests();
    assert!(records
        .windows(2)
        .all(|w| w[0].since_start_us <= w[1].since_start_us));
    assert_eq!(records[1].user_agent.as_deref(), Some("PriceWatchBot/test"));
    assert_eq!(records[3].served, Served::Product);
    assert_eq!(shop.addr().ip().to_string(), "127.0.0.1");
}

#[tokio::test]
async fn a_script_moves_prices_over_time() {
    let shop = spawn(ShopConfig {
        products: vec![stocked(Marketplace::Us, 5_000)],
        script: vec![pricewatch_fixture_shop::ScriptStep {
            at_ms: 200,
            marketplace: Marketplace::Us,
            asin: ASIN.into(),
            price_minor: Some(4_000),
            in_stock: true,
        }],
        ..ShopConfig::default()
    })
    .await
    .unwrap();
    let url = shop.product_url(Marketplace::Us, ASIN);
    let (_, before) = read(&url, Marketplace::Us).await;
    assert_eq!(before.unwrap().price.map(|p| p.amount_minor), Some(5_000));
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let (_, after) = read(&url, Marketplace::Us).await;
    assert_eq!(after.unwrap().price.map(|p| p.amount_minor), Some(4_000));
}
