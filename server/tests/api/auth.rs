//! Sign-in by emailed code and magic link, sessions, sign-out, roles, account export and
//! deletion. Sign-in emails are read off a real SMTP sink.

use std::time::Duration;

use pricewatch_core::Span;
use pricewatch_server::config::Settings;
use serde_json::{json, Value};

use crate::both_engines;
use crate::smtp_sink::{Received, SmtpSink};
use crate::support::{spawn_app_with, Engine, TestApp};

/// How long tests wait for an email.
pub const MAIL_WAIT: Duration = Duration::from_secs(10);

/// Point a server at the sink, fast polling, no crawler (tests have no Amazon to crawl).
pub fn use_sink(s: &mut Settings, sink: &SmtpSink) {
    s.mail.smtp_host = "127.0.0.1".into();
    s.mail.smtp_port = sink.port();
    s.mail.timeout_secs = 5;
    s.alerts.poll_interval_ms = 50;
    s.crawler.enabled = false;
    s.public_url = "https://pricewatch.test".into();
}

/// A server on `engine` sending mail to a fresh sink.
pub async fn app_with_sink(engine: Engine) -> (TestApp, SmtpSink) {
    app_with_sink_and(engine, |_| {}).await
}

/// As [`app_with_sink`], with more settings.
pub async fn app_with_sink_and(
    engine: Engine,
    tweak: impl FnOnce(&mut Settings),
) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(engine, |s| {
        use_sink(s, &sink);
        tweak(s);
    })
    .await;
    (app, sink)
}

/// The six-digit code of a sign-in email.
#[track_caller]
pub fn code_of(mail: &Received) -> String {
    let subject = mail.subject();
    subject
        .rsplit(' ')
        .next()
        .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {subject:?}"))
        .to_owned()
}

/// The magic link's token of a sign-in email.
#[track_caller]
pub fn link_token_of(mail: &Received) -> String {
    let text = mail.text();
    let start = text.find("signin?token=").expect("a sign-in link") + "signin?token=".len();
    text[start..]
        .split_whitespace()
        .next()
        .expect("a token")
        .to_owned()
}

/// Requests with a bearer token.
#[allow(async_fn_in_trait)]
pub trait AsUser {
    async fn get_as(&self, token: &str, path: &str) -> reqwest::Response;
    async fn post_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response;
    async fn patch_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response;
    async fn delete_as(&self, token: &str, path: &str) -> reqwest::Response;
}

impl AsUser for TestApp {
    async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
    async fn post_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }
    async fn patch_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }
    async fn delete_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

/// Ask for a code and return the email that brought it.
pub async fn request_code(app: &TestApp, sink: &SmtpSink, email: &str) -> Received {
    let before = sink.to(email).len();
    let res = app
        .post_json("/api/auth/email", &json!({ "email": email }))
        .await;
    assert_eq!(
        res.status(),
        202,
        "{}",
        res.text().await.unwrap_or_default()
    );
    sink.wait_for_to(email, before + 1, MAIL_WAIT)
        .await
        .pop()
        .unwrap()
}

/// Sign in as the extension does and return the bearer token.
pub async fn sign_in(app: &TestApp, sink: &SmtpSink, email: &str) -> String {
    let mail = request_code(app, sink, email).await;
    let res = app
        .post_json(
            "/api/auth/verify",
            &json!({"email": email, "code": code_of(&mail), "client": "extension"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["token"].as_str().expect("a bearer token").to_owned()
}

both_engines!(
    a_code_from_the_email_signs_the_extension_in_with_a_bearer_token,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let mail = request_code(&app, &sink, "Alice@Example.org").await;

        let res = app
            .post_json(
                "/api/auth/verify",
                &json!({"email": "alice@example.org", "code": code_of(&mail), "client": "extension"}),
            )
            .await;

        assert_eq!(res.status(), 200);
        assert!(res.headers().get("set-cookie").is_none());
        let body: Value = res.json().await.unwrap();
        let token = body["token"].as_str().unwrap();
        assert_eq!(body["user"]["email"], "alice@example.org");
        let me: Value = app.get_as(token, "/api/me").await.json().await.unwrap();
        assert_eq!(me["email"], "alice@example.org");
        assert_eq!(me["role"], "user");
        assert!(mail.text().contains("signin?token="), "{}", mail.text());
    }
);

both_engines!(
    a_magic_link_signs_the_website_in_with_an_http_only_lax_cookie,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let mail = request_code(&app, &sink, "bob@example.org").await;

        let res = app
            .post_json("/api/auth/verify", &json!({"token": link_token_of(&mail)}))
            .await;

        assert_eq!(res.status(), 200);
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("pw_session="), "{cookie}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
        let body: Value = res.json().await.unwrap();
        assert!(
            body["token"].is_null(),
            "the website gets no token in the body"
        );
        let pair = cookie.split(';').next().unwrap();
        let me = app
            .client
            .get(app.url("/api/me"))
            .header("cookie", pair)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
    }
);

both_engines!(codes_and_links_work_once, |engine: Engine| async move {
    let (app, sink) = app_with_sink(engine).await;
    let mail = request_code(&app, &sink, "carol@example.org").await;
    let code = json!({"email": "carol@example.org", "code": code_of(&mail)});
    assert_eq!(app.post_json("/api/auth/verify", &code).await.status(), 200);

    let again = app.post_json("/api/auth/verify", &code).await;
    let link = app
        .post_json("/api/auth/verify", &json!({"token": link_token_of(&mail)}))
        .await;

    assert_eq!(again.status(), 400);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"], "invalid_code");
    assert_eq!(body["field"], "code");
    assert_eq!(link.status(), 400, "the link of a used sign-in is dead too");
});

both_engines!(codes_and_links_expire, |engine: Engine| async move {
    let (app, sink) = app_with_sink_and(engine, |s| s.auth.code_ttl_secs = 600).await;
    let mail = request_code(&app, &sink, "dave@example.org").await;
    app.clock.advance(Span::seconds(601));

    let by_code = app
        .post_json(
            "/api/auth/verify",
            &json!({"email": "dave@example.org", "code": code_of(&mail)}),
        )
        .await;
    let by_link = app
        .post_json("/api/auth/verify", &json!({"token": link_token_of(&mail)}))
        .await;

    assert_eq!(by_code.status(), 400);
    assert_eq!(by_link.status(), 400);
});

both_engines!(
    wrong_codes_use_up_the_sign_in_after_five_tries,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let mail = request_code(&app, &sink, "erin@example.org").await;
        let right = code_of(&mail);
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        for _ in 0..5 {
            let res = app
                .post_json(
                    "/api/auth/verify",
                    &json!({"email": "erin@example.org", "code": wrong}),
                )
                .await;
            assert_eq!(res.status(), 400);
        }

        let res = app
            .post_json(
                "/api/auth/verify",
                &json!({"email": "erin@example.org", "code": right}),
            )
            .await;

        assert_eq!(
            res.status(),
            400,
            "guessing a million codes must not be possible"
        );
    }
);

both_engines!(
    sign_in_emails_are_rate_limited_per_address,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink_and(engine, |s| s.auth.emails_per_hour = 2).await;
        request_code(&app, &sink, "frank@example.org").await;
        request_code(&app, &sink, "frank@example.org").await;

        let third = app
            .post_json("/api/auth/email", &json!({"email": "frank@example.org"}))
            .await;
        app.clock.advance(Span::minutes(61));
        let later = app
            .post_json("/api/auth/email", &json!({"email": "frank@example.org"}))
            .await;

        assert_eq!(third.status(), 429);
        assert!(third.headers().contains_key("retry-after"));
        assert_eq!(later.status(), 202);
    }
);

both_engines!(
    only_hashes_of_codes_links_and_sessions_are_stored,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let mail = request_code(&app, &sink, "gina@example.org").await;
        let code = code_of(&mail);
        let link = link_token_of(&mail);
        let res = app
            .post_json(
                "/api/auth/verify",
                &json!({"email": "gina@example.org", "code": code, "client": "extension"}),
            )
            .await;
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();

        for (what, secret) in [("code", &code), ("link", &link), ("session", &token)] {
            let hits = app
                .count(&format!(
                    "SELECT (SELECT COUNT(*) FROM login_tokens WHERE code_hash LIKE '%{secret}%' \
                     OR link_hash LIKE '%{secret}%') + \
                     (SELECT COUNT(*) FROM sessions WHERE token_hash LIKE '%{secret}%')"
                ))
                .await;
            assert_eq!(hits, 0, "the {what} is stored in the clear");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    }
);

both_engines!(sign_out_revokes_the_session, |engine: Engine| async move {
    let (app, sink) = app_with_sink(engine).await;
    let token = sign_in(&app, &sink, "hank@example.org").await;
    assert_eq!(app.get_as(&token, "/api/me").await.status(), 200);

    let res = app.post_as(&token, "/api/auth/signout", &json!({})).await;

    assert_eq!(res.status(), 204);
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(app.get_as(&token, "/api/me").await.status(), 401);
    assert_eq!(app.get("/api/me").await.status(), 401);
});

both_engines!(
    admins_come_from_the_config_and_others_get_403_on_admin_routes,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink_and(engine, |s| {
            s.auth.admin_emails = vec!["Root@Example.org".into()];
        })
        .await;
        let admin = sign_in(&app, &sink, "root@example.org").await;
        let user = sign_in(&app, &sink, "ivy@example.org").await;

        let as_admin = app.get_as(&admin, "/api/admin/reports?status=held").await;
        let as_user = app.get_as(&user, "/api/admin/reports?status=held").await;
        let anonymous = app.get("/api/admin/reports").await;

        assert_eq!(as_admin.status(), 200);
        let body: Value = as_admin.json().await.unwrap();
        assert!(body["reports"].is_array());
        assert_eq!(as_user.status(), 403);
        assert_eq!(anonymous.status(), 401);
        let me: Value = app.get_as(&admin, "/api/me").await.json().await.unwrap();
        assert_eq!(me["role"], "admin");
    }
);

both_engines!(
    the_review_queue_lists_held_reports_with_their_reasons,
    |engine: Engine| async move {
        use crate::support::{Signer, T0};
        let (app, sink) = app_with_sink_and(engine, |s| {
            s.auth.admin_emails = vec!["root@example.org".into()]
        })
        .await;
        let admin = sign_in(&app, &sink, "root@example.org").await;
        let bot = Signer::new(40);
        let mallory = Signer::new(41);
        app.make_crawler(&bot).await;
        app.register(&mallory).await;
        app.post_reports(vec![bot.report(
            "us",
            "B08N5WRWNW",
            Some(99_900),
            T0 - Span::hours(1),
        )])
        .await;
        app.sql("UPDATE products SET subscribers = 5000").await;
        let res = app
            .post_reports(vec![mallory.report("us", "B08N5WRWNW", Some(1), T0)])
            .await;
        let judged: Value = res.json().await.unwrap();
        let status = judged["results"][0]["status"].as_str().unwrap().to_owned();

        let queue: Value = app
            .get_as(&admin, &format!("/api/admin/reports?status={status}"))
            .await
            .json()
            .await
            .unwrap();

        let item = &queue["reports"][0];
        assert_eq!(item["asin"], "B08N5WRWNW");
        assert_eq!(item["price_minor"], 1);
        assert!(!item["reasons"].as_array().unwrap().is_empty(), "{item}");
        assert_eq!(item["reporter"], mallory.public_key());
    }
);

both_engines!(
    an_account_is_exported_and_deleted_with_all_its_data,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let token = sign_in(&app, &sink, "jill@example.org").await;
        let res = app
            .post_as(
                &token,
                "/api/subscriptions",
                &json!({"marketplace": "us", "asin": "B08N5WRWNW", "threshold_minor": 5000}),
            )
            .await;
        assert_eq!(res.status(), 201);

        let export = app.get_as(&token, "/api/account/export").await;
        assert_eq!(export.status(), 200);
        let data: Value = export.json().await.unwrap();
        assert_eq!(data["user"]["email"], "jill@example.org");
        assert_eq!(data["subscriptions"][0]["asin"], "B08N5WRWNW");
        assert_eq!(data["sessions"].as_array().unwrap().len(), 1);

        let deleted = app.delete_as(&token, "/api/account").await;

        assert_eq!(deleted.status(), 204);
        assert_eq!(app.get_as(&token, "/api/me").await.status(), 401);
        for table in [
            "users",
            "sessions",
            "subscriptions",
            "login_tokens",
            "notifications",
        ] {
            assert_eq!(
                app.count(&format!("SELECT COUNT(*) FROM {table}")).await,
                0,
                "{table} still holds the user's data"
            );
        }
        assert_eq!(app.count("SELECT subscribers FROM products").await, 0);
    }
);

both_engines!(
    a_malformed_address_is_refused_naming_the_field,
    |engine: Engine| async move {
        let (app, _sink) = app_with_sink(engine).await;
        let res = app
            .post_json("/api/auth/email", &json!({"email": "not-an-address"}))
            .await;
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], "email");
    }
);
