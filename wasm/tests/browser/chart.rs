//! The history chart drawn on a real canvas: pixels where the prices are, none across gaps,
//! a backing store sized for the pixel ratio, and `hover` naming the bucket under each x.

use pricewatch_core::history::{Bucket, BucketValue, Chart, GapReason, Granularity, Ohlc, Period};
use pricewatch_core::{Currency, Timestamp};
use pricewatch_wasm::chart::history::{draw_history, hover};
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::support::{canvas, json, message};

const DAY: i64 = 86_400_000;
const T0: i64 = 1_704_067_200_000; // 2024-01-01

fn priced(day: i64, close: i64) -> Bucket {
    Bucket {
        start: Timestamp(T0 + day * DAY),
        end: Timestamp(T0 + (day + 1) * DAY),
        value: BucketValue::Prices(Ohlc {
            open: close + 500,
            close,
            min: close - 1_000,
            max: close + 1_000,
            avg: close,
        }),
    }
}

fn gap(day: i64) -> Bucket {
    Bucket {
        start: Timestamp(T0 + day * DAY),
        end: Timestamp(T0 + (day + 1) * DAY),
        value: BucketValue::Gap {
            gap: GapReason::OutOfStock,
        },
    }
}

/// Five days: two priced, two out of stock, one priced.
fn chart() -> JsValue {
    let chart = Chart {
        currency: Currency::Eur,
        period: Period::Days30,
        granularity: Granularity::Daily,
        start: Timestamp(T0),
        end: Timestamp(T0 + 5 * DAY),
        downsampled: false,
        buckets: vec![
            priced(0, 129_999),
            priced(1, 119_999),
            gap(2),
            gap(3),
            priced(4, 99_999),
        ],
        stats: None,
    };
    JsValue::from_str(&serde_json::to_string(&chart).expect("serializable"))
}

fn options(width: f64, height: f64, ratio: f64) -> JsValue {
    JsValue::from_str(&json!({"width": width, "height": height, "pixel_ratio": ratio}).to_string())
}

/// RGBA of the device pixel at CSS (x, y).
#[track_caller]
fn pixel(canvas: &HtmlCanvasElement, ratio: f64, x: f64, y: f64) -> [u8; 4] {
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .expect("context")
        .expect("2d")
        .dyn_into()
        .expect("a 2-D context");
    let data = context
        .get_image_data((x * ratio).round(), (y * ratio).round(), 1.0, 1.0)
        .expect("image data")
        .data();
    [data[0], data[1], data[2], data[3]]
}

/// The line's blue, not the band's tint or the background.
fn is_line(rgba: [u8; 4]) -> bool {
    let [r, g, b, a] = rgba;
    a == 255 && b > 200 && r < 90 && g < 150
}

#[track_caller]
fn read_out(canvas: &HtmlCanvasElement, x: f64) -> serde_json::Value {
    json(hover(canvas, chart(), x).expect("hover"))
}

#[wasm_bindgen_test]
fn the_backing_store_is_sized_for_the_pixel_ratio_and_shown_at_css_size() {
    let canvas = canvas();
    draw_history(&canvas, chart(), options(400.0, 200.0, 2.0)).expect("drawn");
    assert_eq!((canvas.width(), canvas.height()), (800, 400));
    let style = canvas.style();
    assert_eq!(
        style.get_property_value("width").ok().as_deref(),
        Some("400px")
    );
    assert_eq!(
        style.get_property_value("height").ok().as_deref(),
        Some("200px")
    );
}

#[wasm_bindgen_test]
fn hover_names_every_bucket_in_order_across_the_plot() {
    let canvas = canvas();
    draw_history(&canvas, chart(), options(500.0, 240.0, 1.0)).expect("drawn");

    let mut seen: Vec<i64> = Vec::new();
    let mut outside = 0;
    for x in 0..500 {
        match read_out(&canvas, f64::from(x)) {
            serde_json::Value::Null => outside += 1,
            r => {
                let index = r["index"].as_i64().expect("index");
                if seen.last() != Some(&index) {
                    seen.push(index);
                }
            }
        }
    }
    assert_eq!(seen, [0, 1, 2, 3, 4], "each bucket once, left to right");
    assert!(
        outside > 0,
        "the label area and margin are outside the plot"
    );
}

#[wasm_bindgen_test]
fn the_read_out_gives_the_date_and_the_storefronts_price() {
    let canvas = canvas();
    draw_history(&canvas, chart(), options(500.0, 240.0, 1.0)).expect("drawn");
    let first = read_out(&canvas, 200.0);
    let day = first["index"].as_i64().expect("index");
    // Find the second bucket by walking right from wherever x = 200 fell.
    let second = (0..500)
        .map(|x| read_out(&canvas, f64::from(x)))
        .find(|r| r["index"] == 1)
        .expect("bucket 1 is under some x");
    assert!(day >= 0);
    assert_eq!(second["date"], "2024-01-02");
    assert_eq!(second["price"], "1.199,99\u{A0}€");
    assert_eq!(second["low"], "1.189,99\u{A0}€");
    assert_eq!(second["high"], "1.209,99\u{A0}€");
    assert_eq!(second["prices"]["close"], 119_999);
    assert_eq!(second["gap"], serde_json::Value::Null);

    let out = (0..500)
        .map(|x| read_out(&canvas, f64::from(x)))
        .find(|r| r["index"] == 2)
        .expect("bucket 2 is under some x");
    assert_eq!(out["gap"], "out_of_stock");
    assert_eq!(out["price"], serde_json::Value::Null);
}

#[wasm_bindgen_test]
fn the_close_line_is_drawn_where_hover_says_and_never_across_a_gap() {
    let ratio = 2.0;
    let canvas = canvas();
    draw_history(&canvas, chart(), options(500.0, 240.0, ratio)).expect("drawn");
    let buckets: Vec<serde_json::Value> = (0..5)
        .map(|i| {
            (0..500)
                .map(|x| read_out(&canvas, f64::from(x)))
                .find(|r| r["index"] == i)
                .expect("every bucket is under some x")
        })
        .collect();

    for priced in [0, 1, 4] {
        let b = &buckets[priced];
        let x = (b["left"].as_f64().expect("left") + b["right"].as_f64().expect("right")) / 2.0;
        let y = b["y"].as_f64().expect("a priced bucket has a y");
        assert!(
            is_line(pixel(&canvas, ratio, x, y)),
            "bucket {priced}: {:?}",
            pixel(&canvas, ratio, x, y)
        );
    }
    for gap in [2, 3] {
        let b = &buckets[gap];
        let x = (b["left"].as_f64().expect("left") + b["right"].as_f64().expect("right")) / 2.0;
        for y in 0..240 {
            let rgba = pixel(&canvas, ratio, x, f64::from(y));
            assert!(
                !is_line(rgba),
                "the line crosses gap bucket {gap} at y {y}: {rgba:?}"
            );
        }
    }
}

#[wasm_bindgen_test]
fn a_chart_with_no_price_still_draws_its_frame_and_a_note() {
    let canvas = canvas();
    let empty = json!({
        "currency": "USD", "period": "30d", "granularity": "daily", "start": T0,
        "end": T0 + DAY, "downsampled": false, "stats": null,
        "buckets": [{"start": T0, "end": T0 + DAY, "gap": "not_observed"}],
    });
    let object = js_sys::JSON::parse(&empty.to_string()).expect("JSON");
    draw_history(&canvas, object, JsValue::UNDEFINED).expect("drawn");
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .expect("context")
        .expect("2d")
        .dyn_into()
        .expect("a 2-D context");
    let (w, h) = (canvas.width(), canvas.height());
    let data = context
        .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
        .expect("image data")
        .data();
    let inked = data.chunks_exact(4).filter(|p| p[0] < 200).count();
    assert!(inked > 50, "only {inked} dark pixels");
}

#[wasm_bindgen_test]
fn hover_before_drawing_and_malformed_arguments_throw() {
    let canvas = canvas();
    let err = hover(&canvas, chart(), 10.0).expect_err("nothing drawn yet");
    assert!(message(err.into()).contains("draw_history"));

    let err = draw_history(&canvas, JsValue::from_str("{}"), JsValue::UNDEFINED)
        .expect_err("not a chart");
    assert!(message(err.into()).starts_with("chart_json:"));

    let err = draw_history(
        &canvas,
        chart(),
        JsValue::from_str("{\"marketplace\": \"us\"}"),
    )
    .expect_err("a storefront of another currency");
    assert!(message(err.into()).starts_with("options.marketplace:"));

    let err = draw_history(&canvas, chart(), options(10.0, 10.0, 1.0)).expect_err("too small");
    assert!(message(err.into()).starts_with("options.width:"));
}
