//! The batch in memory: its reporters, its locked products with their recent points, what
//! the reports decided and not yet written, and the ids written so far. Reports run in batch
//! order; a flush writes what they decided in a handful of statements.

use std::collections::{BTreeMap, HashMap};

use pricewatch_core::history::PricePoint;
use pricewatch_core::judge::{Decision, JudgeConfig, Verdict};
use pricewatch_core::report::ReportError;
use pricewatch_core::{ProductKey, Timestamp};
use serde_json::json;
use sqlx::AnyConnection;

use super::consensus::try_consensus;
use super::load::{first_replay, load_reporters, lock_products, recent_points, watched_products};
use super::verify::{refusal, unregistered, Checked};
use super::write::{
    extend_points, insert_events, insert_points, insert_reports, insert_verifications,
    touch_reporters, update_products,
};
use super::{ReportResult, RECENT_POINTS};
use crate::db::Backend;
use crate::error::ApiError;
use crate::store::points;
use crate::store::points::StoredPoint;
use crate::store::products::{self, Product};
use crate::store::reporters::Reporter;

/// A product as the batch sees it: the row and its recent points, kept current in memory.
pub(super) struct Slot {
    pub(super) product: Product,
    /// Newest first, at most [`RECENT_POINTS`]. Points this batch has not written yet have
    /// negative (placeholder) ids.
    pub(super) recent: Vec<StoredPoint>,
    /// The product row must be written back (version, title, current point...).
    pub(super) dirty: bool,
    /// Someone subscribes to the product: its new points get a "price changed" event. For
    /// any other product the event would only be marked done unread (matching finds no
    /// subscription), and at ingest rates writing, claiming and closing such events cost
    /// about a seventh of the CPU a report takes.
    pub(super) watched: bool,
}

/// A report row waiting to be written.
pub(super) struct PendingReport {
    /// Position in `checked`.
    pub(super) at: usize,
    pub(super) reporter_id: i64,
    pub(super) product_id: i64,
    pub(super) verdict: Verdict,
    pub(super) status: &'static str,
}

/// A new point waiting to be written, with what its outbox event says.
pub(super) struct PendingPoint {
    /// The placeholder id the slot's `recent` list knows it by.
    pub(super) placeholder: i64,
    pub(super) product_id: i64,
    pub(super) point: PricePoint,
    /// The report that made it (its id is known once reports are written).
    pub(super) report: (i64, String),
    /// The point it follows, for the event's "old" values.
    pub(super) previous: Option<PricePoint>,
}

/// What a batch has decided but not yet written.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) reports: Vec<PendingReport>,
    pub(super) points: Vec<PendingPoint>,
    /// Point id → its new `last_seen_at`, for points written before this flush.
    pub(super) extends: BTreeMap<i64, i64>,
    /// (product, reporter id and nonce of the report, priority).
    pub(super) verifications: Vec<(i64, (i64, String), f64)>,
}

/// The batch: its reporters and locked products, what it decided, and the ids written.
pub(super) struct Batch {
    pub(super) backend: Backend,
    pub(super) now: Timestamp,
    pub(super) reporters: HashMap<String, Reporter>,
    pub(super) slots: HashMap<ProductKey, Slot>,
    pub(super) pending: Pending,
    /// (reporter id, nonce) → report id, for every report written so far.
    pub(super) report_ids: HashMap<(i64, String), i64>,
    pub(super) next_placeholder: i64,
}

/// The batch's reporters by key. A key that is not registered refuses the batch (403), after
/// any replay among the reports before it (409), as when reports were checked one by one.
pub(super) async fn reporters(
    conn: &mut AnyConnection,
    backend: Backend,
    checked: &[Checked],
) -> Result<HashMap<String, Reporter>, ApiError> {
    let keys: Vec<&str> = {
        let set: std::collections::BTreeSet<&str> =
            checked.iter().map(|c| c.key_hex.as_str()).collect();
        set.into_iter().collect()
    };
    let reporters = load_reporters(conn, backend, &keys).await?;
    if let Some(first) = checked.iter().find(|c| !reporters.contains_key(&c.key_hex)) {
        let before: Vec<&Checked> = checked
            .iter()
            .take_while(|c| c.index < first.index)
            .collect();
        if let Some(replay) = first_replay(conn, backend, &reporters, &before).await? {
            return Err(refusal(replay, &ReportError::Replayed));
        }
        return Err(unregistered(first.index));
    }
    Ok(reporters)
}

impl Batch {
    /// Create and lock the batch's products and read their recent points.
    pub(super) async fn load(
        conn: &mut AnyConnection,
        backend: Backend,
        reporters: HashMap<String, Reporter>,
        checked: &[Checked],
        history_len: usize,
        now: Timestamp,
    ) -> Result<Batch, ApiError> {
        let product_keys: Vec<ProductKey> = checked
            .iter()
            .map(product_key)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let locked = lock_products(conn, backend, &product_keys, now).await?;
        let ids: Vec<i64> = locked.iter().map(|p| p.id).collect();
        let watched = watched_products(conn, backend, &ids).await?;
        let mut recent = recent_points(conn, backend, &locked, history_len).await?;
        let slots = locked
            .into_iter()
            .map(|product| {
                let points = recent.remove(&product.id).unwrap_or_default();
                (
                    product.key,
                    Slot {
                        watched: watched.contains(&product.id),
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
    pub(super) async fn run(
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
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!(
                    "reports[{}] was judged but not written",
                    c.index
                ))
            })
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
            // A replay fails this statement, and the batch with it (see `ingest`).
            let written =
                insert_reports(conn, self.backend, &pending.reports, checked, self.now).await?;
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
            let ids = insert_points(conn, self.backend, &rows).await?;
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
                    let slot = self
                        .slots
                        .values()
                        .find(|s| s.product.id == p.product_id && s.watched)?;
                    Some((p.product_id, id, event_payload(&slot.product, p, id)))
                })
                .collect();
            insert_events(conn, self.backend, &events, self.now).await?;
        }
        if !pending.extends.is_empty() {
            extend_points(conn, self.backend, &pending.extends).await?;
        }
        if !pending.verifications.is_empty() {
            let jobs: Vec<(i64, i64, f64)> = pending
                .verifications
                .iter()
                .filter_map(|(product, report, priority)| {
                    Some((*product, *self.report_ids.get(report)?, *priority))
                })
                .collect();
            insert_verifications(conn, self.backend, &jobs, self.now).await?;
        }
        let mut dirty: Vec<Product> = Vec::new();
        for slot in self.slots.values_mut() {
            if std::mem::take(&mut slot.dirty) {
                dirty.push(slot.product.clone());
            }
        }
        if !dirty.is_empty() {
            update_products(conn, self.backend, &dirty).await?;
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

pub(super) fn product_key(c: &Checked) -> ProductKey {
    let r = c.report.report();
    ProductKey {
        marketplace: r.marketplace,
        asin: r.asin,
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
