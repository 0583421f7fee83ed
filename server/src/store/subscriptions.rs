//! `subscriptions`: a user's alert on one product, with core's alert state stored as JSON.
//!
//! The target is kept both as core's [`PriceTarget`] (kind, reference, drop) and as the
//! effective `threshold`; `armed` and `rearm_above` mirror the state. Those three columns let
//! the alert worker find, with one index range query, exactly the subscriptions a new price
//! can change.

use std::collections::HashMap;

use pricewatch_core::alert::{
    AlertConfig, AlertState, Channel, PriceTarget, Subscription, SubscriptionId,
};
use pricewatch_core::{Currency, Money, Timestamp};
use sqlx::{AnyConnection, Row};

use crate::db::Backend;

/// A subscription row.
#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    pub id: i64,
    pub user_id: i64,
    pub product_id: i64,
    pub currency: Currency,
    pub target: Option<PriceTarget>,
    pub back_in_stock: bool,
    pub paused: bool,
    pub state: AlertState,
    pub wake_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl SubscriptionRow {
    /// The subscription as core's alert rules take it.
    pub fn rules_view(&self) -> Subscription {
        Subscription {
            id: SubscriptionId(self.id),
            target: self.target,
            back_in_stock: self.back_in_stock,
            channel: Channel::Email,
            paused: self.paused,
        }
    }
}

const COLUMNS: &str = "s.id, s.user_id, s.product_id, s.target_kind, s.threshold, \
    s.reference_price, s.drop_bp, s.currency, s.back_in_stock, s.paused, s.state, s.wake_at, \
    s.created_at, s.updated_at";

fn decode_err(col: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.to_string().into(),
    }
}

/// The currency and price target stored in a row's target columns.
fn target_of(row: &sqlx::any::AnyRow) -> Result<(Currency, Option<PriceTarget>), sqlx::Error> {
    let currency: String = row.try_get("currency")?;
    let currency: Currency = currency.parse().map_err(|e| decode_err("currency", e))?;
    let kind: Option<String> = row.try_get("target_kind")?;
    let threshold: Option<i64> = row.try_get("threshold")?;
    let reference: Option<i64> = row.try_get("reference_price")?;
    let drop_bp: Option<i64> = row.try_get("drop_bp")?;
    let target = match (kind.as_deref(), threshold, reference, drop_bp) {
        (None, ..) => None,
        (Some("at_or_below"), Some(t), _, _) => Some(PriceTarget::AtOrBelow {
            threshold: Money::new(t, currency),
        }),
        (Some("drop_from"), _, Some(r), Some(bp)) => Some(PriceTarget::DropFrom {
            reference: Money::new(r, currency),
            drop_bp: u16::try_from(bp).map_err(|e| decode_err("drop_bp", e))?,
        }),
        (Some(other), ..) => return Err(decode_err("target_kind", other)),
    };
    Ok((currency, target))
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<SubscriptionRow, sqlx::Error> {
    let (currency, target) = target_of(row)?;
    let state: String = row.try_get("state")?;
    Ok(SubscriptionRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        product_id: row.try_get("product_id")?,
        currency,
        target,
        back_in_stock: row.try_get::<i64, _>("back_in_stock")? != 0,
        paused: row.try_get::<i64, _>("paused")? != 0,
        state: serde_json::from_str(&state).map_err(|e| decode_err("state", e))?,
        wake_at: row.try_get("wake_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The columns that are derived from the target and state.
struct Derived {
    kind: Option<&'static str>,
    threshold: Option<i64>,
    reference: Option<i64>,
    drop_bp: Option<i64>,
    armed: i64,
    rearm_above: Option<i64>,
    state: String,
}

fn derive(
    target: Option<PriceTarget>,
    state: &AlertState,
    rules: &AlertConfig,
) -> Result<Derived, sqlx::Error> {
    let threshold = target.map(|t| t.threshold().amount_minor);
    let (kind, reference, drop_bp) = match target {
        None => (None, None, None),
        Some(PriceTarget::AtOrBelow { .. }) => (Some("at_or_below"), None, None),
        Some(PriceTarget::DropFrom { reference, drop_bp }) => (
            Some("drop_from"),
            Some(reference.amount_minor),
            Some(i64::from(drop_bp)),
        ),
    };
    Ok(Derived {
        kind,
        threshold,
        reference,
        drop_bp,
        armed: i64::from(state.armed),
        rearm_above: threshold.map(|t| t.saturating_add(rules.margin(t))),
        state: serde_json::to_string(state).map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
    })
}

/// What a new subscription is made of.
pub struct NewSubscription {
    pub user_id: i64,
    pub product_id: i64,
    pub currency: Currency,
    pub target: Option<PriceTarget>,
    pub back_in_stock: bool,
    pub state: AlertState,
}

/// Insert; `None` when the user already has a subscription on the product.
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewSubscription,
    rules: &AlertConfig,
    now: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    let d = derive(new.target, &new.state, rules)?;
    sqlx::query_scalar(
        "INSERT INTO subscriptions (user_id, product_id, target_kind, threshold, reference_price, \
         drop_bp, currency, back_in_stock, paused, armed, rearm_above, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12, $12) \
         ON CONFLICT (user_id, product_id) DO NOTHING RETURNING id",
    )
    .bind(new.user_id)
    .bind(new.product_id)
    .bind(d.kind)
    .bind(d.threshold)
    .bind(d.reference)
    .bind(d.drop_bp)
    .bind(new.currency.code())
    .bind(i64::from(new.back_in_stock))
    .bind(d.armed)
    .bind(d.rearm_above)
    .bind(d.state)
    .bind(now.as_millis())
    .fetch_optional(conn)
    .await
}

/// A user's subscription, locked for the transaction on PostgreSQL; `None` when it does not
/// exist or belongs to someone else (which callers answer alike, with 404).
pub async fn get_for_user(
    conn: &mut AnyConnection,
    backend: Backend,
    user_id: i64,
    id: i64,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions s WHERE s.id = $1 AND s.user_id = $2{}",
        super::for_update(backend)
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A user's subscription, unlocked (for reading).
pub async fn find_for_user(
    conn: &mut AnyConnection,
    user_id: i64,
    id: i64,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions s WHERE s.id = $1 AND s.user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Any subscription by id, locked on PostgreSQL (unsubscribe links, corrections).
pub async fn get_locked(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions s WHERE s.id = $1{}",
        super::for_update(backend)
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A user's subscriptions, oldest first.
pub async fn of_user(
    conn: &mut AnyConnection,
    user_id: i64,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions s WHERE s.user_id = $1 ORDER BY s.id"
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn count_of_user(conn: &mut AnyConnection, user_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(conn)
        .await
}

/// Store a changed target, options and state.
pub async fn update(
    conn: &mut AnyConnection,
    row: &SubscriptionRow,
    rules: &AlertConfig,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let d = derive(row.target, &row.state, rules)?;
    sqlx::query(
        "UPDATE subscriptions SET target_kind = $1, threshold = $2, reference_price = $3, \
         drop_bp = $4, back_in_stock = $5, paused = $6, armed = $7, rearm_above = $8, \
         state = $9, wake_at = $10, updated_at = $11 WHERE id = $12",
    )
    .bind(d.kind)
    .bind(d.threshold)
    .bind(d.reference)
    .bind(d.drop_bp)
    .bind(i64::from(row.back_in_stock))
    .bind(i64::from(row.paused))
    .bind(d.armed)
    .bind(d.rearm_above)
    .bind(d.state)
    .bind(row.wake_at)
    .bind(now.as_millis())
    .bind(row.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Delete a subscription and its notifications (no foreign key cascades them: see
/// migration 0005).
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM notifications WHERE subscription_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM subscriptions WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Move a product's `subscribers` counter (active subscriptions feed the judge).
pub async fn add_subscribers(
    conn: &mut AnyConnection,
    product_id: i64,
    delta: i64,
) -> Result<(), sqlx::Error> {
    if delta == 0 {
        return Ok(());
    }
    sqlx::query(
        "UPDATE products SET subscribers = CASE WHEN subscribers + $1 < 0 THEN 0 \
         ELSE subscribers + $1 END WHERE id = $2",
    )
    .bind(delta)
    .bind(product_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A subscription the worker evaluates, with what delivery needs to know of its owner.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub row: SubscriptionRow,
    /// The owner's email alerts wait for the daily digest.
    pub digest: bool,
    /// The owner also has a webhook.
    pub has_webhook: bool,
}

/// A candidate as core's rules see it, read without what only delivery needs (owner, dates).
#[derive(Debug, Clone)]
pub struct RuleCandidate {
    pub subscription: Subscription,
    pub state: AlertState,
    pub wake_at: Option<i64>,
}

/// The subscriptions a new price can change, by one index range query on
/// `(product_id, armed, threshold)`:
/// - armed, with the threshold at or above the new price (they fire);
/// - disarmed, with the price back at or under the threshold (a further drop) or above the
///   re-arm level (they re-arm);
/// - holding an alert (`wake_at` set: the held alert keeps the lowest price);
/// - back-in-stock subscribers, when the product's buyability changed.
///
/// Everyone else's state would not change, so they are not read. Only what core's rules
/// take is read, and states are parsed once per distinct text: subscribers of one product
/// mostly share theirs.
pub async fn rule_candidates(
    conn: &mut AnyConnection,
    product_id: i64,
    buyable_price: Option<i64>,
    stock_changed: bool,
) -> Result<Vec<RuleCandidate>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.id, s.target_kind, s.threshold, s.reference_price, s.drop_bp, s.currency, \
         s.back_in_stock, s.paused, s.state, s.wake_at FROM subscriptions s \
         WHERE s.product_id = $1 AND ( \
            (s.armed = 1 AND s.threshold >= $2) \
            OR (s.armed = 0 AND (s.threshold >= $2 OR s.rearm_above < $2)) \
            OR s.wake_at IS NOT NULL \
            OR (s.back_in_stock = 1 AND $3 = 1)) \
         ORDER BY s.id",
    )
    .bind(product_id)
    .bind(buyable_price)
    .bind(i64::from(stock_changed))
    .fetch_all(conn)
    .await?;
    let mut parsed: HashMap<String, AlertState> = HashMap::new();
    rows.iter()
        .map(|r| {
            let (_, target) = target_of(r)?;
            let text: String = r.try_get("state")?;
            let state = match parsed.get(&text) {
                Some(s) => *s,
                None => {
                    let s: AlertState =
                        serde_json::from_str(&text).map_err(|e| decode_err("state", e))?;
                    parsed.insert(text, s);
                    s
                }
            };
            Ok(RuleCandidate {
                subscription: Subscription {
                    id: SubscriptionId(r.try_get("id")?),
                    target,
                    back_in_stock: r.try_get::<i64, _>("back_in_stock")? != 0,
                    channel: Channel::Email,
                    paused: r.try_get::<i64, _>("paused")? != 0,
                },
                state,
                wake_at: r.try_get("wake_at")?,
            })
        })
        .collect()
}

/// Subscriptions of one product whose held alert is due.
pub async fn due_wakes(
    conn: &mut AnyConnection,
    product_id: i64,
    now: Timestamp,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, u.digest, u.webhook_url FROM subscriptions s \
         JOIN users u ON u.id = s.user_id \
         WHERE s.product_id = $1 AND s.wake_at IS NOT NULL AND s.wake_at <= $2 ORDER BY s.id"
    ))
    .bind(product_id)
    .bind(now.as_millis())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Candidate {
                row: from_row(r)?,
                digest: r.try_get::<i64, _>("digest")? != 0,
                has_webhook: r.try_get::<Option<String>, _>("webhook_url")?.is_some(),
            })
        })
        .collect()
}

/// Products with a held alert due.
pub async fn products_with_due_wakes(
    conn: &mut AnyConnection,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT product_id FROM subscriptions WHERE wake_at IS NOT NULL AND wake_at <= $1 \
         ORDER BY product_id LIMIT $2",
    )
    .bind(now.as_millis())
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// `ids IN (…)` for a list of ids passed as one JSON array parameter (`$param`), so that
/// 100,000 ids are one bound value and one statement, not 500 statements.
pub(crate) fn ids_in_json(backend: Backend, param: usize) -> String {
    match backend {
        Backend::Sqlite => format!("(SELECT value FROM json_each(${param}))"),
        Backend::Postgres => {
            format!("(SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(${param} AS json)))")
        }
    }
}

/// The ids as a JSON array, for [`ids_in_json`].
pub(crate) fn json_ids(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 8 + 2);
    out.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out.push(']');
    out
}

/// Give every subscription in `ids` the same new state and wake-up, in one statement.
pub async fn write_state_group(
    conn: &mut AnyConnection,
    backend: Backend,
    state: &AlertState,
    wake_at: Option<i64>,
    ids: &[i64],
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let text = serde_json::to_string(state).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let sql = format!(
        "UPDATE subscriptions SET state = $1, armed = $2, wake_at = $3, updated_at = $4 \
         WHERE id IN {}",
        ids_in_json(backend, 5)
    );
    Ok(sqlx::query(&sql)
        .bind(text)
        .bind(i64::from(state.armed))
        .bind(wake_at)
        .bind(now.as_millis())
        .bind(json_ids(ids))
        .execute(conn)
        .await?
        .rows_affected())
}
