//! Verdicts: what a verification crawl does to the report it checks.
//!
//! - Confirmed: the reporter's `confirmed` goes up; a held report is published (the crawl's
//!   own report, ingested next, moves the price, and its `price_changed` event drives alerts).
//! - Refuted: the reporter's `refuted` goes up and the report is marked `refuted`; if its
//!   price had been published, [`on_point_refuted`] reverts the point, stores the crawled
//!   truth and emits a `price_refuted` event for the corrections of alerts sent on it.
//!
//! A report is judged once (`reports.verification`): crawling it again records the new
//! crawl on its job but counts nothing twice.
//!
//! An admin's review ([`review_report`]) is a verdict too, and the last word: approving
//! publishes the report's price (a point and its `price_changed` event, as ingest writes
//! them, so alerts follow) and counts a confirmation; rejecting reverts a published price as
//! a refuting crawl does (corrections follow) and counts a refutation. A review that
//! overturns an earlier verdict moves the count from one column to the other.
//!
//! The SQL on reports, reporters and points lives here rather than in `store/` because only
//! verdicts write these columns, and every step must share the caller's transaction.

use pricewatch_core::history::{store, AcceptedObservation, StoreDecision};
use pricewatch_core::{Asin, Availability, Marketplace, Money, ProductKey, Timestamp};
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::db::Backend;
use crate::store::products::{availability_from, Product};
use crate::store::{outbox, points, price_runs, products};

/// The outbox event a refuted, published price leaves for the alert side's corrections:
/// `{product_id, marketplace, asin, price_point_id, report_id, currency, refuted_price,
/// refuted_availability, real_price, availability, real_point_id, observed_at}`.
pub const PRICE_REFUTED: &str = "price_refuted";

/// What the crawl saw: the public price (if any) and the availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Truth {
    pub price: Option<Money>,
    pub availability: Availability,
    pub observed_at: Timestamp,
}

/// What became of the checked report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Confirmed,
    Refuted,
    /// An earlier crawl judged it; nothing is counted again.
    AlreadyVerified,
    /// The report no longer exists.
    NoReport,
}

/// The outcome of [`judge_report`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judged {
    pub verdict: Verdict,
    /// The report's status before the verdict (`held`, `published`, `stale`).
    pub status_before: Option<String>,
    /// Points reverted because they published the refuted price.
    pub reverted_points: Vec<i64>,
}

/// Whether a reported price and availability agree with the crawled truth: the same
/// availability (unknown matches anything), and both without a price or both within
/// `tolerance_bp` basis points of the crawled price (integer arithmetic).
pub fn agrees(
    price: Option<Money>,
    availability: Availability,
    truth: &Truth,
    tolerance_bp: u32,
) -> bool {
    let availability_ok = availability == truth.availability
        || availability == Availability::Unknown
        || truth.availability == Availability::Unknown;
    let price_ok = match (price, truth.price) {
        (None, None) => true,
        (Some(r), Some(t)) if r.currency == t.currency => {
            let diff = (i128::from(r.amount_minor) - i128::from(t.amount_minor)).abs();
            diff * 10_000 <= i128::from(t.amount_minor).abs() * i128::from(tolerance_bp)
        }
        _ => false,
    };
    availability_ok && price_ok
}

/// Judge report `report_id` against `truth`, in the caller's transaction.
#[tracing::instrument(skip(conn, truth), fields(report_id, marketplace = %key.marketplace, asin = %key.asin))]
pub async fn judge_report(
    conn: &mut AnyConnection,
    backend: Backend,
    key: &ProductKey,
    report_id: i64,
    truth: &Truth,
    tolerance_bp: u32,
    now: Timestamp,
) -> Result<Judged, sqlx::Error> {
    // Lock the product first, as ingest does, so a verdict and a report never interleave.
    let product = products::get_or_create_locked(conn, backend, key, now).await?;
    let row = sqlx::query(&format!(
        "SELECT reporter_id, price, availability, status, verification FROM reports \
         WHERE id = $1{}",
        crate::store::for_update(backend)
    ))
    .bind(report_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Judged {
            verdict: Verdict::NoReport,
            status_before: None,
            reverted_points: Vec::new(),
        });
    };
    let status: String = row.try_get("status")?;
    let verification: Option<String> = row.try_get("verification")?;
    if verification.is_some() {
        return Ok(Judged {
            verdict: Verdict::AlreadyVerified,
            status_before: Some(status),
            reverted_points: Vec::new(),
        });
    }
    let reporter_id: i64 = row.try_get("reporter_id")?;
    let price: Option<i64> = row.try_get("price")?;
    let availability: String = row.try_get("availability")?;
    let reported = price.map(|p| Money::new(p, product.currency));
    let confirmed = agrees(
        reported,
        availability_from(&availability),
        truth,
        tolerance_bp,
    );
    let (verdict, counter, new_status) = if confirmed {
        let publish = status == crate::store::reports::status::HELD;
        (
            Verdict::Confirmed,
            "confirmed",
            if publish {
                "published"
            } else {
                status.as_str()
            },
        )
    } else {
        (Verdict::Refuted, "refuted", "refuted")
    };
    sqlx::query(
        "UPDATE reports SET verification = $1, verified_at = $2, status = $3 WHERE id = $4",
    )
    .bind(counter)
    .bind(now.as_millis())
    .bind(new_status)
    .bind(report_id)
    .execute(&mut *conn)
    .await?;
    count_verdict(conn, reporter_id, None, counter).await?;
    let reverted_points = if verdict == Verdict::Refuted {
        revert_report(conn, &product, report_id, Some(truth), now).await?
    } else {
        Vec::new()
    };
    tracing::info!(?verdict, status = %status, reverted = reverted_points.len(), "report judged by crawl");
    Ok(Judged {
        verdict,
        status_before: Some(status),
        reverted_points,
    })
}

/// Count a verdict on a reporter: `counter` (`confirmed` or `refuted`) goes up, and the
/// count of an earlier, overturned verdict `previous` goes down.
async fn count_verdict(
    conn: &mut AnyConnection,
    reporter_id: i64,
    previous: Option<&str>,
    counter: &'static str,
) -> Result<(), sqlx::Error> {
    // Column names come from this list only, never from stored text.
    let undo = match previous {
        Some(p) if p == counter => return Ok(()),
        Some("confirmed") => ", confirmed = CASE WHEN confirmed > 0 THEN confirmed - 1 ELSE 0 END",
        Some("refuted") => ", refuted = CASE WHEN refuted > 0 THEN refuted - 1 ELSE 0 END",
        _ => "",
    };
    sqlx::query(&format!(
        "UPDATE reporters SET {counter} = {counter} + 1{undo} WHERE id = $1"
    ))
    .bind(reporter_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Revert every published point report `report_id` made (see [`on_point_refuted`]);
/// returns the points reverted.
async fn revert_report(
    conn: &mut AnyConnection,
    product: &Product,
    report_id: i64,
    truth: Option<&Truth>,
    now: Timestamp,
) -> Result<Vec<i64>, sqlx::Error> {
    let published: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM price_points WHERE report_id = $1 AND status = 'published' ORDER BY id",
    )
    .bind(report_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut reverted = Vec::new();
    for point_id in published {
        if on_point_refuted(conn, product, point_id, report_id, truth, now)
            .await?
            .is_some()
        {
            reverted.push(point_id);
        }
    }
    Ok(reverted)
}

/// A published price point was refuted: mark it `reverted` (charts and the judge stop
/// seeing it), store the crawled truth against the point before it (extending it when the
/// truth is the price it showed, else a new point with its `price_changed` event, as ingest
/// writes them), move the product's current price there (bumping its version, so ETags
/// change), and leave a [`PRICE_REFUTED`] outbox event for the corrections of alerts sent
/// on the refuted point, all in the caller's transaction. Without a `truth` (an admin
/// rejected the report; nothing was crawled) the point before it stands for the real price.
/// Returns the point now standing for the truth, or `None` when the refuted point was not
/// published (already reverted).
#[tracing::instrument(skip(conn, product, truth), fields(product_id = product.id, point_id, report_id))]
pub async fn on_point_refuted(
    conn: &mut AnyConnection,
    product: &Product,
    point_id: i64,
    report_id: i64,
    truth: Option<&Truth>,
    now: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    let refuted = sqlx::query(
        "SELECT price, availability, first_seen_at FROM price_points \
         WHERE id = $1 AND status = 'published'",
    )
    .bind(point_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(refuted) = refuted else {
        return Ok(None);
    };
    let refuted_price: Option<i64> = refuted.try_get("price")?;
    let refuted_availability: String = refuted.try_get("availability")?;
    // The packed copy of the refuted point's run (and later runs) goes first, before the
    // point changes: see `price_runs::unpack_from`.
    let refuted_at = Timestamp::from_millis(refuted.try_get("first_seen_at")?);
    price_runs::unpack_from(conn, product.id, refuted_at).await?;
    sqlx::query("UPDATE price_points SET status = 'reverted' WHERE id = $1")
        .bind(point_id)
        .execute(&mut *conn)
        .await?;
    let restored = points::recent(conn, product.id, product.currency, 1)
        .await?
        .into_iter()
        .next();
    if let Some(restored) = &restored {
        // The point before the refuted one is the latest again and may be extended below.
        price_runs::unpack_from(conn, product.id, restored.point.first_seen_at).await?;
    }
    let crawled = truth.is_some();
    let truth = match truth {
        Some(t) => Truth {
            price: t.price.filter(|p| p.currency == product.currency),
            ..*t
        },
        None => Truth {
            price: restored.and_then(|r| r.point.price),
            availability: restored.map_or(Availability::Unknown, |r| r.point.availability),
            observed_at: now,
        },
    };
    let real_price = truth.price;
    let observation = AcceptedObservation {
        price: real_price,
        availability: truth.availability,
        observed_at: truth.observed_at,
    };
    let decision = if crawled {
        store(restored.as_ref().map(|p| &p.point), &observation)
    } else {
        // Nothing new was seen: the point before stands as it is.
        StoreDecision::Stale
    };
    let real_point = match (decision, restored) {
        (StoreDecision::NewPoint(point), restored) => {
            let id = points::insert(conn, product.id, &point, None).await?;
            let payload = json!({
                "product_id": product.id,
                "marketplace": product.key.marketplace,
                "asin": product.key.asin,
                "price_point_id": id,
                "currency": product.currency,
                "old_price": restored.and_then(|r| r.point.price).map(|p| p.amount_minor),
                "new_price": point.price.map(|p| p.amount_minor),
                "old_availability": restored.map(|r| r.point.availability),
                "availability": point.availability,
                "observed_at": point.first_seen_at,
            });
            outbox::insert(
                conn,
                outbox::PRICE_CHANGED,
                product.id,
                Some(id),
                &payload,
                now,
            )
            .await?;
            Some(id)
        }
        (StoreDecision::Extend { last_seen_at }, Some(restored)) => {
            points::extend(conn, restored.id, last_seen_at).await?;
            Some(restored.id)
        }
        (_, restored) => restored.map(|r| r.id),
    };
    sqlx::query(
        "UPDATE products SET current_price = $1, availability = $2, current_point_id = $3, \
         version = version + 1, updated_at = $4 WHERE id = $5",
    )
    .bind(real_price.map(|p| p.amount_minor))
    .bind(truth.availability.as_str())
    .bind(real_point)
    .bind(now.as_millis())
    .bind(product.id)
    .execute(&mut *conn)
    .await?;
    let payload = json!({
        "product_id": product.id,
        "marketplace": product.key.marketplace,
        "asin": product.key.asin,
        "price_point_id": point_id,
        "report_id": report_id,
        "currency": product.currency,
        "refuted_price": refuted_price,
        "refuted_availability": refuted_availability,
        "real_price": real_price.map(|p| p.amount_minor),
        "availability": truth.availability,
        "real_point_id": real_point,
        "observed_at": truth.observed_at,
    });
    outbox::insert(
        conn,
        PRICE_REFUTED,
        product.id,
        Some(point_id),
        &payload,
        now,
    )
    .await?;
    tracing::warn!(
        refuted_price,
        real_price = real_price.map(|p| p.amount_minor),
        "published price refuted and reverted"
    );
    Ok(Some(real_point.unwrap_or(point_id)))
}

/// An admin's decision on a report from the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    Approved,
    Rejected,
}

/// Why a review was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no report {0}")]
    NoReport(i64),
    #[error("report {id} is {status} already")]
    AlreadyDecided { id: i64, status: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What a review did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reviewed {
    pub status_before: String,
    /// `published` (or `stale` when the history already moved past the report), `rejected`.
    pub status: String,
    pub reporter_id: i64,
    /// Approved: the point showing the report's price now (new or extended).
    pub point_id: Option<i64>,
    /// Rejected: the points reverted because they published the report's price.
    pub reverted_points: Vec<i64>,
}

/// Apply an admin's `review` of report `report_id` in the caller's transaction. Approving
/// takes held and rejected reports; rejecting takes held, published and stale ones.
#[tracing::instrument(skip(conn))]
pub async fn review_report(
    conn: &mut AnyConnection,
    backend: Backend,
    report_id: i64,
    review: Review,
    admin_user_id: i64,
    now: Timestamp,
) -> Result<Reviewed, ReviewError> {
    let key_row = sqlx::query(
        "SELECT p.marketplace, p.asin FROM reports r JOIN products p ON p.id = r.product_id \
         WHERE r.id = $1",
    )
    .bind(report_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ReviewError::NoReport(report_id))?;
    let key = product_key(&key_row)?;
    // Lock the product first, as ingest and crawl verdicts do.
    let product = products::get_or_create_locked(conn, backend, &key, now).await?;
    let row = sqlx::query(&format!(
        "SELECT reporter_id, price, availability, observed_at, status, verification \
         FROM reports WHERE id = $1{}",
        crate::store::for_update(backend)
    ))
    .bind(report_id)
    .fetch_one(&mut *conn)
    .await?;
    let status_before: String = row.try_get("status")?;
    let verification: Option<String> = row.try_get("verification")?;
    let reporter_id: i64 = row.try_get("reporter_id")?;
    use crate::store::reports::status;
    let allowed = match review {
        Review::Approved => [status::HELD, status::REJECTED].contains(&status_before.as_str()),
        Review::Rejected => {
            [status::HELD, status::PUBLISHED, status::STALE].contains(&status_before.as_str())
        }
    };
    if !allowed {
        return Err(ReviewError::AlreadyDecided {
            id: report_id,
            status: status_before,
        });
    }
    let (counter, mut reviewed) = match review {
        Review::Approved => {
            let price: Option<i64> = row.try_get("price")?;
            let availability: String = row.try_get("availability")?;
            let observation = AcceptedObservation {
                price: price.map(|p| Money::new(p, product.currency)),
                availability: availability_from(&availability),
                observed_at: Timestamp::from_millis(row.try_get("observed_at")?),
            };
            let point_id = publish(conn, &product, report_id, &observation, now).await?;
            (
                "confirmed",
                Reviewed {
                    status: if point_id.is_some() {
                        status::PUBLISHED
                    } else {
                        status::STALE
                    }
                    .to_owned(),
                    point_id,
                    reverted_points: Vec::new(),
                    status_before: String::new(),
                    reporter_id,
                },
            )
        }
        Review::Rejected => {
            let reverted_points = revert_report(conn, &product, report_id, None, now).await?;
            (
                "refuted",
                Reviewed {
                    status: status::REJECTED.to_owned(),
                    point_id: None,
                    reverted_points,
                    status_before: String::new(),
                    reporter_id,
                },
            )
        }
    };
    count_verdict(conn, reporter_id, verification.as_deref(), counter).await?;
    sqlx::query(
        "UPDATE reports SET status = $1, verification = $2, verified_at = $3, review = $4, \
         reviewed_by = $5, reviewed_at = $3 WHERE id = $6",
    )
    .bind(&reviewed.status)
    .bind(counter)
    .bind(now.as_millis())
    .bind(match review {
        Review::Approved => "approved",
        Review::Rejected => "rejected",
    })
    .bind(admin_user_id)
    .bind(report_id)
    .execute(&mut *conn)
    .await?;
    reviewed.status_before = status_before;
    tracing::info!(?review, status = %reviewed.status, reverted = reviewed.reverted_points.len(), "report reviewed by an admin");
    Ok(reviewed)
}

fn product_key(row: &sqlx::any::AnyRow) -> Result<ProductKey, sqlx::Error> {
    let decode = |col: &str, e: String| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.into(),
    };
    let marketplace: String = row.try_get("marketplace")?;
    let asin: String = row.try_get("asin")?;
    Ok(ProductKey {
        marketplace: marketplace
            .parse::<Marketplace>()
            .map_err(|e| decode("marketplace", e.to_string()))?,
        asin: Asin::parse(&asin).map_err(|e| decode("asin", e.to_string()))?,
    })
}

/// Store a report's observation as ingest stores an accepted one (change-only: a new point
/// with its `price_changed` event and the product's current price moved, or the last point
/// extended). Returns the point that shows it, or `None` when the history has already
/// moved past it.
async fn publish(
    conn: &mut AnyConnection,
    product: &Product,
    report_id: i64,
    observation: &AcceptedObservation,
    now: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    let last = points::recent(conn, product.id, product.currency, 1)
        .await?
        .into_iter()
        .next();
    let decision = store(last.as_ref().map(|l| &l.point), observation);
    crate::ingest::apply_decision(
        conn,
        &mut product.clone(),
        last.as_ref(),
        decision,
        Some(report_id),
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricewatch_core::Currency;

    fn truth(price: Option<i64>, availability: Availability) -> Truth {
        Truth {
            price: price.map(|p| Money::new(p, Currency::Usd)),
            availability,
            observed_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn reports_agree_within_the_tolerance_and_on_availability() {
        let usd = |p| Some(Money::new(p, Currency::Usd));
        let t = truth(Some(10_000), Availability::InStock);
        assert!(agrees(usd(10_000), Availability::InStock, &t, 100));
        assert!(
            agrees(usd(9_900), Availability::InStock, &t, 100),
            "1 % off"
        );
        assert!(!agrees(usd(9_899), Availability::InStock, &t, 100));
        assert!(!agrees(usd(1), Availability::InStock, &t, 100));
        assert!(agrees(usd(10_000), Availability::Unknown, &t, 100));
        assert!(!agrees(None, Availability::OutOfStock, &t, 100));
        let gone = truth(None, Availability::OutOfStock);
        assert!(agrees(None, Availability::OutOfStock, &gone, 100));
        assert!(!agrees(usd(10_000), Availability::InStock, &gone, 100));
        let eur = Some(Money::new(10_000, Currency::Eur));
        assert!(
            !agrees(eur, Availability::InStock, &t, 100),
            "currencies differ"
        );
    }
}
