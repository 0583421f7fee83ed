//! One report judged against the batch's in-memory state: the verdict, the change-only
//! decision, and the rows it will write, recorded as pending.

use pricewatch_core::history::{store, AcceptedObservation, StoreDecision};
use pricewatch_core::judge::{self, AcceptedPoint, Decision, JudgeConfig, ProductState, Verdict};

use super::batch::{product_key, Batch, PendingPoint, PendingReport};
use super::verify::Checked;
use super::RECENT_POINTS;
use crate::chart_cache::ETAG_MINUTE_MS;
use crate::store::points::StoredPoint;
use crate::store::reports::{self, status};

impl Batch {
    /// Judge one report against the in-memory state and record what it writes.
    pub(super) fn judge_one(
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
                    // The point is exact; the product's version, which keys ETags and cached
                    // answers, is bumped for a confirmation only once a minute. Those keys
                    // hold the minute too, so an answer made before this confirmation lives
                    // less than a minute either way, and most confirmations of a product
                    // someone is looking at leave its row alone. Changes always bump it.
                    if now.as_millis() - slot.product.updated_at >= ETAG_MINUTE_MS {
                        slot.product.version += 1;
                        slot.product.updated_at = now.as_millis();
                        slot.dirty = true;
                    }
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
