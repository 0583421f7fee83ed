//! Subscriptions as users manage them: create (creating an unknown product and asking for
//! its first crawl), list, change, pause, delete; each user sees and changes only their own,
//! and `products.subscribers` always equals the product's active subscriptions.

use pricewatch_core::alert::{AlertState, PriceEvent, PriceTarget};
use pricewatch_core::history::PricePointId;
use pricewatch_core::{Asin, Marketplace, Money, ProductKey, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::alerts::matching::lock_product;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::products::{self, availability_from};
use crate::store::subscriptions::{self, NewSubscription, SubscriptionRow};

/// The highest threshold accepted, in minor units (ten billion of anything is not a price).
const MAX_THRESHOLD: i64 = 1_000_000_000_000;

/// `POST /api/subscriptions`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    /// Marketplace code: `us`, `de`, `jp`, ...
    pub marketplace: String,
    /// 10-character ASIN.
    pub asin: String,
    /// Alert at or below this price, in minor units of the marketplace's currency.
    #[serde(default)]
    pub threshold_minor: Option<i64>,
    /// Or: alert when the price is this many percent below today's (0.01 to 99.99).
    #[serde(default)]
    pub drop_percent: Option<f64>,
    /// Also alert when the product comes back in stock.
    #[serde(default)]
    pub back_in_stock: bool,
}

/// `PATCH /api/subscriptions/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSubscription {
    /// A new fixed threshold (replaces a percentage target).
    #[serde(default)]
    pub threshold_minor: Option<i64>,
    /// A new percentage drop from today's price (replaces a fixed threshold).
    #[serde(default)]
    pub drop_percent: Option<f64>,
    #[serde(default)]
    pub back_in_stock: Option<bool>,
    /// Pause (true) or resume (false).
    #[serde(default)]
    pub paused: Option<bool>,
}

/// A subscription as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub id: i64,
    pub marketplace: String,
    pub asin: String,
    pub title: Option<String>,
    /// The product on Amazon.
    pub url: String,
    pub currency: String,
    /// Minor units; null when unknown or not shown.
    pub current_price_minor: Option<i64>,
    pub availability: String,
    /// The effective threshold in minor units (a percentage target's floor price), null for
    /// back-in-stock only.
    pub threshold_minor: Option<i64>,
    /// Set for a percentage target.
    pub drop_percent: Option<f64>,
    /// The price a percentage is measured from.
    pub reference_price_minor: Option<i64>,
    pub back_in_stock: bool,
    pub paused: bool,
    /// Whether the next crossing of the threshold will alert (false after an alert, until
    /// the price has gone back up).
    pub armed: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

fn product_key(marketplace: &str, asin: &str) -> Result<ProductKey, ApiError> {
    Ok(ProductKey {
        marketplace: marketplace
            .parse::<Marketplace>()
            .map_err(|e| ApiError::field("marketplace", e.to_string()))?,
        asin: Asin::parse(asin).map_err(|e| ApiError::field("asin", e.to_string()))?,
    })
}

fn check_threshold(minor: i64) -> Result<i64, ApiError> {
    if minor <= 0 || minor > MAX_THRESHOLD {
        return Err(ApiError::field(
            "threshold_minor",
            format!("a threshold is a price in minor units, from 1 to {MAX_THRESHOLD}"),
        ));
    }
    Ok(minor)
}

/// A percentage as basis points: 0.01 % to 99.99 %.
fn drop_bp(percent: f64) -> Result<u16, ApiError> {
    if !percent.is_finite() || !(0.01..=99.99).contains(&percent) {
        return Err(ApiError::field(
            "drop_percent",
            "a percentage drop is from 0.01 to 99.99",
        ));
    }
    // In range, so the rounded value fits u16 exactly.
    Ok((percent * 100.0).round() as u16)
}

/// The target the request asks for, measured against the product's price.
fn target_from(
    threshold_minor: Option<i64>,
    drop_percent: Option<f64>,
    current: Option<Money>,
    currency: pricewatch_core::Currency,
) -> Result<Option<PriceTarget>, ApiError> {
    match (threshold_minor, drop_percent) {
        (Some(_), Some(_)) => Err(ApiError::field(
            "drop_percent",
            "give threshold_minor or drop_percent, not both",
        )),
        (Some(t), None) => Ok(Some(PriceTarget::AtOrBelow {
            threshold: Money::new(check_threshold(t)?, currency),
        })),
        (None, Some(p)) => {
            let drop_bp = drop_bp(p)?;
            let reference = current.ok_or_else(|| {
                ApiError::field(
                    "drop_percent",
                    "the product has no known price yet; give threshold_minor instead",
                )
            })?;
            Ok(Some(PriceTarget::DropFrom { reference, drop_bp }))
        }
        (None, None) => Ok(None),
    }
}

/// The product's current point as the alert rules' first "latest" event.
async fn current_event(
    conn: &mut AnyConnection,
    point_id: Option<i64>,
    currency: pricewatch_core::Currency,
) -> Result<Option<PriceEvent>, sqlx::Error> {
    let Some(id) = point_id else {
        return Ok(None);
    };
    let row =
        sqlx::query("SELECT price, availability, first_seen_at FROM price_points WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.map(|r| {
        let price: Option<i64> = r.try_get("price")?;
        let availability: String = r.try_get("availability")?;
        Ok(PriceEvent {
            point: PricePointId(id),
            price: price.map(|p| Money::new(p, currency)),
            availability: availability_from(&availability),
            at: Timestamp::from_millis(r.try_get("first_seen_at")?),
        })
    })
    .transpose()
}

/// Queue the first crawl of a product nobody has reported yet (once).
async fn request_refresh(
    conn: &mut AnyConnection,
    product_id: i64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO crawl_jobs (product_id, kind, priority, due_at, created_at) \
         SELECT $1, 'refresh', 1.0, $2, $2 WHERE NOT EXISTS (SELECT 1 FROM crawl_jobs \
            WHERE product_id = $1 AND kind = 'refresh' AND done_at IS NULL)",
    )
    .bind(product_id)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

async fn view(
    conn: &mut AnyConnection,
    row: &SubscriptionRow,
) -> Result<SubscriptionView, ApiError> {
    let r = sqlx::query(
        "SELECT marketplace, asin, title, currency, current_price, availability FROM products WHERE id = $1",
    )
    .bind(row.product_id)
    .fetch_one(conn)
    .await?;
    let marketplace: String = r.try_get("marketplace")?;
    let asin: String = r.try_get("asin")?;
    let url = match (marketplace.parse::<Marketplace>(), Asin::parse(&asin)) {
        (Ok(m), Ok(a)) => m.product_url(&a),
        _ => String::new(),
    };
    let (threshold, drop_percent, reference) = match row.target {
        None => (None, None, None),
        Some(t @ PriceTarget::AtOrBelow { .. }) => (Some(t.threshold().amount_minor), None, None),
        Some(t @ PriceTarget::DropFrom { reference, drop_bp }) => (
            Some(t.threshold().amount_minor),
            Some(f64::from(drop_bp) / 100.0),
            Some(reference.amount_minor),
        ),
    };
    Ok(SubscriptionView {
        id: row.id,
        marketplace,
        asin,
        title: r.try_get("title")?,
        url,
        currency: r.try_get("currency")?,
        current_price_minor: r.try_get("current_price")?,
        availability: r.try_get("availability")?,
        threshold_minor: threshold,
        drop_percent,
        reference_price_minor: reference,
        back_in_stock: row.back_in_stock,
        paused: row.paused,
        armed: row.state.armed,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Subscribe `user_id` to a product.
#[tracing::instrument(skip(state, body), fields(marketplace = %body.marketplace, asin = %body.asin))]
pub async fn create(
    state: &AppState,
    user_id: i64,
    body: &CreateSubscription,
) -> Result<SubscriptionView, ApiError> {
    let key = product_key(&body.marketplace, &body.asin)?;
    if body.threshold_minor.is_none() && body.drop_percent.is_none() && !body.back_in_stock {
        return Err(ApiError::field(
            "threshold_minor",
            "say what to alert on: threshold_minor, drop_percent or back_in_stock",
        ));
    }
    let now = state.clock.now();
    let limit = state.settings.alerts.max_subscriptions_per_user;
    let mut tx = state.db.write.begin().await?;
    if subscriptions::count_of_user(&mut tx, user_id).await? >= limit {
        return Err(ApiError::Conflict {
            code: "subscription_limit",
            message: format!("at most {limit} subscriptions per account; delete one first"),
            field: None,
        });
    }
    let product = products::get_or_create_locked(&mut tx, state.db.backend, &key, now).await?;
    if product.current_point_id.is_none() {
        request_refresh(&mut tx, product.id, now).await?;
    }
    let target = target_from(
        body.threshold_minor,
        body.drop_percent,
        product.current_price,
        product.currency,
    )?;
    let current = current_event(&mut tx, product.current_point_id, product.currency).await?;
    let rules = state.settings.alerts.rules();
    let id = subscriptions::insert(
        &mut tx,
        &NewSubscription {
            user_id,
            product_id: product.id,
            currency: product.currency,
            target,
            back_in_stock: body.back_in_stock,
            state: AlertState::new(current),
        },
        &rules,
        now,
    )
    .await?
    .ok_or_else(|| ApiError::Conflict {
        code: "already_subscribed",
        message: format!(
            "you already have an alert on {} at {}; change it instead",
            key.asin, key.marketplace
        ),
        field: Some("asin".into()),
    })?;
    subscriptions::add_subscribers(&mut tx, product.id, 1).await?;
    let row = subscriptions::get_for_user(&mut tx, state.db.backend, user_id, id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("subscription {id} vanished")))?;
    let view = view(&mut tx, &row).await?;
    tx.commit().await?;
    tracing::info!(subscription_id = id, user_id, "subscribed");
    Ok(view)
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("no subscription {id}"))
}

/// The product a user's subscription is on (unlocked read, to take locks in order).
async fn product_of(
    conn: &mut AnyConnection,
    user_id: i64,
    id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT product_id FROM subscriptions WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

/// One of the user's subscriptions.
pub async fn get(state: &AppState, user_id: i64, id: i64) -> Result<SubscriptionView, ApiError> {
    let mut conn = state.db.read.acquire().await?;
    let row = subscriptions::find_for_user(&mut conn, user_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    view(&mut conn, &row).await
}

/// All of the user's subscriptions, oldest first.
pub async fn list(state: &AppState, user_id: i64) -> Result<Vec<SubscriptionView>, ApiError> {
    let mut conn = state.db.read.acquire().await?;
    let rows = subscriptions::of_user(&mut conn, user_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(view(&mut conn, row).await?);
    }
    Ok(out)
}

/// Change a subscription's target, options or pause.
#[tracing::instrument(skip(state, change))]
pub async fn change(
    state: &AppState,
    user_id: i64,
    id: i64,
    change: &ChangeSubscription,
) -> Result<SubscriptionView, ApiError> {
    let now = state.clock.now();
    let backend = state.db.backend;
    let mut tx = state.db.write.begin().await?;
    let product_id = product_of(&mut tx, user_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    // Product first, then subscription: the order the alert worker locks in.
    lock_product(&mut tx, backend, product_id).await?;
    let mut row = subscriptions::get_for_user(&mut tx, backend, user_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if change.threshold_minor.is_some() || change.drop_percent.is_some() {
        let current: Option<i64> =
            sqlx::query_scalar("SELECT current_price FROM products WHERE id = $1")
                .bind(product_id)
                .fetch_one(&mut *tx)
                .await?;
        row.target = target_from(
            change.threshold_minor,
            change.drop_percent,
            current.map(|p| Money::new(p, row.currency)),
            row.currency,
        )?;
        // A new target starts fresh: armed, nothing held.
        row.state.armed = true;
        row.state.pending = None;
        row.wake_at = None;
    }
    if let Some(b) = change.back_in_stock {
        row.back_in_stock = b;
    }
    if row.target.is_none() && !row.back_in_stock {
        return Err(ApiError::field(
            "back_in_stock",
            "a subscription without a price target must alert on back in stock",
        ));
    }
    if let Some(paused) = change.paused {
        if paused != row.paused {
            subscriptions::add_subscribers(&mut tx, product_id, if paused { -1 } else { 1 })
                .await?;
            row.paused = paused;
            if paused {
                row.state.pending = None;
                row.wake_at = None;
            }
        }
    }
    subscriptions::update(&mut tx, &row, &state.settings.alerts.rules(), now).await?;
    let row = subscriptions::get_for_user(&mut tx, backend, user_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let view = view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view)
}

/// Delete one subscription (its notifications go with it).
pub(crate) async fn delete_row(
    conn: &mut AnyConnection,
    row: &SubscriptionRow,
) -> Result<(), sqlx::Error> {
    if !row.paused {
        subscriptions::add_subscribers(conn, row.product_id, -1).await?;
    }
    subscriptions::delete(conn, row.id).await
}

/// Delete a user's subscription.
#[tracing::instrument(skip(state))]
pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<(), ApiError> {
    let backend = state.db.backend;
    let mut tx = state.db.write.begin().await?;
    let product_id = product_of(&mut tx, user_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    lock_product(&mut tx, backend, product_id).await?;
    let row = subscriptions::get_for_user(&mut tx, backend, user_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    delete_row(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricewatch_core::Currency;

    #[test]
    fn percentages_become_basis_points_within_range() {
        assert_eq!(drop_bp(20.0).unwrap(), 2000);
        assert_eq!(drop_bp(0.01).unwrap(), 1);
        assert_eq!(drop_bp(99.99).unwrap(), 9999);
        for bad in [0.0, 100.0, -5.0, f64::NAN, f64::INFINITY] {
            assert!(drop_bp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_percentage_needs_a_known_price_and_excludes_a_threshold() {
        let usd = |m| Money::new(m, Currency::Usd);
        assert_eq!(
            target_from(None, Some(20.0), Some(usd(10_000)), Currency::Usd)
                .unwrap()
                .map(|t| t.threshold()),
            Some(usd(8_000))
        );
        assert!(target_from(None, Some(20.0), None, Currency::Usd).is_err());
        assert!(target_from(Some(5), Some(20.0), Some(usd(1)), Currency::Usd).is_err());
        assert!(target_from(Some(0), None, None, Currency::Usd).is_err());
        assert_eq!(target_from(None, None, None, Currency::Usd).unwrap(), None);
    }
}
