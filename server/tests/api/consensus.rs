//! Held reports that reach a consensus of independent reporters inside one batch: the agreed
//! price is published once, and the reports after it in the batch see it.

use pricewatch_core::Span;
use serde_json::Value;

use crate::both_engines;
use crate::support::{spawn_app, Engine, Signer, T0};

const ASIN: &str = "B0CONSENS1";

both_engines!(
    agreeing_reporters_in_one_batch_publish_a_held_drop_once,
    |engine: Engine| async move {
        // Arrange: a watched product at 100.00, and reporters with a short record: enough to
        // vote, not enough to publish a 40% drop alone.
        let app = spawn_app(engine).await;
        let bot = Signer::new(60);
        app.make_crawler(&bot).await;
        app.watch("us", ASIN).await;
        let res = app
            .post_reports(vec![bot.report(
                "us",
                ASIN,
                Some(10_000),
                T0 - Span::hours(3),
            )])
            .await;
        assert_eq!(res.status(), 200);
        app.sql("UPDATE products SET subscribers = 5000").await;
        let voters: Vec<Signer> = (61..71).map(Signer::new).collect();
        for v in &voters {
            app.register(v).await;
        }
        app.sql(&format!(
            "UPDATE reporters SET confirmed = 10, created_at = {} WHERE kind = 'extension'",
            (T0 - Span::days(60)).as_millis()
        ))
        .await;
        let probe: Value = app
            .post_reports(vec![voters[0].report(
                "us",
                ASIN,
                Some(6_000),
                T0 - Span::hours(2),
            )])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(probe["results"][0]["status"], "held", "{probe}");
        let needed = probe["results"][0]["required_reporters"].as_u64().unwrap() as usize;
        assert!(needed >= 2 && needed <= voters.len(), "{probe}");

        // Act: the other voters agree in one batch, and the crawler confirms after them.
        let mut batch: Vec<Value> = voters[1..needed]
            .iter()
            .enumerate()
            .map(|(i, v)| v.report("us", ASIN, Some(6_000), T0 - Span::minutes(60 - i as i64)))
            .collect();
        batch.push(bot.report("us", ASIN, Some(6_000), T0));
        let body: Value = app.post_reports(batch).await.json().await.unwrap();

        // Assert: the last voter completed the consensus; one new point, one event, and the
        // crawler's report extended that point rather than starting another.
        let results = body["results"].as_array().unwrap();
        assert_eq!(results[needed - 2]["status"], "accepted", "{body}");
        assert!(
            results[..needed - 2].iter().all(|r| r["status"] == "held"),
            "{body}"
        );
        assert_eq!(results[needed - 1]["decision"], "accept", "{body}");
        assert_eq!(app.count("SELECT current_price FROM products").await, 6_000);
        assert_eq!(app.count("SELECT COUNT(*) FROM price_points").await, 2);
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox_events").await, 2);
        assert_eq!(
            app.count("SELECT MAX(last_seen_at) FROM price_points")
                .await,
            T0.as_millis()
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM reports WHERE status = 'published' AND price = 6000")
                .await,
            needed as i64 + 1,
            "the supporters' reports and the crawler's"
        );
    }
);
