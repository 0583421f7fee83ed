//! Ingest of signed price reports: verify, judge, store, publish.
//!
//! A batch is all-or-nothing for what makes a request wrong (a bad signature, a replay, an
//! unknown key, a date outside the skew window): the request is refused with a 4xx naming the
//! report and field, and nothing is written. What the judge decides about well-formed reports
//! (accept, hold, reject) is answered per report. Every accepted change lands in one
//! transaction with its "price changed" outbox event, so there is no dual write.
//!
//! # How a batch is written
//! Reports are judged one after another, in batch order, exactly as if each were stored
//! before the next is judged; but the database sees a handful of statements per batch, not
//! a handful per report:
//! 1. signatures are verified in parallel, off the async runtime (they are most of the CPU);
//! 2. the batch's reporters are read in one query, its products created and locked in one
//!    query each (in (marketplace, ASIN) order, so concurrent batches naming the same
//!    products in any order cannot deadlock), and their recent points read in one query;
//! 3. each report is judged against that state, kept current in memory as reports change it;
//! 4. the resulting rows (reports, points, outbox events, crawl jobs, product and point
//!    updates) are written with multi-row statements, in the same transaction.
//!
//! A held report may complete a consensus, which reads the held reports from the database:
//! the writes so far are flushed first, so it sees exactly what the report-by-report order
//! would have stored.

use std::collections::{BTreeMap, HashMap, HashSet};

use pricewatch_core::history::{store, AcceptedObservation, PricePoint, StoreDecision};
use pricewatch_core::judge::{
    self, AcceptedPoint, ConsensusOutcome, Decision, JudgeConfig, ProductState, Reason, Verdict,
};
use pricewatch_core::report::{ReportError, ReportRules, SignedReport, VerifiedReport};
use pricewatch_core::{Currency, ProductKey, Span, Timestamp};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::Backend;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::points::StoredPoint;
use crate::store::products::{availability_from, Product};
use crate::store::reporters::Reporter;
use crate::store::reports::{self, status};
use crate::store::{crawl_jobs, outbox, points, products};

/// How many recent points the judge and the change-only rule see.
const RECENT_POINTS: usize = 20;

/// Below this many reports, verifying on the request's own task is cheaper than handing the
/// batch to the blocking pool.
const PARALLEL_VERIFY_FROM: usize = 8;

/// Bound on the bind parameters of one statement: far under SQLite's 32,766 and
/// PostgreSQL's 65,535, whatever `ingest.max_batch` is set to.
const MAX_PARAMS: usize = 8_000;

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

fn unregistered(index: usize) -> ApiError {
    ApiError::Forbidden(format!(
        "reports[{index}].public_key: the key is not registered; POST /api/reporters first"
    ))
}

/// A verified report with what the batch needs to store it.
struct Checked {
    index: usize,
    report: VerifiedReport,
    key_hex: String,
    nonce_hex: String,
    signature: String,
    title: Option<String>,
}

/// Verify every report; the first failure in batch order refuses the batch, as when they
/// were checked one by one. Runs on the blocking pool, spread over the cores, for batches
/// big enough to be worth it.
async fn verify_all(
    items: Vec<BatchItem>,
    rules: ReportRules,
    now: Timestamp,
) -> Result<Vec<(BatchItem, Result<VerifiedReport, ReportError>)>, ApiError> {
    let verify = move |items: Vec<BatchItem>| {
        let results: Vec<_> = if items.len() >= PARALLEL_VERIFY_FROM {
            items
                .par_iter()
                .map(|i| i.signed.verify(&rules, now))
                .collect()
        } else {
            items.iter().map(|i| i.signed.verify(&rules, now)).collect()
        };
        items.into_iter().zip(results).collect::<Vec<_>>()
    };
    if items.len() >= PARALLEL_VERIFY_FROM {
        tokio::task::spawn_blocking(move || verify(items))
            .await
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("verifying a batch")))
    } else {
        Ok(verify(items))
    }
}

/// Verify, judge and store a batch.
#[tracing::instrument(name = "ingest", skip_all, fields(reports = items.len(), client = client))]
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
    let mut checked = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for (index, (item, result)) in verify_all(items, rules.clone(), now)
        .await?
        .into_iter()
        .enumerate()
    {
        let ok = result.map_err(|e| refusal(index, &e))?;
        if !seen.insert((ok.key(), ok.report().nonce)) {
            return Err(refusal(index, &ReportError::Replayed));
        }
        let title = item
            .title
            .map(|t| pricewatch_core::page::collapse_whitespace(&t))
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(500).collect::<String>());
        checked.push(Checked {
            index,
            key_hex: ok.key().to_string(),
            nonce_hex: ok.report().nonce.to_string(),
            report: ok,
            signature: item.signed.signature,
            title,
        });
    }
    let mut per_key: HashMap<&str, u32> = HashMap::new();
    for c in &checked {
        *per_key.entry(c.key_hex.as_str()).or_default() += 1;
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
    let results = Batch::load(&mut tx, state.db.backend, &checked, config.history_len, now)
        .await?
        .run(&mut tx, &config, &checked)
        .await?;
    tx.commit().await?;
    for r in &results {
        crate::metrics::report_judged(r.status);
    }
    Ok(results)
}

/// A product as the batch sees it: the row and its recent points, kept current in memory.
struct Slot {
    product: Product,
    /// Newest first, at most [`RECENT_POINTS`]. Points this batch has not written yet have
    /// negative (placeholder) ids.
    recent: Vec<StoredPoint>,
    /// The product row must be written back (version, title, current point...).
    dirty: bool,
}

/// A report row waiting to be written.
struct PendingReport {
    /// Position in `checked`.
    at: usize,
    reporter_id: i64,
    product_id: i64,
    verdict: Verdict,
    status: &'static str,
}

/// A new point waiting to be written, with what its outbox event says.
struct PendingPoint {
    /// The placeholder id the slot's `recent` list knows it by.
    placeholder: i64,
    product_id: i64,
    point: PricePoint,
    /// The report that made it (its id is known once reports are written).
    report: (i64, String),
    /// The point it follows, for the event's "old" values.
    previous: Option<PricePoint>,
}

/// What a batch has decided but not yet written.
#[derive(Default)]
struct Pending {
    reports: Vec<PendingReport>,
    points: Vec<PendingPoint>,
    /// Point id → its new `last_seen_at`, for points written before this flush.
    extends: BTreeMap<i64, i64>,
    /// (product, reporter id and nonce of the report, priority).
    verifications: Vec<(i64, (i64, String), f64)>,
}

/// The batch: its reporters and locked products, what it decided, and the ids written.
struct Batch {
    backend: Backend,
    now: Timestamp,
    reporters: HashMap<String, Reporter>,
    slots: HashMap<ProductKey, Slot>,
    pending: Pending,
    /// (reporter id, nonce) → report id, for every report written so far.
    report_ids: HashMap<(i64, String), i64>,
    next_placeholder: i64,
}

impl Batch {
    /// Read the reporters, create and lock the products, read their recent points.
    async fn load(
        conn: &mut AnyConnection,
        backend: Backend,
        checked: &[Checked],
        history_len: usize,
        now: Timestamp,
    ) -> Result<Batch, ApiError> {
        let keys: Vec<&str> = {
            let set: std::collections::BTreeSet<&str> =
                checked.iter().map(|c| c.key_hex.as_str()).collect();
            set.into_iter().collect()
        };
        let reporters = load_reporters(conn, &keys).await?;
        if let Some(first) = checked.iter().find(|c| !reporters.contains_key(&c.key_hex)) {
            // Reports before it that are replays are refused first, as one by one.
            let before: Vec<&Checked> = checked
                .iter()
                .take_while(|c| c.index < first.index)
                .collect();
            if let Some(replay) = first_replay(conn, &reporters, &before).await? {
                return Err(refusal(replay, &ReportError::Replayed));
            }
            return Err(unregistered(first.index));
        }
        let product_keys: Vec<ProductKey> = checked
            .iter()
            .map(product_key)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let locked = lock_products(conn, backend, &product_keys, now).await?;
        let mut recent = recent_points(conn, backend, &locked, history_len).await?;
        let slots = locked
            .into_iter()
            .map(|product| {
                let points = recent.remove(&product.id).unwrap_or_default();
                (
                    product.key,
                    Slot {
                        product,
                        recent: points,
                        dirty: false,
                    },
                )
            })
            .collect();
        Ok(Batch {
            backend,
            now,
            reporters,
            slots,
            pending: Pending::default(),
            report_ids: HashMap::new(),
            next_placeholder: -1,
        })
    }

    /// Judge every report in order, write what they decided, and answer each.
    async fn run(
        mut self,
        conn: &mut AnyConnection,
        config: &JudgeConfig,
        checked: &[Checked],
    ) -> Result<Vec<ReportResult>, ApiError> {
        let mut answers: Vec<(usize, &'static str, Verdict)> = Vec::with_capacity(checked.len());
        for (at, c) in checked.iter().enumerate() {
            let (mut word, verdict) = self.judge_one(config, at, c);
            if verdict.decision == Decision::Hold {
                // Consensus reads held reports from the database: write everything first.
                self.flush(conn, checked).await?;
                let (key, now) = (product_key(c), self.now);
                let report_id = self.report_id(c)?;
                let slot = self.slot_mut(&key)?;
                let recent = slot.recent.clone();
                if try_consensus(
                    conn,
                    config,
                    &mut slot.product,
                    &recent,
                    &verdict,
                    report_id,
                    now,
                )
                .await?
                {
                    word = "accepted";
                }
                self.reload(conn, &key).await?;
            }
            answers.push((at, word, verdict));
        }
        self.flush(conn, checked).await?;
        touch_reporters(conn, self.backend, &self.reporters, self.now).await?;
        answers
            .into_iter()
            .map(|(at, word, verdict)| {
                let c = &checked[at];
                Ok(ReportResult {
                    index: c.index,
                    report_id: self.report_id(c)?,
                    status: word,
                    decision: verdict.decision,
                    reasons: verdict.reasons,
                    suspicion: verdict.suspicion,
                    required_reporters: verdict.required_reporters,
                })
            })
            .collect()
    }

    fn slot_mut(&mut self, key: &ProductKey) -> Result<&mut Slot, ApiError> {
        self.slots.get_mut(key).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "product {}/{} was not locked for its batch",
                key.marketplace,
                key.asin
            ))
        })
    }

    fn report_id(&self, c: &Checked) -> Result<i64, ApiError> {
        let reporter = self.reporters.get(&c.key_hex).map_or(0, |r| r.id);
        self.report_ids
            .get(&(reporter, c.nonce_hex.clone()))
            .copied()
            .ok_or_else(|| refusal(c.index, &ReportError::Replayed))
    }

    /// Judge one report against the in-memory state and record what it writes.
    fn judge_one(
        &mut self,
        config: &JudgeConfig,
        at: usize,
        c: &Checked,
    ) -> (&'static str, Verdict) {
        let report = c.report.report();
        let Some(reporter) = self.reporters.get(&c.key_hex) else {
            // `load` refused the batch if a key was unknown.
            return ("rejected", reject_verdict());
        };
        let reputation = reports::reputation_of(
            reporter.created_at,
            reporter.confirmed,
            reporter.refuted,
            i64::from(reporter.banned),
            &reporter.kind,
        );
        let (reporter_id, crawler) = (reporter.id, reporter.kind == "crawler");
        let now = self.now;
        let key = product_key(c);
        let Some(slot) = self.slots.get_mut(&key) else {
            return ("rejected", reject_verdict());
        };
        if let Some(t) = &c.title {
            let changes = if crawler {
                slot.product.title.as_deref() != Some(t.as_str())
            } else {
                slot.product.title.is_none()
            };
            if changes {
                slot.product.title = Some(t.clone());
                slot.product.version += 1;
                slot.dirty = true;
            }
        }
        let history: Vec<AcceptedPoint> = slot
            .recent
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
                subscribers: u32::try_from(slot.product.subscribers).unwrap_or(u32::MAX),
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
            .then(|| store(slot.recent.first().map(|p| &p.point), &observation));
        let row_status = match (decision, store_decision) {
            (Decision::Reject, _) => status::REJECTED,
            (Decision::Hold, _) => status::HELD,
            (_, Some(StoreDecision::Stale)) => status::STALE,
            _ => status::PUBLISHED,
        };
        let report_key = (reporter_id, c.nonce_hex.clone());
        let product_id = slot.product.id;
        match store_decision {
            Some(StoreDecision::Extend { last_seen_at }) => {
                if let Some(last) = slot.recent.first_mut() {
                    last.point.last_seen_at = last_seen_at;
                    let id = last.id;
                    if id < 0 {
                        if let Some(p) =
                            self.pending.points.iter_mut().find(|p| p.placeholder == id)
                        {
                            p.point.last_seen_at = last_seen_at;
                        }
                    } else {
                        self.pending.extends.insert(id, last_seen_at.as_millis());
                    }
                    slot.product.version += 1;
                    slot.product.updated_at = now.as_millis();
                    slot.dirty = true;
                }
            }
            Some(StoreDecision::NewPoint(point)) => {
                let placeholder = self.next_placeholder;
                self.next_placeholder -= 1;
                self.pending.points.push(PendingPoint {
                    placeholder,
                    product_id,
                    point,
                    report: report_key.clone(),
                    previous: slot.recent.first().map(|p| p.point),
                });
                slot.recent.insert(
                    0,
                    StoredPoint {
                        id: placeholder,
                        point,
                    },
                );
                slot.recent.truncate(RECENT_POINTS);
                slot.product.current_price = point.price;
                slot.product.availability = point.availability;
                slot.product.current_point_id = Some(placeholder);
                slot.product.version += 1;
                slot.product.updated_at = now.as_millis();
                slot.dirty = true;
            }
            Some(StoreDecision::Stale) | None => {}
        }
        if decision.needs_verification() {
            let priority = verdict.suspicion * (1.0 + slot.product.subscribers as f64);
            self.pending
                .verifications
                .push((product_id, report_key, priority));
        }
        self.pending.reports.push(PendingReport {
            at,
            reporter_id,
            product_id,
            verdict: verdict.clone(),
            status: row_status,
        });
        let word = match decision {
            Decision::Accept | Decision::AcceptAndVerify => "accepted",
            Decision::Hold => "held",
            Decision::Reject => "rejected",
        };
        (word, verdict)
    }

    /// Write everything decided so far, in dependency order: reports, then the points they
    /// made, then the events, jobs and rows that name those.
    async fn flush(
        &mut self,
        conn: &mut AnyConnection,
        checked: &[Checked],
    ) -> Result<(), ApiError> {
        let pending = std::mem::take(&mut self.pending);
        if !pending.reports.is_empty() {
            let written = insert_reports(conn, &pending.reports, checked, self.now).await?;
            for r in &pending.reports {
                let key = (r.reporter_id, checked[r.at].nonce_hex.clone());
                if !written.contains_key(&key) {
                    return Err(refusal(checked[r.at].index, &ReportError::Replayed));
                }
            }
            self.report_ids.extend(written);
        }
        let mut placeholders: HashMap<i64, i64> = HashMap::new();
        if !pending.points.is_empty() {
            let rows: Vec<(i64, &PricePoint, i64)> = pending
                .points
                .iter()
                .map(|p| {
                    let report_id = self.report_ids.get(&p.report).copied().ok_or_else(|| {
                        ApiError::Internal(anyhow::anyhow!("a new point's report was not written"))
                    })?;
                    Ok((p.product_id, &p.point, report_id))
                })
                .collect::<Result<_, ApiError>>()?;
            let ids = insert_points(conn, &rows).await?;
            for (p, (_, _, report_id)) in pending.points.iter().zip(&rows) {
                let id = ids.get(report_id).copied().ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("a new point's id was not returned"))
                })?;
                placeholders.insert(p.placeholder, id);
            }
            for slot in self.slots.values_mut() {
                for p in &mut slot.recent {
                    if let Some(id) = placeholders.get(&p.id) {
                        p.id = *id;
                    }
                }
                if let Some(id) = slot
                    .product
                    .current_point_id
                    .and_then(|c| placeholders.get(&c))
                {
                    slot.product.current_point_id = Some(*id);
                }
            }
            let events: Vec<(i64, i64, String)> = pending
                .points
                .iter()
                .filter_map(|p| {
                    let id = *placeholders.get(&p.placeholder)?;
                    let product = self.slots.values().find(|s| s.product.id == p.product_id)?;
                    Some((p.product_id, id, event_payload(&product.product, p, id)))
                })
                .collect();
            insert_events(conn, &events, self.now).await?;
        }
        if !pending.extends.is_empty() {
            extend_points(conn, &pending.extends).await?;
        }
        if !pending.verifications.is_empty() {
            let jobs: Vec<(i64, i64, f64)> = pending
                .verifications
                .iter()
                .filter_map(|(product, report, priority)| {
                    Some((*product, *self.report_ids.get(report)?, *priority))
                })
                .collect();
            insert_verifications(conn, &jobs, self.now).await?;
        }
        let mut dirty: Vec<Product> = Vec::new();
        for slot in self.slots.values_mut() {
            if std::mem::take(&mut slot.dirty) {
                dirty.push(slot.product.clone());
            }
        }
        if !dirty.is_empty() {
            update_products(conn, &dirty).await?;
        }
        Ok(())
    }

    /// Re-read a product and its points after a consensus wrote to them directly.
    async fn reload(&mut self, conn: &mut AnyConnection, key: &ProductKey) -> Result<(), ApiError> {
        let product = products::find(conn, key)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a locked product vanished")))?;
        let recent =
            points::recent(conn, product.id, product.currency, RECENT_POINTS as i64).await?;
        let slot = self.slot_mut(key)?;
        slot.product = product;
        slot.recent = recent;
        slot.dirty = false;
        Ok(())
    }
}

fn product_key(c: &Checked) -> ProductKey {
    let r = c.report.report();
    ProductKey {
        marketplace: r.marketplace,
        asin: r.asin,
    }
}

/// Never returned: `load` refuses a batch with an unknown key before judging.
fn reject_verdict() -> Verdict {
    Verdict {
        decision: Decision::Reject,
        reasons: Vec::new(),
        suspicion: 1.0,
        reporter_score: 0.0,
        reference: None,
        change: None,
        required_reporters: None,
    }
}

/// The "price changed" event's payload (its shape is what the alert worker reads).
fn event_payload(product: &Product, p: &PendingPoint, point_id: i64) -> String {
    json!({
        "product_id": p.product_id,
        "marketplace": product.key.marketplace,
        "asin": product.key.asin,
        "price_point_id": point_id,
        "currency": product.currency,
        "old_price": p.previous.and_then(|l| l.price).map(|m| m.amount_minor),
        "new_price": p.point.price.map(|m| m.amount_minor),
        "old_availability": p.previous.map(|l| l.availability),
        "availability": p.point.availability,
        "observed_at": p.point.first_seen_at,
    })
    .to_string()
}

/// `($1, $2), ($3, $4)`: placeholders for `rows` rows of `cols` values.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// Row locks for rows this transaction will update (non-key columns only): serializes
/// writers to a product or reporter on PostgreSQL without blocking, or being blocked by,
/// transactions that merely insert rows referencing it. SQLite has one writer already.
fn lock_for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " FOR NO KEY UPDATE",
        Backend::Sqlite => "",
    }
}

/// Rows per statement for `cols` values per row.
fn rows_per_statement(cols: usize) -> usize {
    (MAX_PARAMS / cols).max(1)
}

const REPORTER_COLUMNS: &str = "id, public_key, kind, created_at, confirmed, refuted, banned";

async fn load_reporters(
    conn: &mut AnyConnection,
    keys: &[&str],
) -> Result<HashMap<String, Reporter>, sqlx::Error> {
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT {REPORTER_COLUMNS} FROM reporters WHERE public_key IN ({})",
            (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(*k);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let r = Reporter {
                id: row.try_get("id")?,
                public_key: row.try_get("public_key")?,
                kind: row.try_get("kind")?,
                created_at: row.try_get("created_at")?,
                confirmed: row.try_get("confirmed")?,
                refuted: row.try_get("refuted")?,
                banned: row.try_get::<i64, _>("banned")? != 0,
            };
            out.insert(r.public_key.clone(), r);
        }
    }
    Ok(out)
}

/// The earliest report (by batch position) whose (reporter, nonce) is already stored.
async fn first_replay(
    conn: &mut AnyConnection,
    reporters: &HashMap<String, Reporter>,
    before: &[&Checked],
) -> Result<Option<usize>, sqlx::Error> {
    let known: Vec<(i64, &Checked)> = before
        .iter()
        .filter_map(|c| reporters.get(&c.key_hex).map(|r| (r.id, *c)))
        .collect();
    let mut first = None;
    for chunk in known.chunks(rows_per_statement(2)) {
        let sql = format!(
            "SELECT r.reporter_id, r.nonce FROM (VALUES {}) AS v JOIN reports r \
             ON r.reporter_id = v.column1 AND r.nonce = v.column2",
            placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(&sql);
        for (id, c) in chunk {
            q = q.bind(*id).bind(c.nonce_hex.as_str());
        }
        let stored: HashSet<(i64, String)> = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("reporter_id")?, r.try_get("nonce")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        if let Some((_, c)) = chunk
            .iter()
            .find(|(id, c)| stored.contains(&(*id, c.nonce_hex.clone())))
        {
            first = first.or(Some(c.index));
        }
    }
    Ok(first)
}

const PRODUCT_COLUMNS: &str = "id, marketplace, asin, title, currency, current_price, \
                               availability, current_point_id, subscribers, views, version, \
                               updated_at";

/// Create the products that are new and lock them all, in (marketplace, ASIN) order: every
/// batch takes its locks in that one order, so two batches never wait on each other in a
/// circle.
async fn lock_products(
    conn: &mut AnyConnection,
    backend: Backend,
    keys: &[ProductKey],
    now: Timestamp,
) -> Result<Vec<Product>, sqlx::Error> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(rows_per_statement(5)) {
        let sql = format!(
            "INSERT INTO products (marketplace, asin, currency, created_at, updated_at) \
             VALUES {} ON CONFLICT (marketplace, asin) DO NOTHING",
            placeholders(chunk.len(), 5)
        );
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q
                .bind(k.marketplace.code())
                .bind(k.asin.as_str())
                .bind(k.marketplace.currency().code())
                .bind(now.as_millis())
                .bind(now.as_millis());
        }
        q.execute(&mut *conn).await?;
        // A join on the VALUES list, not `(marketplace, asin) IN (...)`: SQLite scans the
        // whole index for the latter, and looks each key up for the former.
        let sql = format!(
            "SELECT {} FROM (VALUES {}) AS v JOIN products p \
             ON p.marketplace = v.column1 AND p.asin = v.column2 \
             ORDER BY p.marketplace, p.asin{}",
            PRODUCT_COLUMNS
                .split(", ")
                .map(|c| format!("p.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", "),
            placeholders(chunk.len(), 2),
            match backend {
                Backend::Postgres => " FOR NO KEY UPDATE OF p",
                Backend::Sqlite => "",
            }
        );
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(k.marketplace.code()).bind(k.asin.as_str());
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.push(product_from_row(&row)?);
        }
    }
    Ok(out)
}

fn product_from_row(row: &AnyRow) -> Result<Product, sqlx::Error> {
    let decode = |col: &str, e: String| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.into(),
    };
    let marketplace: String = row.try_get("marketplace")?;
    let asin: String = row.try_get("asin")?;
    let currency: String = row.try_get("currency")?;
    let currency: Currency = currency
        .parse()
        .map_err(|e: pricewatch_core::money::UnknownCurrency| decode("currency", e.to_string()))?;
    let price: Option<i64> = row.try_get("current_price")?;
    let availability: String = row.try_get("availability")?;
    Ok(Product {
        id: row.try_get("id")?,
        key: ProductKey {
            marketplace: marketplace.parse().map_err(
                |e: pricewatch_core::marketplace::MarketplaceError| {
                    decode("marketplace", e.to_string())
                },
            )?,
            asin: pricewatch_core::Asin::parse(&asin).map_err(|e| decode("asin", e.to_string()))?,
        },
        title: row.try_get("title")?,
        currency,
        current_price: price.map(|p| pricewatch_core::Money::new(p, currency)),
        availability: availability_from(&availability),
        current_point_id: row.try_get("current_point_id")?,
        subscribers: row.try_get("subscribers")?,
        views: row.try_get("views")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The latest published points of every product, newest first, in one query.
async fn recent_points(
    conn: &mut AnyConnection,
    backend: Backend,
    products: &[Product],
    history_len: usize,
) -> Result<HashMap<i64, Vec<StoredPoint>>, sqlx::Error> {
    let ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    // The judge weighs the latest point and the latest `history_len` priced points among the
    // recent ones. Reading one more point than that is enough whenever the extra is not
    // needed (enough of them are priced, or the product has no more): far fewer rows than
    // the whole window. The rest are read again in full.
    let short = (history_len + 1).min(RECENT_POINTS);
    let mut out = points_newest_first(conn, backend, products, &ids, short).await?;
    let incomplete: Vec<i64> = out
        .iter()
        .filter(|(_, pts)| {
            pts.len() == short
                && pts.iter().filter(|p| p.point.price.is_some()).count() < history_len
        })
        .map(|(id, _)| *id)
        .collect();
    if !incomplete.is_empty() && short < RECENT_POINTS {
        let full = points_newest_first(conn, backend, products, &incomplete, RECENT_POINTS).await?;
        out.extend(full);
    }
    Ok(out)
}

/// Up to `limit` latest published points of each product in `ids`, newest first.
async fn points_newest_first(
    conn: &mut AnyConnection,
    backend: Backend,
    products: &[Product],
    ids: &[i64],
    limit: usize,
) -> Result<HashMap<i64, Vec<StoredPoint>>, sqlx::Error> {
    let mut out: HashMap<i64, Vec<StoredPoint>> = HashMap::with_capacity(ids.len());
    let currency: HashMap<i64, Currency> = products.iter().map(|p| (p.id, p.currency)).collect();
    const COLS: &str = "id, product_id, price, availability, first_seen_at, last_seen_at";
    let per_product = format!(
        "SELECT {COLS} FROM price_points WHERE product_id = {{}} AND status = 'published' \
         ORDER BY first_seen_at DESC, id DESC LIMIT {limit}"
    );
    for chunk in ids.chunks(500) {
        let sql = match backend {
            // One index range scan per product.
            Backend::Postgres => format!(
                "SELECT r.* FROM (VALUES {}) AS v (pid) CROSS JOIN LATERAL ({}) AS r",
                placeholders(chunk.len(), 1),
                per_product.replace("{}", "v.pid")
            ),
            // SQLite has no LATERAL; a compound of limited subqueries does the same.
            Backend::Sqlite => (1..=chunk.len())
                .map(|i| {
                    format!(
                        "SELECT * FROM ({})",
                        per_product.replace("{}", &format!("${i}"))
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL "),
        };
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let product_id: i64 = row.try_get("product_id")?;
            let Some(currency) = currency.get(&product_id).copied() else {
                continue;
            };
            let price: Option<i64> = row.try_get("price")?;
            let availability: String = row.try_get("availability")?;
            out.entry(product_id).or_default().push(StoredPoint {
                id: row.try_get("id")?,
                point: PricePoint {
                    price: price.map(|p| pricewatch_core::Money::new(p, currency)),
                    availability: availability_from(&availability),
                    first_seen_at: Timestamp::from_millis(row.try_get("first_seen_at")?),
                    last_seen_at: Timestamp::from_millis(row.try_get("last_seen_at")?),
                },
            });
        }
    }
    for points in out.values_mut() {
        points.sort_by_key(|p| std::cmp::Reverse((p.point.first_seen_at, p.id)));
    }
    Ok(out)
}

fn decision_str(v: &Verdict) -> String {
    serde_json::to_value(v.decision)
        .ok()
        .and_then(|d| d.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Insert report rows; returns (reporter id, nonce) → id for those written (a replay is
/// missing).
async fn insert_reports(
    conn: &mut AnyConnection,
    rows: &[PendingReport],
    checked: &[Checked],
    now: Timestamp,
) -> Result<HashMap<(i64, String), i64>, sqlx::Error> {
    const COLS: usize = 14;
    let mut out = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO reports (reporter_id, product_id, nonce, price, currency, availability, \
             observed_at, received_at, decision, status, suspicion, reasons, client_version, \
             signature) VALUES {} ON CONFLICT (reporter_id, nonce) DO NOTHING \
             RETURNING id, reporter_id, nonce",
            placeholders(chunk.len(), COLS)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            let c = &checked[r.at];
            let report = c.report.report();
            let reasons = serde_json::to_string(&r.verdict.reasons).unwrap_or_else(|_| "[]".into());
            q = q
                .bind(r.reporter_id)
                .bind(r.product_id)
                .bind(c.nonce_hex.as_str())
                .bind(report.price.map(|p| p.amount_minor))
                .bind(report.currency.code())
                .bind(report.availability.as_str())
                .bind(report.observed_at.as_millis())
                .bind(now.as_millis())
                .bind(decision_str(&r.verdict))
                .bind(r.status)
                .bind(r.verdict.suspicion)
                .bind(reasons)
                .bind(report.client_version.as_str())
                .bind(c.signature.as_str());
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.insert(
                (row.try_get("reporter_id")?, row.try_get("nonce")?),
                row.try_get("id")?,
            );
        }
    }
    Ok(out)
}

/// Insert new points; returns report id → point id (each new point comes from one report).
async fn insert_points(
    conn: &mut AnyConnection,
    rows: &[(i64, &PricePoint, i64)],
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    const COLS: usize = 6;
    let mut out = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO price_points (product_id, price, availability, first_seen_at, \
             last_seen_at, report_id) VALUES {} RETURNING id, report_id",
            placeholders(chunk.len(), COLS)
        );
        let mut q = sqlx::query(&sql);
        for (product_id, point, report_id) in chunk {
            q = q
                .bind(*product_id)
                .bind(point.price.map(|p| p.amount_minor))
                .bind(point.availability.as_str())
                .bind(point.first_seen_at.as_millis())
                .bind(point.last_seen_at.as_millis())
                .bind(*report_id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.insert(row.try_get("report_id")?, row.try_get("id")?);
        }
    }
    Ok(out)
}

async fn insert_events(
    conn: &mut AnyConnection,
    rows: &[(i64, i64, String)],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    const COLS: usize = 5;
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO outbox_events (kind, product_id, price_point_id, payload, created_at) \
             VALUES {}",
            placeholders(chunk.len(), COLS)
        );
        let mut q = sqlx::query(&sql);
        for (product_id, point_id, payload) in chunk {
            q = q
                .bind(outbox::PRICE_CHANGED)
                .bind(*product_id)
                .bind(*point_id)
                .bind(payload.as_str())
                .bind(now.as_millis());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Move `last_seen_at` forward on points written before this batch, in one statement.
async fn extend_points(
    conn: &mut AnyConnection,
    extends: &BTreeMap<i64, i64>,
) -> Result<(), sqlx::Error> {
    let rows: Vec<(&i64, &i64)> = extends.iter().collect();
    for chunk in rows.chunks(rows_per_statement(2)) {
        // VALUES columns are `column1`, `column2`... on both engines.
        let sql = format!(
            "UPDATE price_points SET last_seen_at = v.column2 FROM (VALUES {}) AS v \
             WHERE price_points.id = v.column1 AND price_points.last_seen_at < v.column2",
            placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(&sql);
        for (id, at) in chunk {
            q = q.bind(**id).bind(**at);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_verifications(
    conn: &mut AnyConnection,
    rows: &[(i64, i64, f64)],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    const COLS: usize = 6;
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO crawl_jobs (product_id, kind, report_id, priority, due_at, created_at) \
             VALUES {}",
            placeholders(chunk.len(), COLS)
        );
        let mut q = sqlx::query(&sql);
        for (product_id, report_id, priority) in chunk {
            q = q
                .bind(*product_id)
                .bind(crawl_jobs::VERIFY)
                .bind(*report_id)
                .bind(*priority)
                .bind(now.as_millis())
                .bind(now.as_millis());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Write the products' new state back. The rows are locked (PostgreSQL) or the writer is
/// alone (SQLite), so the values computed in memory are the truth.
async fn update_products(conn: &mut AnyConnection, rows: &[Product]) -> Result<(), sqlx::Error> {
    const COLS: usize = 7;
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "UPDATE products SET title = v.column2, current_price = v.column3, \
             availability = v.column4, current_point_id = v.column5, version = v.column6, \
             updated_at = v.column7 FROM (VALUES {}) AS v WHERE products.id = v.column1",
            placeholders(chunk.len(), COLS)
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(p.id)
                .bind(p.title.as_deref())
                .bind(p.current_price.map(|m| m.amount_minor))
                .bind(p.availability.as_str())
                .bind(p.current_point_id)
                .bind(p.version)
                .bind(p.updated_at);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `last_report_at` for the batch's reporters. On PostgreSQL the rows are locked in id
/// order first: an `UPDATE ... IN (...)` alone locks in scan order, and two batches sharing
/// reporters could then wait on each other.
///
/// The lock is `FOR NO KEY UPDATE`, what an `UPDATE` of non-key columns takes anyway: unlike
/// `FOR UPDATE` it does not conflict with the key-share locks other transactions hold on a
/// row while they insert rows that reference it (a report naming this reporter).
async fn touch_reporters(
    conn: &mut AnyConnection,
    backend: Backend,
    reporters: &HashMap<String, Reporter>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let mut ids: Vec<i64> = reporters.values().map(|r| r.id).collect();
    ids.sort_unstable();
    for chunk in ids.chunks(rows_per_statement(1)) {
        let list = |from: usize| {
            (from..chunk.len() + from)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if backend == Backend::Postgres && chunk.len() > 1 {
            let sql = format!(
                "SELECT id FROM reporters WHERE id IN ({}) ORDER BY id{}",
                list(1),
                lock_for_update(backend)
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *conn).await?;
        }
        let sql = format!(
            "UPDATE reporters SET last_report_at = $1 WHERE id IN ({})",
            list(2)
        );
        let mut q = sqlx::query(&sql).bind(now.as_millis());
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Write a change-only decision: extend the last point, or insert a new one with its outbox
/// event and move the product's current price. Used by the consensus path, which is rare.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
    }

    #[test]
    fn statements_stay_under_the_parameter_limit() {
        for cols in [1, 2, 6, 14] {
            assert!(rows_per_statement(cols) * cols <= MAX_PARAMS);
            assert!(
                rows_per_statement(cols) >= 100,
                "a default batch is one statement"
            );
        }
    }
}
