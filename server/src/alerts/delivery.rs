//! Delivery: the notifications table is the queue. Each replica's delivery task claims due
//! rows under a lease, composes them (batch-wide caches: one product's chart is drawn once
//! for its ten thousand subscribers), sends them concurrently (pooled SMTP, webhooks), then
//! settles every row: sent, retry later (exponential backoff), or failed.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use pricewatch_core::alert::AlertContent;
use pricewatch_core::correction::Correction;
use pricewatch_core::{Marketplace, Money, Span, Timestamp};
use serde_json::json;
use sqlx::{AnyConnection, Row};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::auth::UnsubscribeToken;
use crate::mail::chart::{self, Stretch};
use crate::mail::mailer::Outgoing;
use crate::mail::templates::{self, AlertMail, DigestItem, Links, ProductInfo, Rendered};
use crate::mail::SendError;
use crate::state::AppState;
use crate::store::notifications::{self, channel, kind, Claimed};
use crate::store::users::User;

/// The delivery task: deliver until the queue has nothing due, then wait for news.
pub async fn run(state: AppState, worker: Arc<str>, mut stop: watch::Receiver<bool>) {
    let interval = state.settings.alerts.poll_interval();
    loop {
        while !*stop.borrow() {
            match deliver_batch(&state, &worker).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "delivery round failed");
                    break;
                }
            }
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = state.wakeup.delivery.notified() => {}
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// What one message needs to know about its product.
#[derive(Debug, Clone)]
struct ProductCtx {
    marketplace: Marketplace,
    asin: String,
    title: Option<String>,
    currency: pricewatch_core::Currency,
    version: i64,
    all_time_low: Option<i64>,
}

impl ProductCtx {
    fn info(&self, public_url: &str) -> ProductInfo<'_> {
        let amazon_url = pricewatch_core::Asin::parse(&self.asin).map_or_else(
            |_| format!("{}/dp/{}", self.marketplace.base_url(), self.asin),
            |a| self.marketplace.product_url(&a),
        );
        ProductInfo {
            title: self.title.as_deref(),
            marketplace: self.marketplace,
            asin: &self.asin,
            amazon_url,
            chart_url: format!(
                "{public_url}{}",
                crate::web::product_path(self.marketplace.code(), &self.asin)
            ),
        }
    }
}

/// Reads shared by the messages of one batch.
struct BatchCtx<'a> {
    state: &'a AppState,
    public_url: String,
    products: HashMap<i64, Option<ProductCtx>>,
    users: HashMap<i64, User>,
    previous_prices: HashMap<(i64, i64), Option<i64>>,
}

/// Why a message could not be composed.
#[derive(Debug, thiserror::Error)]
enum ComposeError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("unreadable notification: {0}")]
    Content(#[from] serde_json::Error),
    #[error("{0}")]
    Gone(&'static str),
}

impl<'a> BatchCtx<'a> {
    async fn product(
        &mut self,
        conn: &mut AnyConnection,
        id: i64,
    ) -> Result<Option<ProductCtx>, ComposeError> {
        if let Some(p) = self.products.get(&id) {
            return Ok(p.clone());
        }
        let row = sqlx::query(
            "SELECT p.marketplace, p.asin, p.title, p.currency, p.version, \
             (SELECT MIN(pp.price) FROM price_points pp WHERE pp.product_id = p.id \
                AND pp.status = 'published' AND pp.price IS NOT NULL \
                AND pp.availability <> 'out_of_stock') AS low \
             FROM products p WHERE p.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let ctx = match row {
            None => None,
            Some(r) => {
                let marketplace: String = r.try_get("marketplace")?;
                let currency: String = r.try_get("currency")?;
                match (
                    marketplace.parse::<Marketplace>(),
                    currency.parse::<pricewatch_core::Currency>(),
                ) {
                    (Ok(marketplace), Ok(currency)) => Some(ProductCtx {
                        marketplace,
                        asin: r.try_get("asin")?,
                        title: r.try_get("title")?,
                        currency,
                        version: r.try_get("version")?,
                        all_time_low: r.try_get("low")?,
                    }),
                    _ => None,
                }
            }
        };
        self.products.insert(id, ctx.clone());
        Ok(ctx)
    }

    async fn previous_price(
        &mut self,
        conn: &mut AnyConnection,
        product_id: i64,
        point_id: i64,
    ) -> Result<Option<i64>, ComposeError> {
        if let Some(p) = self.previous_prices.get(&(product_id, point_id)) {
            return Ok(*p);
        }
        let price: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT price FROM price_points WHERE product_id = $1 AND id < $2 \
             AND status = 'published' ORDER BY id DESC LIMIT 1",
        )
        .bind(product_id)
        .bind(point_id)
        .fetch_optional(&mut *conn)
        .await?;
        let price = price.flatten();
        self.previous_prices.insert((product_id, point_id), price);
        Ok(price)
    }

    /// The product's chart with this threshold, drawn once per product version.
    async fn chart(
        &mut self,
        conn: &mut AnyConnection,
        product_id: i64,
        product: &ProductCtx,
        threshold: Option<Money>,
        now: Timestamp,
    ) -> Result<Option<Vec<u8>>, ComposeError> {
        let threshold = threshold.map(|t| t.amount_minor);
        let key = (
            product_id,
            format!("mail-png-{}-{}", product.version, threshold.unwrap_or(-1)),
        );
        if let Some(hit) = self.state.charts.get(&key) {
            return Ok(Some(hit.to_vec()));
        }
        let since = now - Span::days(self.state.settings.alerts.chart_days.max(1));
        let stored =
            crate::store::points::since(&mut *conn, product_id, product.currency, since).await?;
        let history: Vec<Stretch> = stored
            .iter()
            .map(|p| Stretch {
                from: p.point.first_seen_at.as_millis().max(since.as_millis()),
                to: p
                    .point
                    .last_seen_at
                    .as_millis()
                    .max(p.point.first_seen_at.as_millis() + 1),
                price: p
                    .point
                    .is_buyable()
                    .then_some(p.point.price)
                    .flatten()
                    .map(|m| m.amount_minor),
            })
            .collect();
        match chart::render(&history, threshold) {
            Ok(png) => {
                self.state.charts.put(key, Bytes::from(png.clone()));
                Ok(Some(png))
            }
            Err(e) => {
                tracing::debug!(product_id, error = %e, "no chart for this alert");
                Ok(None)
            }
        }
    }
}

/// A composed message.
enum Composed {
    Email(Box<Outgoing>),
    Webhook {
        url: String,
        secret: String,
        payload: serde_json::Value,
    },
}

/// The outcome of one notification.
struct Settled {
    id: i64,
    attempts: i64,
    result: Result<(), SendError>,
}

/// Claim, compose, send and settle one batch. Returns how many were claimed.
async fn deliver_batch(state: &AppState, worker: &str) -> anyhow::Result<usize> {
    let settings = &state.settings.alerts;
    let now = state.clock.now();
    let claimed = {
        let mut conn = state.db.write.acquire().await?;
        notifications::claim_due(
            &mut conn,
            state.db.backend,
            worker,
            now,
            settings.lease(),
            settings.delivery_batch.max(1),
        )
        .await?
    };
    if claimed.is_empty() {
        return Ok(0);
    }
    let count = claimed.len();
    let mut ctx = BatchCtx {
        state,
        public_url: state.settings.public_url.trim_end_matches('/').to_owned(),
        products: HashMap::new(),
        users: HashMap::new(),
        previous_prices: HashMap::new(),
    };
    let mut conn = state.db.read.acquire().await?;
    load_users(&mut conn, &mut ctx, &claimed).await?;

    let mut sends = JoinSet::new();
    let mut settled = Vec::with_capacity(count);
    for n in claimed {
        match compose(&mut conn, &mut ctx, &n, now).await {
            Ok(message) => {
                let state = state.clone();
                sends.spawn(async move {
                    let result = send(&state, n.id, message).await;
                    Settled {
                        id: n.id,
                        attempts: n.attempts,
                        result,
                    }
                });
            }
            Err(ComposeError::Db(e)) => {
                tracing::warn!(notification_id = n.id, error = %e, "composing failed; will retry");
                settled.push(Settled {
                    id: n.id,
                    attempts: n.attempts,
                    result: Err(SendError::Transient("a temporary server error".into())),
                });
            }
            Err(e) => {
                tracing::error!(notification_id = n.id, error = %e, "cannot compose notification");
                settled.push(Settled {
                    id: n.id,
                    attempts: n.attempts,
                    result: Err(SendError::Permanent(e.to_string())),
                });
            }
        }
    }
    drop(conn);
    while let Some(done) = sends.join_next().await {
        match done {
            Ok(s) => settled.push(s),
            Err(e) => tracing::error!(error = %e, "a send task failed; its lease will release it"),
        }
    }
    settle(state, worker, &settled).await?;
    Ok(count)
}

async fn load_users(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx<'_>,
    claimed: &[Claimed],
) -> Result<(), sqlx::Error> {
    let mut ids: Vec<i64> = claimed.iter().map(|n| n.user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT id, email, role, digest, webhook_url, webhook_secret, created_at FROM users \
             WHERE id IN ({})",
            crate::store::numbered_params(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let user = User {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
                role: r.try_get("role")?,
                digest: r.try_get::<i64, _>("digest")? != 0,
                webhook_url: r.try_get("webhook_url")?,
                webhook_secret: r.try_get("webhook_secret")?,
                created_at: r.try_get("created_at")?,
            };
            ctx.users.insert(user.id, user);
        }
    }
    Ok(())
}

fn links_for(ctx: &BatchCtx<'_>, subscription_id: Option<i64>, user_id: i64) -> Links {
    let token = ctx.state.secrets.unsubscribe_token(match subscription_id {
        Some(id) => UnsubscribeToken::Subscription(id),
        None => UnsubscribeToken::AllOf(user_id),
    });
    Links {
        unsubscribe: format!("{}/api/unsubscribe/{token}", ctx.public_url),
        manage: format!("{}/account", ctx.public_url),
    }
}

fn message_id(public_url: &str, id: i64) -> String {
    let host = reqwest::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "pricewatch.invalid".into());
    format!("<notification-{id}@{host}>")
}

fn email(
    to: &str,
    r: Rendered,
    unsubscribe: Option<String>,
    png: Option<Vec<u8>>,
    id: i64,
    public_url: &str,
) -> Composed {
    Composed::Email(Box::new(Outgoing {
        to: to.to_owned(),
        subject: r.subject,
        text: r.text,
        html: r.html,
        inline_png: png.map(|p| ("chart".to_owned(), p)),
        unsubscribe_url: unsubscribe,
        message_id: Some(message_id(public_url, id)),
    }))
}

async fn compose(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx<'_>,
    n: &Claimed,
    now: Timestamp,
) -> Result<Composed, ComposeError> {
    let user = ctx
        .users
        .get(&n.user_id)
        .cloned()
        .ok_or(ComposeError::Gone("the user no longer exists"))?;
    let product = match n.product_id {
        Some(id) => ctx.product(conn, id).await?,
        None => None,
    };
    let links = links_for(ctx, n.subscription_id, n.user_id);
    let public_url = ctx.public_url.clone();

    if n.channel == channel::WEBHOOK {
        let (Some(url), Some(secret)) = (user.webhook_url.clone(), user.webhook_secret.clone())
        else {
            return Err(ComposeError::Gone("the webhook was removed"));
        };
        let product_json = product.as_ref().map(|p| {
            let info = p.info(&public_url);
            json!({
                "marketplace": p.marketplace.code(),
                "asin": p.asin,
                "title": p.title,
                "url": info.amazon_url,
                "chart_url": info.chart_url,
            })
        });
        let content: serde_json::Value = serde_json::from_str(&n.content)?;
        let event = match n.kind.as_str() {
            kind::ALERT => "price_alert",
            kind::CORRECTION => "correction",
            _ => "test",
        };
        let payload = json!({
            "type": event,
            "notification_id": n.id,
            "product": product_json,
            "content": content,
            "unsubscribe_url": n.subscription_id.map(|_| links.unsubscribe.clone()),
        });
        return Ok(Composed::Webhook {
            url,
            secret,
            payload,
        });
    }

    match n.kind.as_str() {
        kind::ALERT => {
            let alert: AlertContent = serde_json::from_str(&n.content)?;
            let p = product.ok_or(ComposeError::Gone("the product no longer exists"))?;
            let product_id = n.product_id.unwrap_or_default();
            let old = ctx
                .previous_price(conn, product_id, alert.key.point.0)
                .await?
                .map(|m| Money::new(m, p.currency));
            let png = ctx
                .chart(conn, product_id, &p, alert.threshold, now)
                .await?;
            let mail = AlertMail {
                product: p.info(&public_url),
                alert: &alert,
                old_price: old,
                all_time_low: p.all_time_low.map(|m| Money::new(m, p.currency)),
                chart_cid: png.as_ref().map(|_| "chart"),
                links: links.clone(),
            };
            let rendered = templates::alert(&mail);
            Ok(email(
                &user.email,
                rendered,
                Some(links.unsubscribe),
                png,
                n.id,
                &public_url,
            ))
        }
        kind::CORRECTION => {
            let correction: Correction = serde_json::from_str(&n.content)?;
            let p = product.ok_or(ComposeError::Gone("the product no longer exists"))?;
            let rendered = templates::correction(&p.info(&public_url), &correction, &links);
            Ok(email(
                &user.email,
                rendered,
                Some(links.unsubscribe),
                None,
                n.id,
                &public_url,
            ))
        }
        kind::DIGEST => {
            let rows = sqlx::query(&format!(
                "SELECT n.subscription_id, n.product_id, {} AS content FROM notifications n {} \
                 WHERE n.digest_id = $1 ORDER BY n.id",
                notifications::CONTENT_SQL,
                notifications::CONTENT_JOIN
            ))
            .bind(n.id)
            .fetch_all(&mut *conn)
            .await?;
            let mut parts = Vec::with_capacity(rows.len());
            for r in rows {
                let product_id: Option<i64> = r.try_get("product_id")?;
                let subscription_id: Option<i64> = r.try_get("subscription_id")?;
                let content: String = r.try_get("content")?;
                let alert: AlertContent = serde_json::from_str(&content)?;
                let Some(p) = (match product_id {
                    Some(id) => ctx.product(conn, id).await?,
                    None => None,
                }) else {
                    continue;
                };
                parts.push((
                    p,
                    alert,
                    links_for(ctx, subscription_id, n.user_id).unsubscribe,
                ));
            }
            if parts.is_empty() {
                return Err(ComposeError::Gone(
                    "every alert of this digest was withdrawn",
                ));
            }
            let items: Vec<DigestItem<'_>> = parts
                .iter()
                .map(|(p, alert, unsubscribe)| DigestItem {
                    product: p.info(&public_url),
                    alert: *alert,
                    unsubscribe: unsubscribe.clone(),
                })
                .collect();
            let rendered = templates::digest(&items, &links.manage, &links.unsubscribe);
            Ok(email(
                &user.email,
                rendered,
                Some(links.unsubscribe),
                None,
                n.id,
                &public_url,
            ))
        }
        _ => Ok(email(
            &user.email,
            templates::test_message(&links.manage),
            None,
            None,
            n.id,
            &public_url,
        )),
    }
}

#[tracing::instrument(skip(state, message))]
async fn send(state: &AppState, notification_id: i64, message: Composed) -> Result<(), SendError> {
    match message {
        Composed::Email(mail) => state.mailer.send(&mail).await,
        Composed::Webhook {
            url,
            secret,
            payload,
        } => {
            state
                .webhooks
                .post(&url, &secret, notification_id, &payload, state.clock.now())
                .await
        }
    }
}

/// Write every outcome of a batch in one transaction.
async fn settle(state: &AppState, worker: &str, settled: &[Settled]) -> Result<(), sqlx::Error> {
    let settings = &state.settings.alerts;
    let now = state.clock.now();
    let mut tx = state.db.write.begin().await?;
    for s in settled {
        match &s.result {
            Ok(()) => notifications::mark_sent(&mut tx, s.id, worker, now).await?,
            Err(SendError::Permanent(why)) => {
                tracing::warn!(notification_id = s.id, %why, "delivery failed for good");
                notifications::mark_failed(&mut tx, s.id, worker, why).await?;
            }
            Err(SendError::Transient(why)) if s.attempts >= settings.max_attempts => {
                tracing::warn!(notification_id = s.id, %why, attempts = s.attempts, "out of attempts");
                notifications::mark_failed(&mut tx, s.id, worker, why).await?;
            }
            Err(SendError::Transient(why)) => {
                let next = now + settings.backoff(s.attempts);
                tracing::info!(notification_id = s.id, %why, attempts = s.attempts, retry_at = next.as_millis(), "delivery will be retried");
                notifications::mark_retry(&mut tx, s.id, worker, next, why).await?;
            }
        }
    }
    tx.commit().await
}
