//! The alert worker and delivery, end to end over real sockets: a price drop posted to the
//! API reaches the SMTP sink within seconds, exactly once; cooldowns, held alerts, back in
//! stock, digests, retries while the SMTP server is down, permanent refusals, webhooks,
//! unsubscribe links and corrections.

use std::time::Duration;

use pricewatch_core::alert::PriceEvent;
use pricewatch_core::history::PricePointId;
use pricewatch_core::{Availability, Currency, Money, Span};
use serde_json::{json, Value};

use crate::auth::{app_with_sink, app_with_sink_and, sign_in, AsUser, MAIL_WAIT};
use crate::both_engines;
use crate::smtp_sink::{Mode, SmtpSink};
use crate::support::{Engine, Signer, TestApp};

const ASIN: &str = "B08N5WRWNW";

/// Long enough for a worker polling every 50 ms to have sent anything it was going to.
const QUIET: Duration = Duration::from_millis(800);

/// A crawler-trusted reporter, whose reports are always accepted.
pub async fn trusted_bot(app: &TestApp, n: u8) -> Signer {
    let bot = Signer::new(n);
    app.make_crawler(&bot).await;
    bot
}

/// Post `price` (None: out of stock) observed now; it must be accepted.
pub async fn observe(app: &TestApp, bot: &Signer, asin: &str, price: Option<i64>) {
    let res = app
        .post_reports(vec![bot.report("us", asin, price, app.clock_now())])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["results"][0]["status"], "accepted", "{body}");
}

/// Subscribe the token's user; returns the subscription id.
pub async fn subscribe(app: &TestApp, token: &str, body: Value) -> i64 {
    let res = app.post_as(token, "/api/subscriptions", &body).await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

fn threshold(minor: i64) -> Value {
    json!({"marketplace": "us", "asin": ASIN, "threshold_minor": minor})
}

/// Messages to `email` that are not sign-in codes.
fn alerts_to(sink: &SmtpSink, email: &str) -> Vec<crate::smtp_sink::Received> {
    sink.to(email)
        .into_iter()
        .filter(|m| !m.subject().contains("sign-in code"))
        .collect()
}

async fn wait_alerts(sink: &SmtpSink, email: &str, n: usize) -> Vec<crate::smtp_sink::Received> {
    let deadline = std::time::Instant::now() + MAIL_WAIT;
    loop {
        let got = alerts_to(sink, email);
        if got.len() >= n {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expected {n} alerts to {email}, got {}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

both_engines!(
    price_changes_of_unwatched_products_are_done_in_one_step_and_the_rest_are_left_to_matching,
    |engine: Engine| async move {
        use pricewatch_server::alerts::matching::done_unwatched;
        use pricewatch_server::alerts::worker::claim_events;
        const UNWATCHED: &str = "B0UNWATCH1";
        let (app, sink) = app_with_sink_and(engine, |s| s.alerts.worker_enabled = false).await;
        let bot = trusted_bot(&app, 75).await;
        let token = sign_in(&app, &sink, "watcher@example.org").await;
        subscribe(&app, &token, threshold(9_000)).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        observe(&app, &bot, UNWATCHED, Some(10_000)).await;
        let unwatched: i64 = app
            .count(&format!(
                "SELECT id FROM products WHERE asin = '{UNWATCHED}'"
            ))
            .await;
        // Ingest announces no change of a product nobody watches; such events come from
        // the one-at-a-time paths (consensus, crawl and admin verdicts), or from a watcher
        // who has gone since. A refutation on the unwatched product still goes to matching
        // (it corrects sent emails), and an event another worker holds is not this worker's
        // to finish.
        sqlx::query(
            "INSERT INTO outbox_events (kind, product_id, payload, created_at, claimed_by, claimed_until) \
             VALUES ('price_changed', $1, '{}', 0, NULL, NULL), \
             ('price_refuted', $1, '{}', 0, NULL, NULL), ('price_changed', $1, '{}', 0, 'other', $2)",
        )
        .bind(unwatched)
        .bind(i64::MAX)
        .execute(&app.state.db.write)
        .await
        .unwrap();

        let claim = || async {
            let mut conn = app.state.db.write.acquire().await.unwrap();
            claim_events(
                &mut conn,
                app.state.db.backend,
                "me",
                app.clock_now(),
                Span::minutes(5),
                10,
            )
            .await
            .unwrap()
        };
        let claimed = claim().await;
        // The oldest undone event of each product: both products' first prices.
        assert_eq!(claimed.len(), 2, "{claimed:?}");
        let done = done_unwatched(&app.state, "me", &claimed).await.unwrap();

        let unwatched_event = claimed.iter().find(|e| e.product_id == unwatched).unwrap();
        let watched_event = claimed.iter().find(|e| e.product_id != unwatched).unwrap();
        assert_eq!(done.len(), 1, "{done:?}");
        assert!(done.contains(&unwatched_event.id));
        let state_of = |id: i64| {
            format!("SELECT COUNT(*) FROM outbox_events WHERE id = {id} AND done_at IS NOT NULL AND claimed_by IS NULL")
        };
        assert_eq!(app.count(&state_of(unwatched_event.id)).await, 1);
        assert_eq!(app.count(&state_of(watched_event.id)).await, 0);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM outbox_events WHERE id = {} AND claimed_by = 'me'",
                watched_event.id
            ))
            .await,
            1,
            "the watched product's event stays claimed, for matching"
        );

        // Once the first is done, the unwatched product's refutation is claimed next and
        // stays too; the other worker's event is never touched.
        let next = claim().await;
        assert_eq!(next.len(), 1, "{next:?}");
        assert_eq!(next[0].kind, "price_refuted");
        assert!(done_unwatched(&app.state, "me", &next)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM outbox_events WHERE claimed_by = 'other' AND done_at IS NULL"
            )
            .await,
            1
        );
    }
);

both_engines!(
    unclaimed_price_changes_of_unwatched_products_are_done_without_a_claim,
    |engine: Engine| async move {
        use pricewatch_server::alerts::matching::done_unwatched_unclaimed;
        let (app, sink) = app_with_sink_and(engine, |s| s.alerts.worker_enabled = false).await;
        let bot = trusted_bot(&app, 76).await;
        let token = sign_in(&app, &sink, "watcher@example.org").await;
        subscribe(&app, &token, threshold(9_000)).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        for asin in ["B0UNWATCH1", "B0UNWATCH2", "B0UNWATCH3"] {
            observe(&app, &bot, asin, Some(10_000)).await;
        }
        // Their first prices' events, as the one-at-a-time paths write them (ingest writes
        // none for a product nobody watches).
        sqlx::query(
            "INSERT INTO outbox_events (kind, product_id, payload, created_at) \
             SELECT 'price_changed', id, '{}', 0 FROM products WHERE asin LIKE 'B0UNWATCH%' \
             ORDER BY asin",
        )
        .execute(&app.state.db.write)
        .await
        .unwrap();
        let product = |asin: &str| format!("(SELECT id FROM products WHERE asin = '{asin}')");
        // Another worker holds one unwatched product's event, and one event is a
        // refutation: neither is this step's to finish.
        sqlx::query(&format!(
            "UPDATE outbox_events SET claimed_by = 'other', claimed_until = $1 \
             WHERE product_id = {}",
            product("B0UNWATCH3")
        ))
        .bind(i64::MAX)
        .execute(&app.state.db.write)
        .await
        .unwrap();
        sqlx::query(&format!(
            "INSERT INTO outbox_events (kind, product_id, payload, created_at) \
             VALUES ('price_refuted', {}, '{{}}', 0)",
            product("B0UNWATCH1")
        ))
        .execute(&app.state.db.write)
        .await
        .unwrap();
        let undone = "SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL";
        assert_eq!(app.count(undone).await, 5);
        let done_now = |limit| done_unwatched_unclaimed(&app.state, app.clock_now(), limit);

        // Oldest first, and no more than the limit.
        assert_eq!(done_now(1).await.unwrap(), 1);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM outbox_events WHERE done_at IS NOT NULL AND product_id = {}",
                product("B0UNWATCH1")
            ))
            .await,
            1
        );
        assert_eq!(done_now(10).await.unwrap(), 1);
        assert_eq!(done_now(10).await.unwrap(), 0);

        // Left: the watched product's change, the refutation and the other worker's event,
        // and this step claimed none of them.
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL AND (kind = 'price_refuted' \
                 OR claimed_by = 'other' OR product_id = {})",
                product(ASIN)
            ))
            .await,
            3
        );
        assert_eq!(app.count(undone).await, 3);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM outbox_events WHERE claimed_by IS NOT NULL AND claimed_by <> 'other'")
                .await,
            0
        );

        // Once the other worker's lease has run out, its event is done too.
        sqlx::query("UPDATE outbox_events SET claimed_until = 0 WHERE claimed_by = 'other'")
            .execute(&app.state.db.write)
            .await
            .unwrap();
        assert_eq!(done_now(10).await.unwrap(), 1);
    }
);

both_engines!(
    one_drop_stores_its_alert_text_once_and_each_subscriber_reads_their_own,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 71).await;
        // Three subscribers share a target (one alert decision), a fourth has its own.
        let mut users = Vec::new();
        for (i, minor) in [9_000, 9_000, 9_000, 8_500].into_iter().enumerate() {
            let email = format!("fan{i}@example.org");
            let token = sign_in(&app, &sink, &email).await;
            let id = subscribe(&app, &token, threshold(minor)).await;
            users.push((email, token, id, minor));
        }
        observe(&app, &bot, ASIN, Some(10_000)).await;
        app.clock.advance(Span::minutes(1));
        observe(&app, &bot, ASIN, Some(8_000)).await;
        for (email, ..) in &users {
            let mail = wait_alerts(&sink, email, 1).await;
            assert!(
                mail[0].subject().contains("$80.00"),
                "{}",
                mail[0].subject()
            );
        }

        // The text is stored once per decision, not once per subscriber.
        assert_eq!(
            app.count("SELECT COUNT(*) FROM notification_contents")
                .await,
            2
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM notifications WHERE kind = 'alert' \
                 AND content IS NULL AND content_id IS NOT NULL"
            )
            .await,
            4
        );
        // Each subscriber reads their own alert (their subscription in its key, their
        // threshold), in the list and in the export.
        for (_, token, id, minor) in &users {
            let page: Value = app
                .get_as(token, "/api/notifications")
                .await
                .json()
                .await
                .unwrap();
            let list = page["notifications"].as_array().unwrap();
            assert_eq!(list.len(), 1, "{page}");
            let content = &list[0]["content"];
            assert_eq!(content["key"]["subscription"], *id, "{page}");
            assert_eq!(content["threshold"]["amount_minor"], *minor, "{page}");
            assert_eq!(list[0]["subscription_id"], *id);
            let export: Value = app
                .get_as(token, "/api/account/export")
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(export["notifications"][0]["content"], *content, "{export}");
        }
    }
);

both_engines!(
    a_fan_out_on_a_point_that_already_alerted_skips_the_subscribers_it_reached,
    |engine: Engine| async move {
        use pricewatch_server::alerts::matching::match_and_enqueue;
        use pricewatch_server::alerts::worker::PriceChanged;

        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 72).await;
        for i in 0..3 {
            let token = sign_in(&app, &sink, &format!("again{i}@example.org")).await;
            subscribe(&app, &token, threshold(9_000)).await;
        }
        observe(&app, &bot, ASIN, Some(10_000)).await;
        let db = &app.state.db;
        let product_id: i64 = sqlx::query_scalar("SELECT id FROM products")
            .fetch_one(&db.read)
            .await
            .unwrap();
        let armed: String = sqlx::query_scalar("SELECT state FROM subscriptions LIMIT 1")
            .fetch_one(&db.read)
            .await
            .unwrap();
        let rules = app.state.settings.alerts.rules();
        // The same drop evaluated again from the armed state (as a held alert woken on a
        // point that already alerted would be): the first fan-out on the point inserts
        // plainly, the second must skip every subscriber it already reached, not fail.
        let mut queued = Vec::new();
        for point in [900_001, 900_001, 900_002] {
            sqlx::query("UPDATE subscriptions SET state = $1, armed = 1, wake_at = NULL")
                .bind(&armed)
                .execute(&db.write)
                .await
                .unwrap();
            let payload = PriceChanged {
                product_id,
                price_point_id: point,
                currency: Currency::Usd,
                old_price: Some(10_000),
                new_price: Some(8_000),
                old_availability: Some(Availability::InStock),
                availability: Availability::InStock,
                observed_at: app.clock_now(),
            };
            let mut tx = db.write.begin().await.unwrap();
            queued.push(
                match_and_enqueue(
                    &mut tx,
                    db.backend,
                    product_id,
                    &payload,
                    &rules,
                    app.clock_now(),
                )
                .await
                .unwrap(),
            );
            tx.commit().await.unwrap();
        }
        assert_eq!(queued, [3, 0, 3]);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM notifications WHERE price_point_id = 900001")
                .await,
            3
        );
    }
);

both_engines!(
    a_drop_below_the_threshold_reaches_the_inbox_once_and_the_cooldown_holds_the_rest,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 70).await;
        let token = sign_in(&app, &sink, "shopper@example.org").await;
        subscribe(&app, &token, threshold(9_000)).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        app.clock.advance(Span::minutes(1));

        let started = std::time::Instant::now();
        observe(&app, &bot, ASIN, Some(8_500)).await;
        let first = wait_alerts(&sink, "shopper@example.org", 1).await;

        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            first[0].subject().contains("$85.00"),
            "{}",
            first[0].subject()
        );
        // The same price again, a wiggle, and a real further drop, all within the cooldown.
        for price in [8_500, 8_400, 8_000] {
            app.clock.advance(Span::minutes(5));
            observe(&app, &bot, ASIN, Some(price)).await;
        }
        tokio::time::sleep(QUIET).await;
        assert_eq!(alerts_to(&sink, "shopper@example.org").len(), 1);

        app.clock.advance(Span::hours(6));
        let both = wait_alerts(&sink, "shopper@example.org", 2).await;
        assert!(
            both[1].subject().contains("$80.00"),
            "{}",
            both[1].subject()
        );
        assert!(
            both[1].text().contains("dropped even further")
                || both[1].subject().contains("further")
        );
        tokio::time::sleep(QUIET).await;
        assert_eq!(alerts_to(&sink, "shopper@example.org").len(), 2);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM notifications WHERE kind = 'alert' AND status = 'sent'"
            )
            .await,
            2
        );
    }
);

both_engines!(
    a_back_in_stock_subscription_hears_when_the_product_returns,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 71).await;
        let token = sign_in(&app, &sink, "waiting@example.org").await;
        observe(&app, &bot, ASIN, Some(5_000)).await;
        subscribe(
            &app,
            &token,
            json!({"marketplace": "us", "asin": ASIN, "back_in_stock": true}),
        )
        .await;
        app.clock.advance(Span::minutes(1));
        observe(&app, &bot, ASIN, None).await;
        tokio::time::sleep(QUIET).await;
        assert!(alerts_to(&sink, "waiting@example.org").is_empty());

        app.clock.advance(Span::minutes(1));
        observe(&app, &bot, ASIN, Some(5_200)).await;

        let got = wait_alerts(&sink, "waiting@example.org", 1).await;
        assert!(
            got[0].subject().contains("back in stock"),
            "{}",
            got[0].subject()
        );
    }
);

both_engines!(
    nobody_is_alerted_while_paused_or_above_the_threshold,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 72).await;
        let high = sign_in(&app, &sink, "high@example.org").await;
        let paused = sign_in(&app, &sink, "paused@example.org").await;
        subscribe(&app, &high, threshold(5_000)).await;
        let id = subscribe(&app, &paused, threshold(9_500)).await;
        app.patch_as(
            &paused,
            &format!("/api/subscriptions/{id}"),
            &json!({"paused": true}),
        )
        .await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        app.clock.advance(Span::minutes(1));

        observe(&app, &bot, ASIN, Some(9_000)).await;

        tokio::time::sleep(QUIET).await;
        assert!(alerts_to(&sink, "high@example.org").is_empty());
        assert!(alerts_to(&sink, "paused@example.org").is_empty());
        assert_eq!(
            app.count("SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL")
                .await,
            0,
            "events are processed even when nobody is alerted"
        );
    }
);

both_engines!(
    alerts_sent_while_the_smtp_server_is_down_are_delivered_once_it_is_back,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 73).await;
        let users = ["u1@example.org", "u2@example.org", "u3@example.org"];
        for u in users {
            let token = sign_in(&app, &sink, u).await;
            subscribe(&app, &token, threshold(9_000)).await;
        }
        observe(&app, &bot, ASIN, Some(10_000)).await;
        sink.go_down().await;
        app.clock.advance(Span::minutes(1));

        observe(&app, &bot, ASIN, Some(8_000)).await;
        // Let delivery try (and fail) a few times while the server is down.
        // A busy machine may need more rounds; six stay under the ten attempts that fail a
        // notification for good.
        tokio::time::sleep(QUIET).await;
        let mut failed_tries = 0;
        for _ in 0..6 {
            app.clock.advance(Span::minutes(10));
            tokio::time::sleep(Duration::from_millis(300)).await;
            failed_tries = app
                .count("SELECT COALESCE(MIN(attempts), 0) FROM notifications WHERE kind = 'alert'")
                .await;
            if failed_tries >= 2 {
                break;
            }
        }
        assert!(
            failed_tries >= 2,
            "delivery should have retried, tried {failed_tries}"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM notifications WHERE status = 'failed'")
                .await,
            0,
            "a server that is down is not a permanent failure"
        );
        sink.come_up().await;
        app.clock.advance(Span::hours(2));

        for u in users {
            wait_alerts(&sink, u, 1).await;
        }
        tokio::time::sleep(QUIET).await;
        for u in users {
            assert_eq!(alerts_to(&sink, u).len(), 1, "{u} got a duplicate");
        }
    }
);

both_engines!(
    a_mail_server_that_answers_4xx_is_retried_with_backoff,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink_and(engine, |s| s.alerts.retry_base_secs = 60).await;
        let bot = trusted_bot(&app, 74).await;
        let token = sign_in(&app, &sink, "later@example.org").await;
        subscribe(&app, &token, threshold(9_000)).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        sink.set_mode(Mode::TempFail);
        app.clock.advance(Span::minutes(1));
        let sent_at = app.clock_now();

        observe(&app, &bot, ASIN, Some(8_000)).await;
        tokio::time::sleep(QUIET).await;

        let next = app
            .count("SELECT next_attempt_at FROM notifications WHERE kind = 'alert'")
            .await;
        assert_eq!(
            next,
            (sent_at + Span::seconds(60)).as_millis(),
            "first retry after 60 s"
        );
        app.clock.advance(Span::seconds(61));
        tokio::time::sleep(QUIET).await;
        let next = app
            .count("SELECT next_attempt_at FROM notifications WHERE kind = 'alert'")
            .await;
        assert_eq!(
            next,
            (sent_at + Span::seconds(61) + Span::seconds(120)).as_millis(),
            "the second waits twice as long"
        );
        sink.set_mode(Mode::Accept);
        app.clock.advance(Span::seconds(121));
        wait_alerts(&sink, "later@example.org", 1).await;
    }
);

both_engines!(
    a_permanent_refusal_marks_the_notification_failed_for_the_user_to_see,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 75).await;
        let token = sign_in(&app, &sink, "gone@example.org").await;
        subscribe(&app, &token, threshold(9_000)).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        sink.set_mode(Mode::PermFail);
        app.clock.advance(Span::minutes(1));

        observe(&app, &bot, ASIN, Some(8_000)).await;

        let deadline = std::time::Instant::now() + MAIL_WAIT;
        let failed = loop {
            let page: Value = app
                .get_as(&token, "/api/notifications")
                .await
                .json()
                .await
                .unwrap();
            let n = page["notifications"][0].clone();
            if n["status"] == "failed" {
                break n;
            }
            assert!(std::time::Instant::now() < deadline, "{page}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(failed["kind"], "alert");
        assert_eq!(failed["attempts"], 1, "a 5xx is not retried");
        let why = failed["last_error"].as_str().unwrap();
        assert!(why.contains("550"), "{why}");
        assert_eq!(failed["content"]["price"]["amount_minor"], 8_000);
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(
            metrics.contains("queue_depth{queue=\"notifications_failed\"}"),
            "{metrics}"
        );
    }
);

both_engines!(
    digest_users_get_one_email_a_day_with_every_alert,
    |engine: Engine| async move {
        // T0 is midnight UTC; digests go out at 08:00.
        let (app, sink) = app_with_sink_and(engine, |s| s.alerts.digest_hour_utc = 8).await;
        let bot = trusted_bot(&app, 76).await;
        let token = sign_in(&app, &sink, "digest@example.org").await;
        let res = app
            .patch_as(&token, "/api/account", &json!({"digest": true}))
            .await;
        assert_eq!(res.json::<Value>().await.unwrap()["digest"], true);
        let other = "B000000042";
        subscribe(&app, &token, threshold(9_000)).await;
        subscribe(
            &app,
            &token,
            json!({"marketplace": "us", "asin": other, "threshold_minor": 2_000}),
        )
        .await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        observe(&app, &bot, other, Some(2_500)).await;
        app.clock.advance(Span::hours(1));
        observe(&app, &bot, ASIN, Some(8_000)).await;
        observe(&app, &bot, other, Some(1_900)).await;
        tokio::time::sleep(QUIET).await;
        assert!(
            alerts_to(&sink, "digest@example.org").is_empty(),
            "alerts wait for the digest"
        );

        app.clock.advance(Span::hours(8));

        let got = wait_alerts(&sink, "digest@example.org", 1).await;
        let text = got[0].text();
        assert!(
            got[0].subject().contains("2 products"),
            "{}",
            got[0].subject()
        );
        assert!(text.contains("$80.00") && text.contains("$19.00"), "{text}");
        assert!(got[0].header("List-Unsubscribe").is_some());
        tokio::time::sleep(QUIET).await;
        assert_eq!(
            alerts_to(&sink, "digest@example.org").len(),
            1,
            "one digest a day"
        );
    }
);

both_engines!(
    one_click_unsubscribe_works_without_sign_in_and_a_get_changes_nothing,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 77).await;
        let token = sign_in(&app, &sink, "leaving@example.org").await;
        subscribe(&app, &token, threshold(9_000)).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        app.clock.advance(Span::minutes(1));
        observe(&app, &bot, ASIN, Some(8_000)).await;
        let mail = wait_alerts(&sink, "leaving@example.org", 1).await.remove(0);

        let header = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
        assert_eq!(
            mail.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let url = header
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned();
        assert!(
            url.starts_with("https://pricewatch.test/api/unsubscribe/"),
            "{url}"
        );
        let path = url.trim_start_matches("https://pricewatch.test");
        let page = app.get(path).await;
        assert_eq!(page.status(), 200);
        assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 1);
        let forged = format!("{}x", &path[..path.len() - 1]);
        assert_eq!(
            app.client
                .post(app.url(&forged))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );

        let res = app
            .client
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();

        assert_eq!(res.status(), 200);
        assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 0);
        assert_eq!(app.count("SELECT subscribers FROM products").await, 0);
        let again = app.client.post(app.url(path)).send().await.unwrap();
        assert_eq!(again.status(), 200, "unsubscribing twice is fine");
    }
);

/// A local webhook receiver: records each request's headers and body.
struct Hook {
    url: String,
    got: std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
}

async fn hook() -> Hook {
    use axum::routing::post;
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = got.clone();
    let router = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Hook { url, got }
}

both_engines!(
    webhooks_get_signed_alerts_and_every_channel_gets_a_test,
    |engine: Engine| async move {
        // The receiver is on loopback, which webhooks may not reach by default.
        let (app, sink) =
            app_with_sink_and(engine, |s| s.webhooks.allow_private_addresses = true).await;
        let receiver = hook().await;
        let bot = trusted_bot(&app, 78).await;
        let token = sign_in(&app, &sink, "hooked@example.org").await;
        let me: Value = app
            .patch_as(
                &token,
                "/api/account",
                &json!({"webhook_url": receiver.url}),
            )
            .await
            .json()
            .await
            .unwrap();
        let secret = me["webhook_secret"].as_str().unwrap().to_owned();

        let test = app.post_as(&token, "/api/channels/test", &json!({})).await;
        assert_eq!(test.status(), 202);
        let channels: Value = test.json().await.unwrap();
        assert_eq!(channels["channels"], json!(["email", "webhook"]));
        let tests = wait_alerts(&sink, "hooked@example.org", 1).await;
        assert!(
            tests[0].subject().contains("test"),
            "{}",
            tests[0].subject()
        );

        subscribe(&app, &token, threshold(9_000)).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        app.clock.advance(Span::minutes(1));
        observe(&app, &bot, ASIN, Some(8_000)).await;
        wait_alerts(&sink, "hooked@example.org", 2).await;
        let deadline = std::time::Instant::now() + MAIL_WAIT;
        while receiver.got.lock().unwrap().len() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "webhook calls missing"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let calls = receiver.got.lock().unwrap().clone();
        let (headers, body) = calls
            .iter()
            .find(|(_, b)| b.contains("price_alert"))
            .expect("an alert call");
        let ts: i64 = headers["x-pricewatch-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let expected = pricewatch_server::webhooks::signature(&secret, ts, body.as_bytes());
        assert_eq!(
            headers["x-pricewatch-signature"].to_str().unwrap(),
            expected
        );
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(payload["product"]["asin"], ASIN);
        assert_eq!(payload["content"]["price"]["amount_minor"], 8_000);
        assert!(calls.iter().any(|(_, b)| b.contains("\"type\":\"test\"")));
    }
);

both_engines!(
    a_refuted_price_sends_a_correction_and_rearms_the_alert,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 79).await;
        let token = sign_in(&app, &sink, "fooled@example.org").await;
        let id = subscribe(&app, &token, threshold(9_000)).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        app.clock.advance(Span::minutes(1));
        observe(&app, &bot, ASIN, Some(1_000)).await;
        wait_alerts(&sink, "fooled@example.org", 1).await;
        let fake_point = app.count("SELECT MAX(id) FROM price_points").await;
        let product_id = app.count("SELECT id FROM products").await;
        // The verification crawl sees the real price and refutes the point.
        app.clock.advance(Span::minutes(5));
        observe(&app, &bot, ASIN, Some(9_900)).await;
        let real_point = app.count("SELECT MAX(id) FROM price_points").await;
        app.sql(&format!(
            "UPDATE price_points SET status = 'refuted' WHERE id = {fake_point}"
        ))
        .await;

        let summary = refute(&app, product_id, fake_point, real_point, 9_900).await;

        assert_eq!(summary.queued, 1);
        assert_eq!(summary.restored, 1);
        let got = wait_alerts(&sink, "fooled@example.org", 2).await;
        let correction = &got[1];
        assert!(
            correction.subject().starts_with("Sorry"),
            "{}",
            correction.subject()
        );
        assert!(correction.text().contains("$10.00") && correction.text().contains("$99.00"));
        let sub: Value = app
            .get_as(&token, &format!("/api/subscriptions/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(sub["armed"], true, "the false alarm is undone");
        // The real drop, when it comes, alerts again.
        app.clock.advance(Span::minutes(5));
        observe(&app, &bot, ASIN, Some(8_900)).await;
        let got = wait_alerts(&sink, "fooled@example.org", 3).await;
        assert!(got[2].subject().contains("$89.00"), "{}", got[2].subject());
    }
);

/// Call the crawler's correction step for the refuted point `fake_point`, whose truth
/// `real_price` is stored as `real_point`, in a transaction of its own.
async fn refute(
    app: &TestApp,
    product_id: i64,
    fake_point: i64,
    real_point: i64,
    real_price: i64,
) -> pricewatch_server::alerts::corrections::CorrectionSummary {
    let db = pricewatch_server::db::Db::connect(&app.database_url)
        .await
        .unwrap();
    let mut tx = db.write.begin().await.unwrap();
    // Write first: on SQLite that takes the write lock at once (waiting for the server's
    // worker if need be) instead of failing to upgrade a read lock later.
    sqlx::query("UPDATE products SET version = version WHERE id = $1")
        .bind(product_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let summary = pricewatch_server::alerts::corrections::send_for_refuted_point(
        &mut tx,
        db.backend,
        &pricewatch_server::alerts::AlertSettings::default(),
        product_id,
        PricePointId(fake_point),
        PriceEvent {
            point: PricePointId(real_point),
            price: Some(Money::new(real_price, Currency::Usd)),
            availability: Availability::InStock,
            at: app.clock_now(),
        },
        app.clock_now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    summary
}

/// An alert on a price about to be refuted, caught between the mail server taking it and its
/// delivery task marking it sent: another replica ("replica-b") holds its claim. Returns the
/// alert row's id and the correction step's summary, run while it is in flight.
async fn refute_an_alert_in_flight(
    app: &TestApp,
    sink: &SmtpSink,
    email: &str,
) -> (
    i64,
    pricewatch_server::alerts::corrections::CorrectionSummary,
) {
    let bot = trusted_bot(app, 83).await;
    let token = sign_in(app, sink, email).await;
    subscribe(app, &token, threshold(9_000)).await;
    observe(app, &bot, ASIN, Some(10_000)).await;
    app.clock.advance(Span::minutes(1));
    observe(app, &bot, ASIN, Some(1_000)).await;
    wait_alerts(sink, email, 1).await;
    let fake_point = app.count("SELECT MAX(id) FROM price_points").await;
    let product_id = app.count("SELECT id FROM products").await;
    let alert = app
        .count("SELECT id FROM notifications WHERE kind = 'alert'")
        .await;
    let lease_end = (app.clock_now() + Span::hours(1)).as_millis();
    app.sql(&format!(
        "UPDATE notifications SET status = 'pending', sent_at = NULL, \
         claimed_by = 'replica-b', claimed_until = {lease_end} WHERE id = {alert}"
    ))
    .await;
    app.clock.advance(Span::minutes(5));
    observe(app, &bot, ASIN, Some(9_900)).await;
    let real_point = app.count("SELECT MAX(id) FROM price_points").await;
    app.sql(&format!(
        "UPDATE price_points SET status = 'refuted' WHERE id = {fake_point}"
    ))
    .await;
    let summary = refute(app, product_id, fake_point, real_point, 9_900).await;
    (alert, summary)
}

async fn alert_status(app: &TestApp, alert: i64) -> String {
    let mut conn = app.state.db.write.acquire().await.unwrap();
    sqlx::query_scalar(&format!(
        "SELECT status FROM notifications WHERE id = {alert}"
    ))
    .fetch_one(&mut *conn)
    .await
    .unwrap()
}

both_engines!(
    an_alert_in_flight_is_corrected_after_its_send_is_recorded,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let email = "inflight@example.org";
        let (alert, summary) = refute_an_alert_in_flight(&app, &sink, email).await;
        assert_eq!(summary.queued, 1, "it may have reached the user: corrected");
        assert_eq!(summary.withdrawn, 0, "it cannot be taken back");
        assert_eq!(summary.restored, 1);
        tokio::time::sleep(QUIET).await;
        assert_eq!(
            alerts_to(&sink, email).len(),
            1,
            "the correction waits while the alert is held"
        );

        let mut conn = app.state.db.write.acquire().await.unwrap();
        pricewatch_server::store::notifications::mark_sent(
            &mut conn,
            alert,
            "replica-b",
            app.clock_now(),
        )
        .await
        .unwrap();
        drop(conn);
        assert_eq!(alert_status(&app, alert).await, "sent");
        let got = wait_alerts(&sink, email, 2).await;
        assert!(
            got[1].subject().starts_with("Sorry"),
            "{}",
            got[1].subject()
        );
    }
);

both_engines!(
    an_alert_in_flight_whose_send_fails_is_never_retried,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let email = "retry@example.org";
        let (alert, _) = refute_an_alert_in_flight(&app, &sink, email).await;
        let mut conn = app.state.db.write.acquire().await.unwrap();
        pricewatch_server::store::notifications::mark_retry(
            &mut conn,
            alert,
            "replica-b",
            app.clock_now(),
            "421 try again later",
        )
        .await
        .unwrap();
        drop(conn);
        app.clock.advance(Span::hours(2));
        let got = wait_alerts(&sink, email, 2).await;
        assert!(
            got[1].subject().starts_with("Sorry"),
            "{}",
            got[1].subject()
        );
        tokio::time::sleep(QUIET).await;
        assert_eq!(
            alerts_to(&sink, email).len(),
            2,
            "the alert is not sent again"
        );
        assert_eq!(alert_status(&app, alert).await, "cancelled");
    }
);

/// The real `pricewatch serve` binary, killed when dropped.
struct ServerProcess {
    child: tokio::process::Child,
    base: String,
}

impl ServerProcess {
    /// Start `pricewatch serve` on `database_url`, mailing to `sink`, with extra settings as
    /// environment variables; returns once it listens.
    async fn start(database_url: &str, sink: &SmtpSink, env: &[(&str, &str)]) -> ServerProcess {
        use tokio::io::AsyncBufReadExt;
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_pricewatch"));
        cmd.arg("serve")
            .env("DATABASE_URL", database_url)
            .env("PRICEWATCH_BIND", "127.0.0.1:0")
            .env("PRICEWATCH_PUBLIC_URL", "https://pricewatch.test")
            .env("PRICEWATCH_MAIL__SMTP_HOST", "127.0.0.1")
            .env("PRICEWATCH_MAIL__SMTP_PORT", sink.port().to_string())
            .env("PRICEWATCH_CRAWLER__ENABLED", "false")
            .env("PRICEWATCH_ALERTS__LEASE_SECS", "2")
            .env("PRICEWATCH_ALERTS__POLL_INTERVAL_MS", "100")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("pricewatch starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let base = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("stdout readable") {
                if let Some(url) = line.strip_prefix("PriceWatch listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("pricewatch exited before listening");
        })
        .await
        .expect("pricewatch listens within 30 s");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServerProcess { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no shutdown, no cleanup, as when a machine dies.
    async fn kill(mut self) {
        self.child.start_kill().expect("kill");
        let _ = self.child.wait().await;
    }
}

fn system_now() -> pricewatch_core::Timestamp {
    use pricewatch_server::clock::{Clock, SystemClock};
    SystemClock.now()
}

async fn db_scalar(url: &str, query: &str) -> i64 {
    let db = pricewatch_server::db::Db::connect(url).await.unwrap();
    sqlx::query_scalar(query).fetch_one(&db.read).await.unwrap()
}

async fn db_exec(url: &str, statement: &str) {
    let db = pricewatch_server::db::Db::connect(url).await.unwrap();
    sqlx::query(statement).execute(&db.write).await.unwrap();
}

/// Wait until `query` answers `want`.
async fn wait_db(url: &str, query: &str, want: i64, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let got = db_scalar(url, query).await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{query}: {got}, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Register `bot` through a server and make it the crawler.
async fn crawler_key(server: &ServerProcess, url: &str, bot: &Signer) {
    let client = reqwest::Client::new();
    let res = client
        .post(server.url("/api/reporters"))
        .json(&json!({"public_key": bot.public_key()}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    db_exec(
        url,
        &format!(
            "UPDATE reporters SET kind = 'crawler' WHERE public_key = '{}'",
            bot.public_key()
        ),
    )
    .await;
}

async fn post_price(server: &ServerProcess, bot: &Signer, price: i64) {
    let res = reqwest::Client::new()
        .post(server.url("/api/reports"))
        .json(&json!({"reports": [bot.report("us", ASIN, Some(price), system_now())]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["results"][0]["status"], "accepted", "{body}");
}

both_engines!(
    a_server_killed_holding_an_event_is_replaced_and_the_alert_sent_exactly_once,
    |engine: Engine| async move {
        let (url, _guard) = crate::support::fresh_database(engine).await;
        let sink = SmtpSink::start().await;
        let bot = Signer::new(90);
        let email = "survivor@example.org";
        // Set up with a normal server: a user, a subscription, the price before the drop.
        let setup = ServerProcess::start(&url, &sink, &[]).await;
        crawler_key(&setup, &url, &bot).await;
        let client = reqwest::Client::new();
        client
            .post(setup.url("/api/auth/email"))
            .json(&json!({"email": email}))
            .send()
            .await
            .unwrap();
        let code_mail = sink.wait_for_to(email, 1, MAIL_WAIT).await.remove(0);
        let signed: Value = client
            .post(setup.url("/api/auth/verify"))
            .json(&json!({"email": email, "code": crate::auth::code_of(&code_mail), "client": "extension"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = signed["token"].as_str().unwrap().to_owned();
        let res = client
            .post(setup.url("/api/subscriptions"))
            .bearer_auth(&token)
            .json(&threshold(9_000))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        post_price(&setup, &bot, 10_000).await;
        wait_db(
            &url,
            "SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL",
            0,
            MAIL_WAIT,
        )
        .await;
        setup.kill().await;

        // A server that stops right after claiming, and dies there.
        let doomed = ServerProcess::start(
            &url,
            &sink,
            &[("PRICEWATCH_ALERTS__TEST_PAUSE_AFTER_CLAIM_MS", "60000")],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1_100)).await; // a new observed_at
        post_price(&doomed, &bot, 8_000).await;
        wait_db(
            &url,
            "SELECT COUNT(*) FROM outbox_events WHERE claimed_by IS NOT NULL AND done_at IS NULL",
            1,
            MAIL_WAIT,
        )
        .await;
        doomed.kill().await;
        assert_eq!(sink.to(email).len(), 1, "only the sign-in code so far");

        let heir = ServerProcess::start(&url, &sink, &[]).await;

        let got = sink.wait_for_to(email, 2, Duration::from_secs(20)).await;
        assert!(got[1].subject().contains("$80.00"), "{}", got[1].subject());
        tokio::time::sleep(Duration::from_secs(3)).await; // past another lease
        assert_eq!(sink.to(email).len(), 2, "the alert was sent exactly once");
        assert_eq!(
            db_scalar(
                &url,
                "SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL"
            )
            .await,
            0
        );
        heir.kill().await;
    }
);

/// Three replicas on one PostgreSQL share one product's 10,000 alerts: everyone gets exactly
/// one email. (The slowest test here: well under a minute.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_send_each_of_ten_thousand_subscribers_exactly_one_email() {
    const SUBSCRIBERS: i64 = 10_000;
    let (url, _guard) = crate::support::fresh_database(Engine::Postgres).await;
    let sink = SmtpSink::start().await;
    let bot = Signer::new(91);
    let first = ServerProcess::start(&url, &sink, &[]).await;
    crawler_key(&first, &url, &bot).await;
    post_price(&first, &bot, 10_000).await;
    wait_db(
        &url,
        "SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL",
        0,
        MAIL_WAIT,
    )
    .await;
    db_exec(
        &url,
        &format!(
            "INSERT INTO users (email, role, created_at, updated_at) \
             SELECT 'user' || g || '@example.org', 'user', 0, 0 FROM generate_series(1, {SUBSCRIBERS}) g"
        ),
    )
    .await;
    db_exec(
        &url,
        "INSERT INTO subscriptions (user_id, product_id, target_kind, threshold, currency, \
         back_in_stock, paused, armed, rearm_above, state, created_at, updated_at) \
         SELECT u.id, p.id, 'at_or_below', 9000, 'USD', 0, 0, 1, 9180, \
         '{\"armed\":true,\"latest\":null,\"last_alert\":null,\"pending\":null}', 0, 0 \
         FROM users u CROSS JOIN products p",
    )
    .await;
    db_exec(
        &url,
        &format!("UPDATE products SET subscribers = {SUBSCRIBERS}"),
    )
    .await;
    let second = ServerProcess::start(&url, &sink, &[]).await;
    let third = ServerProcess::start(&url, &sink, &[]).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    post_price(&second, &bot, 8_000).await;

    sink.wait_for_count(SUBSCRIBERS as usize, Duration::from_secs(50))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await; // past a lease: no late duplicates
    let recipients = sink.recipients();
    let distinct: std::collections::HashSet<&String> = recipients.iter().collect();
    assert_eq!(recipients.len(), SUBSCRIBERS as usize, "no duplicates");
    assert_eq!(distinct.len(), SUBSCRIBERS as usize, "nobody missed");
    assert_eq!(
        db_scalar(
            &url,
            "SELECT COUNT(*) FROM notifications WHERE status = 'sent'"
        )
        .await,
        SUBSCRIBERS
    );
    for server in [first, second, third] {
        server.kill().await;
    }
}

both_engines!(
    the_crawlers_price_refuted_event_sends_corrections_in_event_order,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = trusted_bot(&app, 82).await;
        let token = sign_in(&app, &sink, "misled@example.org").await;
        let id = subscribe(&app, &token, threshold(9_000)).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        app.clock.advance(Span::minutes(1));
        observe(&app, &bot, ASIN, Some(1_000)).await;
        wait_alerts(&sink, "misled@example.org", 1).await;
        let fake_point = app.count("SELECT MAX(id) FROM price_points").await;
        let product_id = app.count("SELECT id FROM products").await;

        // What the crawler's verdict writes: the truth as a new point (its price_changed
        // event), the fake point reverted, and a price_refuted event after it.
        app.clock.advance(Span::minutes(5));
        observe(&app, &bot, ASIN, Some(9_950)).await;
        let real_point = app.count("SELECT MAX(id) FROM price_points").await;
        app.sql(&format!(
            "UPDATE price_points SET status = 'reverted' WHERE id = {fake_point}"
        ))
        .await;
        let payload = json!({
            "product_id": product_id, "marketplace": "us", "asin": ASIN,
            "price_point_id": fake_point, "report_id": 1, "currency": "USD",
            "refuted_price": 1_000, "refuted_availability": "in_stock",
            "real_price": 9_950, "availability": "in_stock",
            "real_point_id": real_point, "observed_at": app.clock_now().as_millis(),
        });
        app.sql(&format!(
            "INSERT INTO outbox_events (kind, product_id, price_point_id, payload, created_at) \
             VALUES ('price_refuted', {product_id}, {fake_point}, '{payload}', {})",
            app.clock_now().as_millis()
        ))
        .await;

        let got = wait_alerts(&sink, "misled@example.org", 2).await;
        assert!(
            got[1].subject().starts_with("Sorry"),
            "{}",
            got[1].subject()
        );
        assert!(got[1].text().contains("$99.50"), "{}", got[1].text());
        let deadline = std::time::Instant::now() + MAIL_WAIT;
        while app
            .count("SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL")
            .await
            > 0
        {
            assert!(std::time::Instant::now() < deadline, "events left undone");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let sub: Value = app
            .get_as(&token, &format!("/api/subscriptions/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(sub["armed"], true);
        tokio::time::sleep(QUIET).await;
        assert_eq!(
            alerts_to(&sink, "misled@example.org").len(),
            2,
            "one correction"
        );
    }
);
