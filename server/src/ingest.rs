//! Ingest of signed price reports: verify, judge, store, publish.
//!
//! A batch is all-or-nothing for what makes a request wrong (a bad signature, a replay, an
//! unknown key, a date outside the skew window): the request is refused with a 4xx naming the
//! report and field, and nothing is written. What the judge decides about well-formed reports
//! (accept, hold, reject) is answered per report. Every accepted change lands in one
//! transaction with its "price changed" outbox event, so there is no dual write.

use pricewatch_core::history::{store, AcceptedObservation, StoreDecision};
use pricewatch_core::judge::{
    self, AcceptedPoint, ConsensusOutcome, Decision, JudgeConfig, ProductState, Reason, Verdict,
};
use pricewatch_core::report::{ReportError, ReportRules, SignedReport, VerifiedReport};
use pricewatch_core::{ProductKey, Span, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::db::Backend;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::points::StoredPoint;
use crate::store::products::Product;
use crate::store::reports::{self, status, NewReport};
use crate::store::{crawl_jobs, outbox, points, products, reporters};

/// How many recent points the judge and the change-only rule see.
const RECENT_POINTS: i64 = 20;

/// One item of a `POST /api/reports` batch.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchItem {
    /// The signed report (see the `report` module of `pricewatch-core` for the encoding).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub signed: SignedReport,
    /// The product title as the page showed it. Not signed, so it only names a product that
    /// has no title yet.
    #[serde(default)]
    pub title: Option<String>,
}

/// The answer for one report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportResult {
    /// Position in the batch.
    pub index: usize,
    pub report_id: i64,
    /// `accepted` (published now), `held` (waiting for verification or agreement) or
    /// `rejected`.
    pub status: &'static str,
    /// The judge's decision: `accept`, `accept_and_verify`, `hold`, `reject`.
    #[schema(value_type = String)]
    pub decision: Decision,
    /// Why, most decisive first (snake_case codes).
    #[schema(value_type = Vec<String>)]
    pub reasons: Vec<Reason>,
    pub suspicion: f64,
    /// For a held report: how many independent reporters must agree to publish it.
    pub required_reporters: Option<u32>,
}

/// The rules reports are checked against, from the settings.
pub fn report_rules(state: &AppState) -> ReportRules {
    ReportRules {
        max_future_skew: Span::seconds(state.settings.ingest.max_future_skew_secs),
        max_age: Span::seconds(state.settings.ingest.max_age_secs),
        ..ReportRules::default()
    }
}

/// Map a verification failure to the 4xx that names the report and the field.
fn refusal(index: usize, e: &ReportError) -> ApiError {
    let (code, field) = match e {
        ReportError::MalformedKey => ("malformed_key", "public_key"),
        ReportError::InvalidKey => ("invalid_key", "public_key"),
        ReportError::MalformedSignature => ("malformed_signature", "signature"),
        ReportError::BadSignature => ("bad_signature", "signature"),
        ReportError::MalformedNonce | ReportError::ZeroNonce => ("malformed_nonce", "report.nonce"),
        ReportError::Replayed => ("replay", "report.nonce"),
        ReportError::FromTheFuture { .. } | ReportError::TooOld { .. } => {
            ("clock_skew", "report.observed_at")
        }
        ReportError::CurrencyMismatch { .. } => ("currency_mismatch", "report.currency"),
        ReportError::NonPositivePrice(_) | ReportError::PriceAboveCeiling { .. } => {
            ("price_out_of_range", "report.price")
        }
        ReportError::ClientVersionTooLong { .. } | ReportError::ClientVersionMalformed(_) => {
            ("invalid_client_version", "report.client_version")
        }
    };
    let field = format!("reports[{index}].{field}");
    let message = format!("reports[{index}]: {e}");
    if matches!(e, ReportError::Replayed) {
        ApiError::Conflict {
            code,
            message,
            field: Some(field),
        }
    } else {
        ApiError::BadRequest {
            code,
            message,
            field: Some(field),
        }
    }
}

/// Verify, judge and store a batch.
pub async fn ingest(
    state: &AppState,
    items: Vec<BatchItem>,
    client: &str,
) -> Result<Vec<ReportResult>, ApiError> {
    let limits = &state.settings.ingest;
    if items.is_empty() {
        return Err(ApiError::field("reports", "the batch is empty"));
    }
    if items.len() > limits.max_batch {
        return Err(ApiError::TooLarge {
            message: format!(
                "{} reports in one batch; at most {} are accepted",
                items.len(),
                limits.max_batch
            ),
            field: Some("reports".into()),
        });
    }
    let now = state.clock.now();
    state
        .limits
        .check(&format!("ip:{client}"), 1, limits.per_ip_per_minute, now)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;

    let rules = report_rules(state);
    let mut verified = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let ok = item
            .signed
            .verify(&rules, now)
            .map_err(|e| refusal(index, &e))?;
        if !seen.insert((ok.key(), ok.report().nonce)) {
            return Err(refusal(index, &ReportError::Replayed));
        }
        let title = item
            .title
            .map(|t| pricewatch_core::page::collapse_whitespace(&t))
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(500).collect::<String>());
        verified.push((index, ok, item.signed.signature, title));
    }
    let mut per_key: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for (_, v, _, _) in &verified {
        *per_key.entry(v.key().to_string()).or_default() += 1;
    }
    for (key, n) in &per_key {
        state
            .limits
            .check(&format!("key:{key}"), *n, limits.per_key_per_minute, now)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    }

    let config = JudgeConfig {
        rules,
        ..JudgeConfig::default()
    };
    let mut tx = state.db.write.begin().await?;
    let mut results = Vec::with_capacity(verified.len());
    for (index, report, signature, title) in &verified {
        let result = ingest_one(
            &mut tx,
            state.db.backend,
            &config,
            *index,
            report,
            signature,
            title.as_deref(),
            now,
        )
        .await?;
        results.push(result);
    }
    tx.commit().await?;
    for r in &results {
        crate::metrics::report_judged(r.status);
    }
    Ok(results)
}

#[allow(clippy::too_many_arguments)]
async fn ingest_one(
    conn: &mut AnyConnection,
    backend: Backend,
    config: &JudgeConfig,
    index: usize,
    verified: &VerifiedReport,
    signature: &str,
    title: Option<&str>,
    now: Timestamp,
) -> Result<ReportResult, ApiError> {
    let report = verified.report();
    let key_hex = verified.key().to_string();
    let reporter = reporters::by_key(conn, &key_hex).await?.ok_or_else(|| {
        ApiError::Forbidden(format!(
            "reports[{index}].public_key: the key is not registered; POST /api/reporters first"
        ))
    })?;
    let reputation = reports::reputation_of(
        reporter.created_at,
        reporter.confirmed,
        reporter.refuted,
        i64::from(reporter.banned),
        &reporter.kind,
    );
    let key = ProductKey {
        marketplace: report.marketplace,
        asin: report.asin,
    };
    let mut product = products::get_or_create_locked(conn, backend, &key, now).await?;
    if let Some(t) = title {
        products::set_title(conn, product.id, t, reporter.kind == "crawler").await?;
    }
    let recent = points::recent(conn, product.id, product.currency, RECENT_POINTS).await?;
    let history: Vec<AcceptedPoint> = recent
        .iter()
        .map(|p| AcceptedPoint {
            price: p.point.price,
            availability: p.point.availability,
            at: p.point.last_seen_at,
        })
        .collect();
    let verdict = judge::judge(
        report,
        &ProductState {
            history: &history,
            subscribers: u32::try_from(product.subscribers).unwrap_or(u32::MAX),
        },
        &reputation,
        config,
        now,
    );

    let observation = AcceptedObservation {
        price: report.price,
        availability: report.availability,
        observed_at: report.observed_at,
    };
    let decision = verdict.decision;
    let store_decision = decision
        .publishes_now()
        .then(|| store(recent.first().map(|p| &p.point), &observation));
    let row_status = match (decision, store_decision) {
        (Decision::Reject, _) => status::REJECTED,
        (Decision::Hold, _) => status::HELD,
        (_, Some(StoreDecision::Stale)) => status::STALE,
        _ => status::PUBLISHED,
    };
    let report_id = reports::insert(
        conn,
        &NewReport {
            reporter_id: reporter.id,
            product_id: product.id,
            report,
            signature,
            verdict: &verdict,
            status: row_status,
            received_at: now,
        },
    )
    .await?
    .ok_or_else(|| refusal(index, &ReportError::Replayed))?;
    sqlx::query("UPDATE reporters SET last_report_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(reporter.id)
        .execute(&mut *conn)
        .await?;

    if let Some(sd) = store_decision {
        apply(conn, &mut product, recent.first(), sd, Some(report_id), now).await?;
    }
    if decision.needs_verification() {
        let priority = verdict.suspicion * (1.0 + product.subscribers as f64);
        crawl_jobs::enqueue_verification(conn, product.id, report_id, priority, now).await?;
    }
    let mut status_word = match decision {
        Decision::Accept | Decision::AcceptAndVerify => "accepted",
        Decision::Hold => "held",
        Decision::Reject => "rejected",
    };
    if decision == Decision::Hold
        && try_consensus(
            conn,
            config,
            &mut product,
            &recent,
            &verdict,
            report_id,
            now,
        )
        .await?
    {
        status_word = "accepted";
    }
    Ok(ReportResult {
        index,
        report_id,
        status: status_word,
        decision,
        reasons: verdict.reasons.clone(),
        suspicion: verdict.suspicion,
        required_reporters: verdict.required_reporters,
    })
}

/// Write a change-only decision: extend the last point, or insert a new one with its outbox
/// event and move the product's current price.
async fn apply(
    conn: &mut AnyConnection,
    product: &mut Product,
    last: Option<&StoredPoint>,
    decision: StoreDecision,
    report_id: Option<i64>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    match (decision, last) {
        (StoreDecision::Extend { last_seen_at }, Some(last)) => {
            points::extend(conn, last.id, last_seen_at).await?;
            products::touch(conn, product.id, now).await?;
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
        }
        // Stale, or an extension with no point to extend (cannot happen: Extend needs one).
        _ => {}
    }
    Ok(())
}

/// A held report may complete a consensus of independent reporters: then the agreed price
/// is published and the supporters' reports are marked published. Returns whether the
/// report just held was among them.
async fn try_consensus(
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
