//! The admin review queue: reports the judge held or rejected, each with its reasons, its
//! reporter's record and its latest verification crawl; and the admin actions on them
//! (approve, reject, ban or unban a reporter key), each written to the audit log in the
//! action's own transaction.
//!
//! What approving and rejecting do to reports, reporters and prices is the crawler's
//! verdict code ([`crate::crawler::verdict::review_report`]): an admin's review is the last
//! verdict on a report.

use std::collections::HashMap;

use pricewatch_core::report::ReporterKey;
use pricewatch_core::Timestamp;
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::crawler::verdict::{self, Review, ReviewError};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::audit::{self, action, target, NewEntry};
use crate::store::reports::reputation_of;
use crate::store::users::User;

/// A reporter's track record, as the review queue shows it beside each report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReporterRecord {
    pub confirmed: i64,
    pub refuted: i64,
    pub banned: bool,
    /// Core's reputation score in `[0, 1]` now.
    pub score: f64,
    /// Reports the key has sent.
    pub reports: i64,
}

/// The latest verification crawl of a report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CrawlSummary {
    pub job_id: i64,
    /// `queued`, `crawling`, `retrying` (an attempt failed; it will be tried again), the
    /// verdict once judged (`confirmed`, `refuted`, `already_verified`), or else the last
    /// crawl's outcome (`unreadable`, `not_found`, `robot_check`...).
    pub state: String,
    /// The last crawl's outcome (`observed`, `robot_check`, `unreadable`...), if tried.
    pub outcome: Option<String>,
    pub verdict: Option<String>,
    /// The public price the page showed, in minor units.
    pub price_minor: Option<i64>,
    pub availability: Option<String>,
    pub http_status: Option<i64>,
    pub attempts: i64,
    pub created_at: i64,
    /// When the job finished (ms since the epoch); null while pending.
    pub finished_at: Option<i64>,
    /// Why the last attempt failed or could not be read, if it did.
    pub error: Option<String>,
}

/// An admin's review of a report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewRecord {
    /// `approved` or `rejected`.
    pub decision: String,
    /// The admin's email (`user #<id>` once the account is deleted).
    pub by: String,
    pub at: i64,
}

/// A report in the review queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub report_id: i64,
    pub marketplace: String,
    pub asin: String,
    pub title: Option<String>,
    /// Minor units; null for "no price".
    pub price_minor: Option<i64>,
    pub currency: String,
    pub availability: String,
    pub observed_at: i64,
    pub received_at: i64,
    /// `accept`, `accept_and_verify`, `hold` or `reject`.
    pub decision: String,
    /// `held`, `rejected`, `published`, `stale` or `refuted`.
    pub status: String,
    pub suspicion: f64,
    /// The judge's reasons (snake_case codes), most decisive first.
    pub reasons: Vec<String>,
    /// The reporter's public key.
    pub reporter: String,
    pub reporter_record: ReporterRecord,
    /// The latest verification crawl of this report, if one was queued.
    pub crawl: Option<CrawlSummary>,
    /// The admin's review, if an admin decided.
    pub review: Option<ReviewRecord>,
}

/// Report statuses the queue can list.
pub const LISTABLE: [&str; 5] = ["held", "rejected", "published", "stale", "refuted"];

/// Which reports to read.
enum Which {
    Status(String, i64),
    Id(i64),
}

fn decode(col: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.to_string().into(),
    }
}

async fn items(
    conn: &mut AnyConnection,
    which: Which,
    now: Timestamp,
) -> Result<Vec<ReviewItem>, sqlx::Error> {
    let base = "SELECT r.id, p.marketplace, p.asin, p.title, r.price, r.currency, r.availability, \
         r.observed_at, r.received_at, r.decision, r.status, r.suspicion, r.reasons, r.review, \
         r.reviewed_by, r.reviewed_at, u.email AS reviewer, k.public_key, k.kind, \
         k.created_at AS key_created_at, k.confirmed, k.refuted, k.banned, \
         (SELECT COUNT(*) FROM reports x WHERE x.reporter_id = k.id) AS key_reports \
         FROM reports r JOIN products p ON p.id = r.product_id \
         JOIN reporters k ON k.id = r.reporter_id LEFT JOIN users u ON u.id = r.reviewed_by";
    let rows = match which {
        Which::Status(status, limit) => {
            sqlx::query(&format!(
                "{base} WHERE r.status = $1 ORDER BY r.id DESC LIMIT $2"
            ))
            .bind(status)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
        }
        Which::Id(id) => {
            sqlx::query(&format!("{base} WHERE r.id = $1"))
                .bind(id)
                .fetch_all(&mut *conn)
                .await?
        }
    };
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let mut crawls = latest_crawls(conn, &ids).await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let reasons: String = r.try_get("reasons")?;
            let banned: i64 = r.try_get("banned")?;
            let kind: String = r.try_get("kind")?;
            let confirmed: i64 = r.try_get("confirmed")?;
            let refuted: i64 = r.try_get("refuted")?;
            let reputation = reputation_of(
                r.try_get("key_created_at")?,
                confirmed,
                refuted,
                banned,
                &kind,
            );
            let review: Option<String> = r.try_get("review")?;
            let review = match review {
                Some(decision) => {
                    let by: Option<String> = r.try_get("reviewer")?;
                    let by_id: Option<i64> = r.try_get("reviewed_by")?;
                    Some(ReviewRecord {
                        decision,
                        by: by.unwrap_or_else(|| format!("user #{}", by_id.unwrap_or(0))),
                        at: r.try_get::<Option<i64>, _>("reviewed_at")?.unwrap_or(0),
                    })
                }
                None => None,
            };
            Ok(ReviewItem {
                report_id: id,
                marketplace: r.try_get("marketplace")?,
                asin: r.try_get("asin")?,
                title: r.try_get("title")?,
                price_minor: r.try_get("price")?,
                currency: r.try_get("currency")?,
                availability: r.try_get("availability")?,
                observed_at: r.try_get("observed_at")?,
                received_at: r.try_get("received_at")?,
                decision: r.try_get("decision")?,
                status: r.try_get("status")?,
                suspicion: r.try_get("suspicion")?,
                reasons: serde_json::from_str(&reasons).map_err(|e| decode("reasons", e))?,
                reporter: r.try_get("public_key")?,
                reporter_record: ReporterRecord {
                    confirmed,
                    refuted,
                    banned: banned != 0,
                    score: reputation.score(now),
                    reports: r.try_get("key_reports")?,
                },
                crawl: crawls.remove(&id),
                review,
            })
        })
        .collect()
}

/// The latest crawl job of each of `report_ids`.
async fn latest_crawls(
    conn: &mut AnyConnection,
    report_ids: &[i64],
) -> Result<HashMap<i64, CrawlSummary>, sqlx::Error> {
    let mut out = HashMap::new();
    for chunk in report_ids.chunks(500) {
        let sql = format!(
            "SELECT id, report_id, created_at, claimed_by, attempts, done_at, result \
             FROM crawl_jobs WHERE report_id IN ({}) ORDER BY id DESC",
            crate::store::numbered_params(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let report_id: i64 = row.try_get("report_id")?;
            if out.contains_key(&report_id) {
                continue;
            }
            let result: Option<String> = row.try_get("result")?;
            let result: Option<serde_json::Value> =
                result.and_then(|t| serde_json::from_str(&t).ok());
            let claimed_by: Option<String> = row.try_get("claimed_by")?;
            let finished_at: Option<i64> = row.try_get("done_at")?;
            out.insert(
                report_id,
                crawl_summary(
                    row.try_get("id")?,
                    row.try_get("created_at")?,
                    row.try_get("attempts")?,
                    claimed_by.is_some(),
                    finished_at,
                    result.as_ref(),
                ),
            );
        }
    }
    Ok(out)
}

fn crawl_summary(
    job_id: i64,
    created_at: i64,
    attempts: i64,
    claimed: bool,
    finished_at: Option<i64>,
    result: Option<&serde_json::Value>,
) -> CrawlSummary {
    let text = |key: &str| {
        result
            .and_then(|r| r.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let outcome = text("outcome");
    let verdict = text("verdict");
    let observation = result.and_then(|r| r.get("observation"));
    let state = match (finished_at, claimed, &verdict, &outcome) {
        (None, true, _, _) => "crawling".to_owned(),
        (None, false, _, None) => "queued".to_owned(),
        (None, false, _, Some(_)) => "retrying".to_owned(),
        (Some(_), _, Some(v), _) => v.clone(),
        (Some(_), _, None, Some(o)) => o.clone(),
        (Some(_), _, None, None) => "done".to_owned(),
    };
    CrawlSummary {
        job_id,
        state,
        outcome,
        verdict,
        price_minor: observation
            .and_then(|o| o.get("price"))
            .and_then(|p| p.get("amount_minor"))
            .and_then(serde_json::Value::as_i64),
        availability: observation
            .and_then(|o| o.get("availability"))
            .and_then(|a| a.as_str())
            .map(str::to_owned),
        http_status: result
            .and_then(|r| r.get("http_status"))
            .and_then(serde_json::Value::as_i64),
        attempts,
        created_at,
        finished_at,
        error: text("error").or_else(|| text("reason")),
    }
}

/// Reports with `status`, newest first.
pub async fn queue(
    state: &AppState,
    status: &str,
    limit: i64,
) -> Result<Vec<ReviewItem>, ApiError> {
    if !LISTABLE.contains(&status) {
        return Err(ApiError::field(
            "status",
            format!("status is one of {}", LISTABLE.join(", ")),
        ));
    }
    let mut conn = state.db.read.acquire().await?;
    Ok(items(
        &mut conn,
        Which::Status(status.to_owned(), limit.clamp(1, 500)),
        state.clock.now(),
    )
    .await?)
}

/// Approve or reject report `report_id` as `admin`, with its audit entry, in one
/// transaction. Answers the report as the queue now shows it.
#[tracing::instrument(skip(state, admin), fields(admin = admin.id))]
pub async fn review(
    state: &AppState,
    admin: &User,
    report_id: i64,
    review: Review,
) -> Result<ReviewItem, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.write.begin().await?;
    let reviewed =
        verdict::review_report(&mut tx, state.db.backend, report_id, review, admin.id, now)
            .await
            .map_err(|e| match e {
                ReviewError::NoReport(_) => ApiError::NotFound(e.to_string()),
                ReviewError::AlreadyDecided { .. } => ApiError::Conflict {
                    code: "already_decided",
                    message: e.to_string(),
                    field: None,
                },
                ReviewError::Db(e) => e.into(),
            })?;
    let (name, detail) = match review {
        Review::Approved => (
            action::APPROVE,
            json!({
                "status_before": reviewed.status_before,
                "status": reviewed.status,
                "point_id": reviewed.point_id,
            }),
        ),
        Review::Rejected => (
            action::REJECT,
            json!({
                "status_before": reviewed.status_before,
                "status": reviewed.status,
                "reverted_points": reviewed.reverted_points,
            }),
        ),
    };
    audit::insert(
        &mut tx,
        &NewEntry {
            admin_user_id: admin.id,
            action: name,
            target_kind: target::REPORT,
            target: &report_id.to_string(),
            detail: &detail,
        },
        now,
    )
    .await?;
    let item = items(&mut tx, Which::Id(report_id), now)
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound(format!("no report {report_id}")))?;
    tx.commit().await?;
    Ok(item)
}

/// A reporter key as the admin pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReporterView {
    pub public_key: String,
    /// `extension` or `crawler`.
    pub kind: String,
    pub created_at: i64,
    pub confirmed: i64,
    pub refuted: i64,
    pub banned: bool,
    /// Core's reputation score in `[0, 1]` now.
    pub score: f64,
    /// Reports the key has sent.
    pub reports: i64,
    pub last_report_at: Option<i64>,
}

/// How to order the reporter list.
pub const REPORTER_SORTS: [&str; 4] = ["recent", "reports", "refuted", "last_report"];

const REPORTER_SELECT: &str =
    "SELECT k.public_key, k.kind, k.created_at, k.confirmed, k.refuted, k.banned, \
     k.last_report_at, (SELECT COUNT(*) FROM reports x WHERE x.reporter_id = k.id) AS reports \
     FROM reporters k";

fn reporter_view(row: &sqlx::any::AnyRow, now: Timestamp) -> Result<ReporterView, sqlx::Error> {
    let created_at: i64 = row.try_get("created_at")?;
    let confirmed: i64 = row.try_get("confirmed")?;
    let refuted: i64 = row.try_get("refuted")?;
    let banned: i64 = row.try_get("banned")?;
    let kind: String = row.try_get("kind")?;
    let score = reputation_of(created_at, confirmed, refuted, banned, &kind).score(now);
    Ok(ReporterView {
        public_key: row.try_get("public_key")?,
        kind,
        created_at,
        confirmed,
        refuted,
        banned: banned != 0,
        score,
        reports: row.try_get("reports")?,
        last_report_at: row.try_get("last_report_at")?,
    })
}

/// Reporter keys, ordered by `sort` (newest keys first by default).
pub async fn reporters(
    state: &AppState,
    sort: &str,
    limit: i64,
) -> Result<Vec<ReporterView>, ApiError> {
    let order = match sort {
        "recent" => "k.created_at DESC, k.id DESC",
        "reports" => "reports DESC, k.id DESC",
        "refuted" => "k.refuted DESC, k.id DESC",
        // Keys that never reported last; NULLs sort differently on the two engines.
        "last_report" => "COALESCE(k.last_report_at, 0) DESC, k.id DESC",
        _ => {
            return Err(ApiError::field(
                "sort",
                format!("sort is one of {}", REPORTER_SORTS.join(", ")),
            ))
        }
    };
    let rows = sqlx::query(&format!("{REPORTER_SELECT} ORDER BY {order} LIMIT $1"))
        .bind(limit.clamp(1, 1_000))
        .fetch_all(&state.db.read)
        .await?;
    let now = state.clock.now();
    Ok(rows
        .iter()
        .map(|r| reporter_view(r, now))
        .collect::<Result<_, _>>()?)
}

/// Ban or unban a reporter key as `admin`, with its audit entry, in one transaction.
/// A banned key's reports are rejected by the judge from then on.
#[tracing::instrument(skip(state, admin), fields(admin = admin.id))]
pub async fn set_banned(
    state: &AppState,
    admin: &User,
    public_key: &str,
    banned: bool,
) -> Result<ReporterView, ApiError> {
    let key = ReporterKey::parse(public_key)
        .map_err(|e| ApiError::field("public_key", format!("not a reporter key: {e}")))?
        .to_string();
    let now = state.clock.now();
    let mut tx = state.db.write.begin().await?;
    let was: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT banned FROM reporters WHERE public_key = $1{}",
        crate::store::for_update(state.db.backend)
    ))
    .bind(&key)
    .fetch_optional(&mut *tx)
    .await?;
    let was = was.ok_or_else(|| ApiError::NotFound(format!("no reporter key {key}")))?;
    sqlx::query("UPDATE reporters SET banned = $1 WHERE public_key = $2")
        .bind(i64::from(banned))
        .bind(&key)
        .execute(&mut *tx)
        .await?;
    audit::insert(
        &mut tx,
        &NewEntry {
            admin_user_id: admin.id,
            action: if banned { action::BAN } else { action::UNBAN },
            target_kind: target::REPORTER,
            target: &key,
            detail: &json!({ "was_banned": was != 0 }),
        },
        now,
    )
    .await?;
    let row = sqlx::query(&format!("{REPORTER_SELECT} WHERE k.public_key = $1"))
        .bind(&key)
        .fetch_one(&mut *tx)
        .await?;
    let view = reporter_view(&row, now)?;
    tx.commit().await?;
    tracing::info!(
        banned,
        "reporter key {} by an admin",
        if banned { "banned" } else { "unbanned" }
    );
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crawl_summary_says_where_the_job_stands() {
        let queued = crawl_summary(1, 10, 0, false, None, None);
        assert_eq!(queued.state, "queued");
        let crawling = crawl_summary(1, 10, 0, true, None, None);
        assert_eq!(crawling.state, "crawling");
        let failed = json!({"outcome": "robot_check", "http_status": 200});
        let retrying = crawl_summary(1, 10, 1, false, None, Some(&failed));
        assert_eq!(retrying.state, "retrying");
        assert_eq!(retrying.http_status, Some(200));
        let judged = json!({
            "outcome": "observed",
            "verdict": "refuted",
            "observation": {"price": {"amount_minor": 1999, "currency": "USD"}, "availability": "in_stock"},
        });
        let done = crawl_summary(1, 10, 1, false, Some(20), Some(&judged));
        assert_eq!(done.state, "refuted");
        assert_eq!(done.price_minor, Some(1999));
        assert_eq!(done.availability.as_deref(), Some("in_stock"));
        assert_eq!(done.finished_at, Some(20));
        let unreadable = json!({"outcome": "unreadable", "reason": "only a price range is shown"});
        let gave_up = crawl_summary(1, 10, 1, false, Some(20), Some(&unreadable));
        assert_eq!(gave_up.state, "unreadable");
        assert_eq!(
            gave_up.error.as_deref(),
            Some("only a price range is shown")
        );
    }
}
