//! `subscriptions`: a user's alert on one product, with core's alert state stored as JSON.
//!
//! The target is kept both as core's [`PriceTarget`] (kind, reference, drop) and as the
//! effective `threshold`; `armed` and `rearm_above` mirror the state. Those three columns let
//! the alert worker find, with one index range query, exactly the subscriptions a new price
//! can change.

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

/// Which subscriptions of a product a new price can change (`s` is the subscription; `$1` the
/// product, `$2` the new buyable price, `$3` 1 when the product's buyability changed):
/// - armed, with the threshold at or above the new price (they fire);
/// - disarmed, with the price back at or under the threshold (a further drop) or above the
///   re-arm level (they re-arm);
/// - holding an alert (`wake_at` set: the held alert keeps the lowest price);
/// - back-in-stock subscribers, when the product's buyability changed.
///
/// Everyone else's state would not change, so they are not read.
const CANDIDATE: &str = "s.product_id = $1 AND ( \
    (s.armed = 1 AND s.threshold >= $2) \
    OR (s.armed = 0 AND (s.threshold >= $2 OR s.rearm_above < $2)) \
    OR s.wake_at IS NOT NULL \
    OR (s.back_in_stock = 1 AND $3 = 1))";

/// The columns core's rules read of a subscription, apart from its id: subscriptions equal
/// in all of them are one candidate group.
const RULE_COLUMNS: &str = "s.target_kind, s.threshold, s.reference_price, s.drop_bp, \
    s.currency, s.back_in_stock, s.paused, s.state, s.wake_at";

/// Candidates of one product event that share everything core's rules read except their
/// id: a product's subscribers mostly share their target and state, so 100,000 of them
/// come back as a few rows instead of 100,000 (the SQLite driver hands every row across
/// threads, and each costs more than the rules do).
#[derive(Debug, Clone)]
pub struct CandidateGroup {
    pub target: Option<PriceTarget>,
    pub back_in_stock: bool,
    pub paused: bool,
    pub state: AlertState,
    pub wake_at: Option<i64>,
    /// Ascending.
    pub ids: Vec<i64>,
    /// What selects exactly this group again, for writes that apply to all of it.
    pub filter: GroupFilter,
}

impl CandidateGroup {
    /// Member `id` as core's rules take it.
    pub fn subscription(&self, id: i64) -> Subscription {
        Subscription {
            id: SubscriptionId(id),
            target: self.target,
            back_in_stock: self.back_in_stock,
            channel: Channel::Email,
            paused: self.paused,
        }
    }
}

/// The stored values a candidate group was read with: together with the candidate
/// predicate they select exactly the group's subscriptions, as long as the product's
/// subscriptions do not change meanwhile. They do not: the worker holds the product's lock
/// (PostgreSQL; every writer of a product's subscriptions takes it first) or the one writer
/// connection (SQLite) from the read to the commit. A write to a whole group is then one
/// statement over the product's index range instead of a join on 100,000 ids.
#[derive(Debug, Clone)]
pub struct GroupFilter {
    product_id: i64,
    buyable_price: Option<i64>,
    stock_changed: i64,
    target_kind: Option<String>,
    threshold: Option<i64>,
    reference_price: Option<i64>,
    drop_bp: Option<i64>,
    currency: String,
    back_in_stock: i64,
    paused: i64,
    state: String,
    wake_at: Option<i64>,
}

/// Parameters [`GroupFilter::predicate`] takes: `$1` to `$12`; a statement's own start at 13.
pub const GROUP_PARAMS: usize = 12;

impl GroupFilter {
    /// `WHERE` text selecting the group (alias `s`), with its values in `$1..$12`.
    ///
    /// A NULL is matched with `IS NULL` and a value with `=`, each of which PostgreSQL
    /// estimates from its statistics; a null-safe comparison (`IS NOT DISTINCT FROM`) it
    /// estimates as matching almost nothing, and then joins the group's 100,000 rows to their
    /// owners by 100,000 index look-ups instead of one hash join. Every parameter is still
    /// referenced (PostgreSQL must infer each one's type), the unused ones in a test that
    /// is constant for a given binding.
    pub fn predicate(&self) -> String {
        fn eq(column: &str, param: usize, is_null: bool, sql_type: &str) -> String {
            if is_null {
                format!("s.{column} IS NULL AND CAST(${param} AS {sql_type}) IS NULL")
            } else {
                format!("s.{column} = ${param}")
            }
        }
        [
            CANDIDATE.to_owned(),
            eq("target_kind", 4, self.target_kind.is_none(), "TEXT"),
            eq("threshold", 5, self.threshold.is_none(), "BIGINT"),
            eq(
                "reference_price",
                6,
                self.reference_price.is_none(),
                "BIGINT",
            ),
            eq("drop_bp", 7, self.drop_bp.is_none(), "BIGINT"),
            "s.currency = $8".to_owned(),
            "s.back_in_stock = $9".to_owned(),
            "s.paused = $10".to_owned(),
            "s.state = $11".to_owned(),
            eq("wake_at", 12, self.wake_at.is_none(), "BIGINT"),
        ]
        .join(" AND ")
    }

    /// Bind `$1..$12` (call first, before the statement's own parameters).
    pub fn bind<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        q.bind(self.product_id)
            .bind(self.buyable_price)
            .bind(self.stock_changed)
            .bind(self.target_kind.as_deref())
            .bind(self.threshold)
            .bind(self.reference_price)
            .bind(self.drop_bp)
            .bind(self.currency.as_str())
            .bind(self.back_in_stock)
            .bind(self.paused)
            .bind(self.state.as_str())
            .bind(self.wake_at)
    }
}

/// The subscriptions a new price can change ([`CANDIDATE`]), by one range query on the
/// product's `subscriptions_match` entries, grouped by what core's rules read: each group's
/// ids come back as one comma-separated text.
pub async fn rule_candidate_groups(
    conn: &mut AnyConnection,
    backend: Backend,
    product_id: i64,
    buyable_price: Option<i64>,
    stock_changed: bool,
) -> Result<Vec<CandidateGroup>, sqlx::Error> {
    let ids = match backend {
        Backend::Sqlite => "group_concat(s.id)",
        Backend::Postgres => "string_agg(CAST(s.id AS TEXT), ',')",
    };
    let rows = sqlx::query(&format!(
        "SELECT {RULE_COLUMNS}, {ids} AS ids FROM subscriptions s WHERE {CANDIDATE} \
         GROUP BY {RULE_COLUMNS}"
    ))
    .bind(product_id)
    .bind(buyable_price)
    .bind(i64::from(stock_changed))
    .fetch_all(conn)
    .await?;
    let mut groups = rows
        .iter()
        .map(|r| {
            let (_, target) = target_of(r)?;
            let text: String = r.try_get("state")?;
            let state: AlertState =
                serde_json::from_str(&text).map_err(|e| decode_err("state", e))?;
            let list: String = r.try_get("ids")?;
            let mut ids = list
                .split(',')
                .map(|id| id.trim().parse::<i64>().map_err(|e| decode_err("ids", e)))
                .collect::<Result<Vec<i64>, sqlx::Error>>()?;
            ids.sort_unstable();
            let back_in_stock: i64 = r.try_get("back_in_stock")?;
            let paused: i64 = r.try_get("paused")?;
            let wake_at: Option<i64> = r.try_get("wake_at")?;
            Ok(CandidateGroup {
                target,
                back_in_stock: back_in_stock != 0,
                paused: paused != 0,
                state,
                wake_at,
                ids,
                filter: GroupFilter {
                    product_id,
                    buyable_price,
                    stock_changed: i64::from(stock_changed),
                    target_kind: r.try_get("target_kind")?,
                    threshold: r.try_get("threshold")?,
                    reference_price: r.try_get("reference_price")?,
                    drop_bp: r.try_get("drop_bp")?,
                    currency: r.try_get("currency")?,
                    back_in_stock,
                    paused,
                    state: text,
                    wake_at,
                },
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    groups.sort_by_key(|g| g.ids.first().copied());
    Ok(groups)
}

/// Subscriptions a write applies to: listed by id, or a whole candidate group by its
/// predicate.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    Ids(&'a [i64]),
    Group(&'a GroupFilter),
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

/// Give every subscription in `who` the same new state (and wake-up, when `set_wake`), in
/// one statement. `wake_at` is left alone when it does not change: on SQLite every assigned
/// indexed column costs an index visit per row, and on PostgreSQL an unchanged value keeps
/// the update HOT anyway, so the statement says only what changes.
pub async fn write_state_group(
    conn: &mut AnyConnection,
    backend: Backend,
    state: &AlertState,
    wake_at: Option<i64>,
    set_wake: bool,
    who: Who<'_>,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let text = serde_json::to_string(state).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    // The new values are the first parameters after the group's (or the id list's).
    let first = match who {
        Who::Ids(_) => 2,
        Who::Group(_) => GROUP_PARAMS + 1,
    };
    let mut sql = format!(
        "UPDATE subscriptions AS s SET state = ${}, armed = ${}, updated_at = ${}",
        first,
        first + 1,
        first + 2
    );
    if set_wake {
        sql.push_str(&format!(", wake_at = ${}", first + 3));
    }
    let ids;
    let mut q = match who {
        Who::Ids(list) => {
            sql.push_str(&format!(" WHERE s.id IN {}", ids_in_json(backend, 1)));
            ids = json_ids(list);
            sqlx::query(&sql).bind(ids.as_str())
        }
        Who::Group(g) => {
            sql.push_str(" WHERE ");
            sql.push_str(&g.predicate());
            g.bind(sqlx::query(&sql))
        }
    };
    q = q
        .bind(text)
        .bind(i64::from(state.armed))
        .bind(now.as_millis());
    if set_wake {
        q = q.bind(wake_at);
    }
    Ok(q.execute(conn).await?.rows_affected())
}
