//! Held reports that together publish a price: when independent reporters agree, the agreed
//! price is stored (change-only) with its outbox event and their reports marked published.

use pricewatch_core::history::{store, AcceptedObservation, StoreDecision};
use pricewatch_core::judge::{ConsensusOutcome, JudgeConfig, Verdict};
use pricewatch_core::Timestamp;
use serde_json::json;
use sqlx::AnyConnection;

use crate::store::points::StoredPoint;
use crate::store::products::Product;
use crate::store::reports;
use crate::store::{outbox, points, products};

/// Write a change-only decision one report at a time: extend the last point, or insert a new
/// one with its outbox event and move the product's current price. Used by the consensus path
/// and by admin and crawl verdicts, which are rare (the batch path writes in bulk). Returns the
/// point that now shows the observation, or `None` when the history has moved past it.
pub(crate) async fn apply(
    conn: &mut AnyConnection,
    product: &mut Product,
    last: Option<&StoredPoint>,
    decision: StoreDecision,
    report_id: Option<i64>,
    now: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    match (decision, last) {
        (StoreDecision::Extend { last_seen_at }, Some(last)) => {
            points::extend(conn, last.id, last_seen_at).await?;
            products::touch(conn, product.id, now).await?;
            Ok(Some(last.id))
        }
        (StoreDecision::NewPoint(point), _) => {
            let point_id = points::insert(conn, product.id, &point, report_id).await?;
            products::set_current(
                conn,
                product.id,
                point.price,
                point.availability,
                point_id,
                now,
            )
            .await?;
            let payload = json!({
                "product_id": product.id,
                "marketplace": product.key.marketplace,
                "asin": product.key.asin,
                "price_point_id": point_id,
                "currency": product.currency,
                "old_price": last.and_then(|l| l.point.price).map(|p| p.amount_minor),
                "new_price": point.price.map(|p| p.amount_minor),
                "old_availability": last.map(|l| l.point.availability),
                "availability": point.availability,
                "observed_at": point.first_seen_at,
            });
            outbox::insert(
                conn,
                outbox::PRICE_CHANGED,
                product.id,
                Some(point_id),
                &payload,
                now,
            )
            .await?;
            product.current_price = point.price;
            product.availability = point.availability;
            product.current_point_id = Some(point_id);
            Ok(Some(point_id))
        }
        // Stale, or an extension with no point to extend (cannot happen: Extend needs one).
        _ => Ok(None),
    }
}

/// A held report may complete a consensus of independent reporters: then the agreed price
/// is published and the supporters' reports are marked published. Returns whether the
/// report just held was among them.
pub(super) async fn try_consensus(
    conn: &mut AnyConnection,
    config: &JudgeConfig,
    product: &mut Product,
    recent: &[StoredPoint],
    verdict: &Verdict,
    report_id: i64,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let since = now - config.rules.max_age;
    let held = reports::held(conn, product.id, product.currency, since, now).await?;
    let held_reports: Vec<_> = held.iter().map(|(_, h)| *h).collect();
    let ConsensusOutcome::Confirmed {
        price,
        availability,
        supporters,
        ..
    } = config
        .consensus
        .evaluate(verdict.reference, &held_reports, now)
    else {
        return Ok(false);
    };
    let supporting: Vec<(i64, Timestamp)> = held
        .iter()
        .filter(|(_, h)| supporters.contains(&h.key))
        .map(|(id, h)| (*id, h.observed_at))
        .collect();
    let observed_at = supporting.iter().map(|(_, at)| *at).max().unwrap_or(now);
    let observation = AcceptedObservation {
        price,
        availability,
        observed_at,
    };
    let decision = store(recent.first().map(|p| &p.point), &observation);
    apply(
        conn,
        product,
        recent.first(),
        decision,
        Some(report_id),
        now,
    )
    .await?;
    let ids: Vec<i64> = supporting.iter().map(|(id, _)| *id).collect();
    reports::mark_published(conn, &ids).await?;
    Ok(ids.contains(&report_id))
}
