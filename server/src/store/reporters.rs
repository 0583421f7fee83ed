//! Reporter keys and their track record.

use pricewatch_core::report::ReporterKey;
use pricewatch_core::Timestamp;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, Row};

/// A registered reporter key.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reporter {
    pub id: i64,
    /// The Ed25519 public key, 64 lowercase hex digits.
    pub public_key: String,
    /// `extension` (a shopper's browser) or `crawler` (the server's own verified fetches).
    pub kind: String,
    pub created_at: i64,
    pub confirmed: i64,
    pub refuted: i64,
    pub banned: bool,
    /// When a batch of its reports last arrived (UTC ms), to within
    /// [`LAST_REPORT_RESOLUTION_MS`]; `None` before the first.
    pub last_report_at: Option<i64>,
}

/// How stale `last_report_at` may be. It tells an admin when a key was last active; kept to
/// the minute, ingest writes a busy key's row once a minute instead of in every batch (a
/// row lock and an update that every batch from that key would otherwise queue on).
pub const LAST_REPORT_RESOLUTION_MS: i64 = 60_000;

/// A reporter from a row with [`COLUMNS`].
pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<Reporter, sqlx::Error> {
    Ok(Reporter {
        id: row.try_get("id")?,
        public_key: row.try_get("public_key")?,
        kind: row.try_get("kind")?,
        created_at: row.try_get("created_at")?,
        confirmed: row.try_get("confirmed")?,
        refuted: row.try_get("refuted")?,
        banned: row.try_get::<i64, _>("banned")? != 0,
        last_report_at: row.try_get("last_report_at")?,
    })
}

/// The columns [`from_row`] reads.
pub(crate) const COLUMNS: &str =
    "id, public_key, kind, created_at, confirmed, refuted, banned, last_report_at";

/// Register `key` (idempotent): returns the reporter and whether it was new.
pub async fn register(
    pool: &AnyPool,
    key: &ReporterKey,
    kind: &str,
    now: Timestamp,
) -> Result<(Reporter, bool), sqlx::Error> {
    let hex = key.to_string();
    let inserted = sqlx::query(
        "INSERT INTO reporters (public_key, kind, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (public_key) DO NOTHING",
    )
    .bind(&hex)
    .bind(kind)
    .bind(now.as_millis())
    .execute(pool)
    .await?
    .rows_affected()
        == 1;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reporters WHERE public_key = $1"
    ))
    .bind(&hex)
    .fetch_one(pool)
    .await?;
    Ok((from_row(&row)?, inserted))
}

/// The reporter with this public key, if registered.
pub async fn by_key(
    conn: &mut AnyConnection,
    public_key_hex: &str,
) -> Result<Option<Reporter>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reporters WHERE public_key = $1"
    ))
    .bind(public_key_hex)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}
