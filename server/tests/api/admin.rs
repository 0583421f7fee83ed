//! The admin review queue's actions: approving a held report publishes its price and the
//! alert follows; rejecting a published one reverts it with a correction; banning a key
//! stops its reports at ingest; every action lands in the audit log with who and when; and
//! none of it is open to anyone but admins.

use std::time::Duration;

use pricewatch_core::Span;
use serde_json::{json, Value};

use crate::alerts::{observe, subscribe, trusted_bot};
use crate::auth::{app_with_sink_and, sign_in, AsUser, MAIL_WAIT};
use crate::both_engines;
use crate::smtp_sink::SmtpSink;
use crate::support::{Engine, Signer, TestApp};

const ASIN: &str = "B08N5WRWNW";
const ADMIN: &str = "root@example.org";
const SHOPPER: &str = "shopper@example.org";

/// Long enough for a worker polling every 50 ms to have sent anything it was going to.
const QUIET: Duration = Duration::from_millis(800);

/// A server with an admin signed in; returns the admin's token.
async fn admin_app(engine: Engine) -> (TestApp, SmtpSink, String) {
    let (app, sink) = app_with_sink_and(engine, |s| {
        s.auth.admin_emails = vec![ADMIN.into()];
    })
    .await;
    let admin = sign_in(&app, &sink, ADMIN).await;
    (app, sink, admin)
}

/// A product at $100.00 with a watcher whose alert is at $90.00, then a new key's report of
/// $80.00, which the judge holds. Returns the shopper's token, the key and the report id.
async fn held_drop(app: &TestApp, sink: &SmtpSink) -> (String, Signer, i64) {
    let bot = trusted_bot(app, 60).await;
    let shopper = sign_in(app, sink, SHOPPER).await;
    observe(app, &bot, ASIN, Some(10_000)).await;
    subscribe(
        app,
        &shopper,
        json!({"marketplace": "us", "asin": ASIN, "threshold_minor": 9_000}),
    )
    .await;
    // A watched product: the judge holds a new key's drop rather than publish it.
    app.sql("UPDATE products SET subscribers = 5000").await;
    app.clock.advance(Span::minutes(5));
    let mallory = Signer::new(61);
    app.register(&mallory).await;
    let res = app
        .post_reports(vec![mallory.report(
            "us",
            ASIN,
            Some(8_000),
            app.clock_now(),
        )])
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["results"][0]["status"], "held", "{body}");
    (
        shopper,
        mallory,
        body["results"][0]["report_id"].as_i64().unwrap(),
    )
}

/// Mails to `email` that are not sign-in codes.
fn mails_to(sink: &SmtpSink, email: &str) -> Vec<crate::smtp_sink::Received> {
    sink.to(email)
        .into_iter()
        .filter(|m| !m.subject().contains("sign-in code"))
        .collect()
}

async fn wait_mails(sink: &SmtpSink, email: &str, n: usize) -> Vec<crate::smtp_sink::Received> {
    let deadline = std::time::Instant::now() + MAIL_WAIT;
    loop {
        let got = mails_to(sink, email);
        if got.len() >= n {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expected {n} mails to {email}, got {}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn current_price(app: &TestApp) -> Value {
    let product: Value = app
        .get(&format!("/api/products/us/{ASIN}"))
        .await
        .json()
        .await
        .unwrap();
    product["current_price"]["amount_minor"].clone()
}

async fn audit(app: &TestApp, admin: &str) -> Vec<Value> {
    let log: Value = app
        .get_as(admin, "/api/admin/audit?limit=50")
        .await
        .json()
        .await
        .unwrap();
    log["entries"].as_array().unwrap().clone()
}

both_engines!(
    approving_a_held_report_publishes_its_price_and_the_alert_follows,
    |engine: Engine| async move {
        let (app, sink, admin) = admin_app(engine).await;
        let (_shopper, mallory, id) = held_drop(&app, &sink).await;
        tokio::time::sleep(QUIET).await;
        assert!(
            mails_to(&sink, SHOPPER).is_empty(),
            "a held price alerts no one"
        );
        let queue: Value = app
            .get_as(&admin, "/api/admin/reports?status=held")
            .await
            .json()
            .await
            .unwrap();
        let item = &queue["reports"][0];
        assert_eq!(item["report_id"], id);
        assert_eq!(item["reporter_record"]["reports"], 1);
        assert_eq!(item["reporter_record"]["banned"], false);
        assert!(item["reporter_record"]["score"].as_f64().unwrap() < 1.0);
        assert_eq!(item["crawl"]["state"], "queued", "{item}");
        app.clock.advance(Span::minutes(1));

        let res = app
            .post_as(
                &admin,
                &format!("/api/admin/reports/{id}/approve"),
                &json!({}),
            )
            .await;

        assert_eq!(res.status(), 200);
        let item: Value = res.json().await.unwrap();
        assert_eq!(item["status"], "published", "{item}");
        assert_eq!(item["reporter_record"]["confirmed"], 1);
        assert_eq!(item["review"]["decision"], "approved");
        assert_eq!(item["review"]["by"], ADMIN);
        assert_eq!(current_price(&app).await, 8_000);
        let alerts = wait_mails(&sink, SHOPPER, 1).await;
        assert!(
            alerts[0].subject().contains("$80.00"),
            "{}",
            alerts[0].subject()
        );
        let entries = audit(&app, &admin).await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["action"], "approve");
        assert_eq!(entries[0]["admin"], ADMIN);
        assert_eq!(entries[0]["target"], id.to_string());
        assert_eq!(entries[0]["at"], app.clock_now().as_millis());
        assert_eq!(entries[0]["detail"]["status_before"], "held");
        let again = app
            .post_as(
                &admin,
                &format!("/api/admin/reports/{id}/approve"),
                &json!({}),
            )
            .await;
        assert_eq!(again.status(), 409, "published already");
        let unknown = app
            .post_as(&admin, "/api/admin/reports/999999/approve", &json!({}))
            .await;
        assert_eq!(unknown.status(), 404);
        let keys: Value = app
            .get_as(&admin, "/api/admin/reporters?sort=reports")
            .await
            .json()
            .await
            .unwrap();
        let key = keys["reporters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["public_key"] == mallory.public_key())
            .unwrap();
        assert_eq!(key["confirmed"], 1);
        assert_eq!(key["kind"], "extension");
    }
);

both_engines!(
    rejecting_a_published_report_reverts_its_price_and_corrects_the_alert,
    |engine: Engine| async move {
        let (app, sink, admin) = admin_app(engine).await;
        let (_shopper, mallory, id) = held_drop(&app, &sink).await;
        let approved = app
            .post_as(
                &admin,
                &format!("/api/admin/reports/{id}/approve"),
                &json!({}),
            )
            .await;
        assert_eq!(approved.status(), 200);
        wait_mails(&sink, SHOPPER, 1).await;
        app.clock.advance(Span::minutes(1));

        let res = app
            .post_as(
                &admin,
                &format!("/api/admin/reports/{id}/reject"),
                &json!({}),
            )
            .await;

        assert_eq!(res.status(), 200);
        let item: Value = res.json().await.unwrap();
        assert_eq!(item["status"], "rejected", "{item}");
        assert_eq!(item["review"]["decision"], "rejected");
        // The admin's rejection overturns the approval: one refutation, no confirmation.
        assert_eq!(item["reporter_record"]["confirmed"], 0);
        assert_eq!(item["reporter_record"]["refuted"], 1);
        assert_eq!(current_price(&app).await, 10_000);
        let history: Value = app
            .get(&format!("/api/products/us/{ASIN}/history"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            history["stats"]["lowest"]["price"], 10_000,
            "the reverted point is gone from the chart"
        );
        let mails = wait_mails(&sink, SHOPPER, 2).await;
        assert!(
            // "Correction: ..." when the alert still holds, "Sorry: ... was wrong" if not.
            mails[1].subject().starts_with("Correction") || mails[1].subject().contains("wrong"),
            "{}",
            mails[1].subject()
        );
        let entries = audit(&app, &admin).await;
        assert_eq!(entries[0]["action"], "reject");
        assert_eq!(entries[1]["action"], "approve");
        assert_eq!(
            entries[0]["detail"]["reverted_points"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let again = app
            .post_as(
                &admin,
                &format!("/api/admin/reports/{id}/reject"),
                &json!({}),
            )
            .await;
        assert_eq!(again.status(), 409);
        let queue: Value = app
            .get_as(&admin, "/api/admin/reports?status=rejected")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(queue["reports"][0]["reporter"], mallory.public_key());
    }
);

both_engines!(
    a_banned_key_is_rejected_at_ingest_until_unbanned,
    |engine: Engine| async move {
        let (app, _sink, admin) = admin_app(engine).await;
        let bot = trusted_bot(&app, 62).await;
        observe(&app, &bot, ASIN, Some(10_000)).await;
        let eve = Signer::new(63);
        app.make_trusted(&eve).await;
        let key = eve.public_key();

        let res = app
            .post_as(
                &admin,
                &format!("/api/admin/reporters/{key}/ban"),
                &json!({}),
            )
            .await;

        assert_eq!(res.status(), 200);
        let view: Value = res.json().await.unwrap();
        assert_eq!(view["banned"], true);
        assert_eq!(view["score"], 0.0);
        app.clock.advance(Span::minutes(1));
        let res = app
            .post_reports(vec![eve.report("us", ASIN, Some(10_000), app.clock_now())])
            .await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["results"][0]["status"], "rejected", "{body}");
        assert_eq!(
            body["results"][0]["reasons"][0], "banned_reporter",
            "{body}"
        );

        let res = app
            .post_as(
                &admin,
                &format!("/api/admin/reporters/{key}/unban"),
                &json!({}),
            )
            .await;
        assert_eq!(res.status(), 200);
        app.clock.advance(Span::minutes(1));
        let res = app
            .post_reports(vec![eve.report("us", ASIN, Some(10_000), app.clock_now())])
            .await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["results"][0]["status"], "accepted", "{body}");
        let entries = audit(&app, &admin).await;
        let actions: Vec<&str> = entries
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["unban", "ban"]);
        assert_eq!(entries[1]["target"], key.as_str());
        assert_eq!(entries[1]["detail"]["was_banned"], false);
        let unknown = app
            .post_as(
                &admin,
                &format!("/api/admin/reporters/{}/ban", "ab".repeat(32)),
                &json!({}),
            )
            .await;
        assert_eq!(unknown.status(), 404);
        let malformed = app
            .post_as(&admin, "/api/admin/reporters/nothex/ban", &json!({}))
            .await;
        assert_eq!(malformed.status(), 400);
    }
);

both_engines!(
    a_recrawl_is_recorded_in_the_audit_log,
    |engine: Engine| async move {
        let (app, sink, admin) = admin_app(engine).await;
        let (_shopper, _mallory, id) = held_drop(&app, &sink).await;

        let res = app
            .post_as(
                &admin,
                &format!("/api/admin/reports/{id}/recrawl"),
                &json!({}),
            )
            .await;

        assert_eq!(res.status(), 202);
        let job = res.json::<Value>().await.unwrap()["job_id"].clone();
        let entries = audit(&app, &admin).await;
        assert_eq!(entries[0]["action"], "recrawl");
        assert_eq!(entries[0]["target"], id.to_string());
        assert_eq!(entries[0]["detail"]["job_id"], job);
        let queue: Value = app
            .get_as(&admin, "/api/admin/reports?status=held")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            queue["reports"][0]["crawl"]["job_id"], job,
            "the latest job"
        );
    }
);

both_engines!(
    admin_actions_are_for_admins_only,
    |engine: Engine| async move {
        let (app, sink, admin) = admin_app(engine).await;
        let (shopper, mallory, id) = held_drop(&app, &sink).await;
        let key = mallory.public_key();
        let posts = [
            format!("/api/admin/reports/{id}/approve"),
            format!("/api/admin/reports/{id}/reject"),
            format!("/api/admin/reports/{id}/recrawl"),
            format!("/api/admin/reporters/{key}/ban"),
            format!("/api/admin/reporters/{key}/unban"),
        ];
        for path in &posts {
            let as_user = app.post_as(&shopper, path, &json!({})).await;
            assert_eq!(as_user.status(), 403, "{path}");
            let anonymous = app.post_json(path, &json!({})).await;
            assert_eq!(anonymous.status(), 401, "{path}");
        }
        for path in ["/api/admin/reporters", "/api/admin/audit"] {
            assert_eq!(app.get_as(&shopper, path).await.status(), 403, "{path}");
            assert_eq!(app.get(path).await.status(), 401, "{path}");
        }
        assert!(audit(&app, &admin).await.is_empty(), "nothing was done");
        let queue: Value = app
            .get_as(&admin, "/api/admin/reports?status=held")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(queue["reports"][0]["status"], "held");
        assert_eq!(
            app.get_as(&admin, "/api/admin/reporters?sort=shoe_size")
                .await
                .status(),
            400
        );
    }
);

both_engines!(
    the_crawl_queue_is_counted_by_kind_for_admins,
    |engine: Engine| async move {
        let (app, sink, admin) = admin_app(engine).await;
        let (shopper, _mallory, _id) = held_drop(&app, &sink).await;
        app.clock.advance(Span::minutes(3));

        let res = app.get_as(&admin, "/api/admin/crawl-queue").await;

        assert_eq!(res.status(), 200);
        let queue: Value = res.json().await.unwrap();
        let verify = queue["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["kind"] == "verify")
            .cloned()
            .unwrap_or_else(|| panic!("{queue}"));
        assert_eq!(verify["pending"], 1, "the held report's verification");
        assert_eq!(verify["due"], 1);
        assert_eq!(verify["oldest_due_ms"], 3 * 60_000);
        assert_eq!(queue["at"], app.clock_now().as_millis());
        assert_eq!(
            app.get_as(&shopper, "/api/admin/crawl-queue")
                .await
                .status(),
            403
        );
        assert_eq!(app.get("/api/admin/crawl-queue").await.status(), 401);
    }
);
