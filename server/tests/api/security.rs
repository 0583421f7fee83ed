//! Cross-site request forgery on cookie sessions, and webhooks that would reach the server's
//! own network (SSRF).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::auth::{
    app_with_sink, app_with_sink_and, link_token_of, request_code, sign_in, AsUser, MAIL_WAIT,
};
use crate::both_engines;
use crate::smtp_sink::SmtpSink;
use crate::support::{Engine, TestApp};

/// Sign the website in by magic link; returns the `pw_session=...` cookie pair.
async fn website_session(app: &TestApp, sink: &SmtpSink, email: &str) -> String {
    let mail = request_code(app, sink, email).await;
    let res = app
        .post_json("/api/auth/verify", &json!({"token": link_token_of(&mail)}))
        .await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    cookie.split(';').next().unwrap().to_owned()
}

async fn digest_of(app: &TestApp, cookie: &str) -> Value {
    let me: Value = reqwest::Client::new()
        .get(app.url("/api/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["digest"].clone()
}

both_engines!(
    cookie_requests_that_change_things_need_the_csrf_header_or_our_origin,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let cookie = website_session(&app, &sink, "csrf@example.org").await;
        // A client that sends only what a cross-site form would: the cookie.
        let bare = reqwest::Client::new();
        let patch = |digest: bool| {
            bare.patch(app.url("/api/account"))
                .header("cookie", &cookie)
                .json(&json!({ "digest": digest }))
        };

        let forged = patch(true).send().await.unwrap();
        let cross_site = patch(true)
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();

        assert_eq!(forged.status(), 403);
        let body: Value = forged.json().await.unwrap();
        assert_eq!(body["error"], "csrf", "{body}");
        assert_eq!(cross_site.status(), 403);
        assert_eq!(digest_of(&app, &cookie).await, false, "nothing changed");

        let from_site = patch(true)
            .header("x-pricewatch-csrf", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(from_site.status(), 200);
        assert_eq!(digest_of(&app, &cookie).await, true);
        let same_origin = patch(false)
            .header("origin", app.base.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(same_origin.status(), 200, "a same-origin form post");
        assert_eq!(digest_of(&app, &cookie).await, false);
        let signout = bare
            .post(app.url("/api/auth/signout"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(signout.status(), 403, "no forged sign-outs either");

        // The extension's bearer token is not sent by browsers on their own: no header needed.
        let token = sign_in(&app, &sink, "bearer@example.org").await;
        let res = bare
            .patch(app.url("/api/account"))
            .bearer_auth(&token)
            .json(&json!({"digest": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
);

/// A listener on loopback that counts the connections it gets.
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (format!("http://localhost:{port}/hook"), hits)
}

both_engines!(
    webhooks_may_not_point_inside_the_servers_network,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let token = sign_in(&app, &sink, "hooks@example.org").await;
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://[::1]:9000/",
            "http://localhost:9000/",
        ] {
            let res = app
                .patch_as(&token, "/api/account", &json!({ "webhook_url": url }))
                .await;
            assert_eq!(res.status(), 400, "{url}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["field"], "webhook_url", "{url}");
        }
        let me: Value = app.get_as(&token, "/api/me").await.json().await.unwrap();
        assert!(me["webhook_url"].is_null());

        // A URL stored before (or a name that resolved elsewhere when it was saved): the
        // request itself is refused after resolution, and for good.
        let (url, hits) = counting_listener().await;
        app.sql(&format!(
            "UPDATE users SET webhook_url = '{url}', webhook_secret = 's' \
             WHERE email = 'hooks@example.org'"
        ))
        .await;
        let res = app.post_as(&token, "/api/channels/test", &json!({})).await;
        assert_eq!(res.status(), 202);
        let deadline = std::time::Instant::now() + MAIL_WAIT;
        let webhook = loop {
            let page: Value = app
                .get_as(&token, "/api/notifications")
                .await
                .json()
                .await
                .unwrap();
            let row = page["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["channel"] == "webhook")
                .cloned();
            if let Some(row) = row.filter(|r| r["status"] != "pending") {
                break row;
            }
            assert!(std::time::Instant::now() < deadline, "{page}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(webhook["status"], "failed", "{webhook}");
        assert!(
            webhook["last_error"].as_str().unwrap().contains("private"),
            "{webhook}"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing connected");
    }
);

both_engines!(
    a_switch_lets_webhooks_reach_a_local_receiver,
    |engine: Engine| async move {
        let (app, sink) =
            app_with_sink_and(engine, |s| s.webhooks.allow_private_addresses = true).await;
        let token = sign_in(&app, &sink, "local@example.org").await;
        let (url, hits) = counting_listener().await;

        let res = app
            .patch_as(&token, "/api/account", &json!({ "webhook_url": url }))
            .await;

        assert_eq!(res.status(), 200);
        app.post_as(&token, "/api/channels/test", &json!({})).await;
        let deadline = std::time::Instant::now() + MAIL_WAIT;
        while hits.load(Ordering::SeqCst) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the receiver was never called"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
);
