//! `reports`: every verified report with the judge's decision, kept for replay protection
//! (unique (reporter, nonce)), consensus and the admin review queue.

use pricewatch_core::judge::{HeldReport, Verdict};
use pricewatch_core::report::{PriceReport, ReporterKey};
use pricewatch_core::reputation::{Reputation, Standing};
use pricewatch_core::{Money, Timestamp};
use sqlx::{AnyConnection, Row};

use super::products::availability_from;

/// Where a report stands.
pub mod status {
    pub const PUBLISHED: &str = "published";
    pub const HELD: &str = "held";
    pub const REJECTED: &str = "rejected";
    /// Accepted, but older than what the history already shows: nothing was written.
    pub const STALE: &str = "stale";
}

/// What is stored of one report.
pub struct NewReport<'a> {
    pub reporter_id: i64,
    pub product_id: i64,
    pub report: &'a PriceReport,
    pub signature: &'a str,
    pub verdict: &'a Verdict,
    pub status: &'static str,
    pub received_at: Timestamp,
}

/// Insert a report; `None` when this reporter already used the nonce (a replay).
pub async fn insert(
    conn: &mut AnyConnection,
    r: &NewReport<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    let reasons = serde_json::to_string(&r.verdict.reasons).unwrap_or_else(|_| "[]".into());
    sqlx::query_scalar(
        "INSERT INTO reports (reporter_id, product_id, nonce, price, currency, availability, \
         observed_at, received_at, decision, status, suspicion, reasons, client_version, signature) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (reporter_id, nonce) DO NOTHING RETURNING id",
    )
    .bind(r.reporter_id)
    .bind(r.product_id)
    .bind(r.report.nonce.to_string())
    .bind(r.report.price.map(|p| p.amount_minor))
    .bind(r.report.currency.code())
    .bind(r.report.availability.as_str())
    .bind(r.report.observed_at.as_millis())
    .bind(r.received_at.as_millis())
    .bind(decision_str(r.verdict))
    .bind(r.status)
    .bind(r.verdict.suspicion)
    .bind(reasons)
    .bind(&r.report.client_version)
    .bind(r.signature)
    .fetch_optional(conn)
    .await
}

fn decision_str(v: &Verdict) -> String {
    serde_json::to_value(v.decision)
        .ok()
        .and_then(|d| d.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Held reports on a product observed since `since`, with their keys and current
/// reputations (a key refuted meanwhile must stop counting).
pub async fn held(
    conn: &mut AnyConnection,
    product_id: i64,
    currency: pricewatch_core::Currency,
    since: Timestamp,
    now: Timestamp,
) -> Result<Vec<(i64, HeldReport)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT r.id, r.price, r.availability, r.observed_at, k.public_key, k.created_at, \
         k.confirmed, k.refuted, k.banned, k.kind \
         FROM reports r JOIN reporters k ON k.id = r.reporter_id \
         WHERE r.product_id = $1 AND r.status = 'held' AND r.observed_at >= $2",
    )
    .bind(product_id)
    .bind(since.as_millis())
    .fetch_all(conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let key_hex: String = row.try_get("public_key")?;
        let Ok(key) = ReporterKey::parse(&key_hex) else {
            continue;
        };
        let reputation = reputation_of(
            row.try_get("created_at")?,
            row.try_get("confirmed")?,
            row.try_get("refuted")?,
            row.try_get("banned")?,
            &row.try_get::<String, _>("kind")?,
        );
        let price: Option<i64> = row.try_get("price")?;
        let availability: String = row.try_get("availability")?;
        out.push((
            row.try_get("id")?,
            HeldReport {
                key,
                price: price.map(|p| Money::new(p, currency)),
                availability: availability_from(&availability),
                observed_at: Timestamp::from_millis(row.try_get("observed_at")?),
                reporter_score: reputation.score(now),
            },
        ));
    }
    Ok(out)
}

/// A reporter row's reputation as core weighs it.
pub fn reputation_of(
    created_at: i64,
    confirmed: i64,
    refuted: i64,
    banned: i64,
    kind: &str,
) -> Reputation {
    let standing = if banned != 0 {
        Standing::Banned
    } else if kind == "crawler" {
        Standing::Crawler
    } else {
        Standing::Member
    };
    Reputation {
        first_seen: Timestamp::from_millis(created_at),
        confirmed: u32::try_from(confirmed).unwrap_or(u32::MAX),
        refuted: u32::try_from(refuted).unwrap_or(u32::MAX),
        standing,
    }
}

/// Mark reports published (a consensus confirmed them).
pub async fn mark_published(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    for id in ids {
        sqlx::query("UPDATE reports SET status = 'published' WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
