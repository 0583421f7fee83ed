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
//! The SQL on reports, reporters and points lives here rather than in `store/` because only
//! verdicts write these columns, and every step must share the caller's transaction.

use pricewatch_core::history::{store, AcceptedObservation, StoreDecision};
use pricewatch_core::{Availability, Money, ProductKey, Timestamp};
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::db::Backend;
use crate::store::products::{availability_from, Product};
use crate::store::{outbox, points, price_days, products};

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
    sqlx::query(&format!(
        "UPDATE reporters SET {counter} = {counter} + 1 WHERE id = $1"
    ))
    .bind(reporter_id)
    .execute(&mut *conn)
    .await?;
    let mut reverted_points = Vec::new();
    if verdict == Verdict::Refuted {
        let published: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM price_points WHERE report_id = $1 AND status = 'published' ORDER BY id",
        )
        .bind(report_id)
        .fetch_all(&mut *conn)
        .await?;
        for point_id in published {
            if on_point_refuted(conn, &product, point_id, report_id, truth, now)
                .await?
                .is_some()
            {
                reverted_points.push(point_id);
            }
        }
    }
    tracing::info!(?verdict, status = %status, reverted = reverted_points.len(), "report judged by crawl");
    Ok(Judged {
        verdict,
        status_before: Some(status),
        reverted_points,
    })
}

/// A published price point was refuted: mark it `reverted` (charts and the judge stop
/// seeing it), store the crawled truth against the point before it (extending it when the
/// truth is the price it showed, else a new point with its `price_changed` event, as ingest
/// writes them), move the product's current price there (bumping its version, so ETags
/// change), and leave a [`PRICE_REFUTED`] outbox event for the corrections of alerts sent
/// on the refuted point, all in the caller's transaction. Returns the point now standing
/// for the truth, or `None` when the refuted point was not published (already reverted).
#[tracing::instrument(skip(conn, product, truth), fields(product_id = product.id, point_id, report_id))]
pub async fn on_point_refuted(
    conn: &mut AnyConnection,
    product: &Product,
    point_id: i64,
    report_id: i64,
    truth: &Truth,
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
    // The packed copy of the refuted point's day (and after) goes first, before the point
    // changes: see `price_days::unpack_from`.
    let refuted_at = Timestamp::from_millis(refuted.try_get("first_seen_at")?);
    price_days::unpack_from(conn, product.id, refuted_at).await?;
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
        price_days::unpack_from(conn, product.id, restored.point.first_seen_at).await?;
    }
    let real_price = truth.price.filter(|p| p.currency == product.currency);
    let observation = AcceptedObservation {
        price: real_price,
        availability: truth.availability,
        observed_at: truth.observed_at,
    };
    let real_point = match (
        store(restored.as_ref().map(|p| &p.point), &observation),
        restored,
    ) {
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
