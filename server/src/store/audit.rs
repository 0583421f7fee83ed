//! `admin_audit`: every admin action with who and when, written in the action's own
//! transaction so the log never misses an action nor records one that did not happen.

use pricewatch_core::Timestamp;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, Row};

/// Actions, as the log names them.
pub mod action {
    pub const APPROVE: &str = "approve";
    pub const REJECT: &str = "reject";
    pub const BAN: &str = "ban";
    pub const UNBAN: &str = "unban";
    pub const RECRAWL: &str = "recrawl";
}

/// What an action was done to.
pub mod target {
    pub const REPORT: &str = "report";
    pub const REPORTER: &str = "reporter";
}

/// One action to record.
pub struct NewEntry<'a> {
    pub admin_user_id: i64,
    pub action: &'static str,
    pub target_kind: &'static str,
    pub target: &'a str,
    pub detail: &'a serde_json::Value,
}

/// Record an action in the caller's transaction.
pub async fn insert(
    conn: &mut AnyConnection,
    entry: &NewEntry<'_>,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO admin_audit (at, admin_user_id, action, target_kind, target, detail) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(now.as_millis())
    .bind(entry.admin_user_id)
    .bind(entry.action)
    .bind(entry.target_kind)
    .bind(entry.target)
    .bind(entry.detail.to_string())
    .fetch_one(conn)
    .await
}

/// A recorded action.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: i64,
    /// ms since the epoch.
    pub at: i64,
    /// The admin's email, or `user #<id>` once that account is deleted.
    pub admin: String,
    pub admin_user_id: i64,
    /// `approve`, `reject`, `ban`, `unban` or `recrawl`.
    pub action: String,
    /// `report` or `reporter`.
    pub target_kind: String,
    /// The report id or the reporter's public key.
    pub target: String,
    /// What the action changed.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// The latest `limit` actions, newest first.
pub async fn latest(pool: &AnyPool, limit: i64) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.id, a.at, a.admin_user_id, u.email, a.action, a.target_kind, a.target, a.detail \
         FROM admin_audit a LEFT JOIN users u ON u.id = a.admin_user_id \
         ORDER BY a.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let admin_user_id: i64 = r.try_get("admin_user_id")?;
            let email: Option<String> = r.try_get("email")?;
            let detail: String = r.try_get("detail")?;
            Ok(Entry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                admin: email.unwrap_or_else(|| format!("user #{admin_user_id}")),
                admin_user_id,
                action: r.try_get("action")?,
                target_kind: r.try_get("target_kind")?,
                target: r.try_get("target")?,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}
