//! Ingest of signed price reports: verify, judge, store, publish.
//!
//! A batch is all-or-nothing for what makes a request wrong (a bad signature, a replay, an
//! unknown key, a date outside the skew window): the request is refused with a 4xx naming the
//! report and field, and nothing is written. What the judge decides about well-formed reports
//! (accept, hold, reject) is answered per report. Every accepted change of a product someone
//! subscribes to lands in one transaction with its "price changed" outbox event, so there is
//! no dual write; a change nobody watches gets no event (the alert worker would only mark it
//! done, and at ingest rates that cost a seventh of a report's CPU).
//!
//! # How a batch is written
//! Reports are judged one after another, in batch order, exactly as if each were stored
//! before the next is judged; but the database sees a handful of statements per batch, not
//! a handful per report:
//! 1. signatures are verified in parallel, off the async runtime (they are most of the CPU);
//! 2. the batch's reporters are read in one query, its products locked in one (in
//!    (marketplace, ASIN) order, so batches naming the same products in any order wait in
//!    one order), the new ones created and locked in two more, then which of them anyone
//!    watches and their recent points, one query each; a batch PostgreSQL fails to break a
//!    deadlock (only new products racing can make one) runs again;
//! 3. each report is judged against that state, kept current in memory as reports change it;
//! 4. the resulting rows (reports, points, outbox events, crawl jobs, product and point
//!    updates) are written with multi-row statements, in the same transaction.
//!
//! A held report may complete a consensus, which reads the held reports from the database:
//! the writes so far are flushed first, so it sees exactly what the report-by-report order
//! would have stored.
//!
//! # Where things are
//! - [`verify`]: signatures, skew and replays within the batch; the 4xx that refuse a batch;
//! - [`load`]: reporters, products (created and locked), which are watched, and recent points,
//!   one query each;
//! - [`batch`]: the batch's in-memory state, run in report order, and its flushes;
//! - [`judge`]: one report judged against that state, and what it will write;
//! - [`write`]: the multi-row statements that write what was decided;
//! - [`consensus`]: held reports that together publish a price;
//! - [`sql`]: placeholder lists and statement sizes.

mod batch;
mod consensus;
pub(crate) use consensus::apply as apply_decision;
mod judge;
mod load;
mod sql;
mod verify;
mod write;

use std::collections::{HashMap, HashSet};

use pricewatch_core::judge::{Decision, JudgeConfig, Reason};
use pricewatch_core::report::{ReportError, ReportRules, SignedReport};
use pricewatch_core::{Span, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::db::Backend;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::reporters::Reporter;

use batch::Batch;
use verify::{refusal, verify_all, Checked};

/// How many recent points the judge and the change-only rule see.
const RECENT_POINTS: usize = 20;

/// How many times a batch runs when PostgreSQL fails it to break a deadlock.
const MAX_ATTEMPTS: u32 = 3;

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
    let config = JudgeConfig {
        rules,
        ..JudgeConfig::default()
    };
    let backend = state.db.backend;
    // A deadlock can only come from batches creating the same new products at once (see
    // `load::lock_products`); PostgreSQL fails one of them, which then runs again.
    let mut attempt = 1;
    let results = loop {
        let mut conn = state.db.write.acquire().await?;
        // A batch reads and updates at most `max_batch` products and points by key: index
        // lookups. Joined to a VALUES list, PostgreSQL plans a hash join over a sequential
        // scan of the whole table whenever the table is small enough to look cheaper, and
        // then visits every (often dead) row version of products each batch; in the ingest
        // benchmark that made the database cost twice the raw inserts. For this transaction
        // only, joins are nested loops.
        //
        // Its statements are also planned once per connection and shape: PostgreSQL would
        // plan each execution again (a custom plan, when the lists of parameters make the
        // generic one look dearer), for the same index lookups. Alternated in the ingest
        // benchmark, the database's CPU a report fell 3-6%.
        let mut tx = crate::db::begin_with(
            &mut conn,
            backend,
            &[
                ("enable_hashjoin", "off"),
                ("enable_mergejoin", "off"),
                ("plan_cache_mode", "force_generic_plan"),
            ],
        )
        .await?;
        let reporters = batch::reporters(&mut tx, backend, &checked).await?;
        if attempt == 1 {
            check_key_limits(state, &checked, &reporters, now)?;
        }
        let run = async {
            Batch::load(
                &mut tx,
                backend,
                reporters.clone(),
                &checked,
                config.history_len,
                now,
            )
            .await?
            .run(&mut tx, &config, &checked)
            .await
        }
        .await;
        match run {
            Ok(results) => {
                tx.commit().await?;
                break results;
            }
            Err(e) if e.is_database(load::is_unique_violation) => {
                tx.rollback().await?;
                return Err(replay_refusal(&mut conn, backend, &reporters, &checked)
                    .await?
                    .unwrap_or(e));
            }
            Err(e) if attempt < MAX_ATTEMPTS && e.is_database(load::is_deadlock) => {
                tx.rollback().await?;
                tracing::warn!(
                    attempt,
                    "ingest batch was failed to break a deadlock; running it again"
                );
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    for r in &results {
        crate::metrics::report_judged(r.status);
    }
    Ok(results)
}

/// The 409 for a batch whose report insert met a key and nonce already stored: the first
/// such report in batch order, as if reports were checked one by one. It is looked for
/// only once the insert has failed (replays are rare), after the batch's transaction was
/// rolled back; `None` when no report of the batch is stored, so the violation was another.
async fn replay_refusal(
    conn: &mut AnyConnection,
    backend: Backend,
    reporters: &HashMap<String, Reporter>,
    checked: &[Checked],
) -> Result<Option<ApiError>, ApiError> {
    let all: Vec<&Checked> = checked.iter().collect();
    Ok(load::first_replay(conn, backend, reporters, &all)
        .await?
        .map(|index| refusal(index, &ReportError::Replayed)))
}

/// The per-key rate limit, counted per report. Crawler-kind keys are exempt: the crawler
/// reports what it fetched, one report per page at the pace its own per-host politeness
/// allows, and a limit meant for browsers would only delay the ground truth the judge
/// weighs most. (Refused here, the batch has only been read, not written.)
fn check_key_limits(
    state: &AppState,
    checked: &[Checked],
    reporters: &HashMap<String, Reporter>,
    now: Timestamp,
) -> Result<(), ApiError> {
    let mut per_key: HashMap<&str, u32> = HashMap::new();
    for c in checked {
        let crawler = reporters
            .get(&c.key_hex)
            .is_some_and(|r| r.kind == "crawler");
        if !crawler {
            *per_key.entry(c.key_hex.as_str()).or_default() += 1;
        }
    }
    for (key, n) in &per_key {
        state
            .limits
            .check(
                &format!("key:{key}"),
                *n,
                state.settings.ingest.per_key_per_minute,
                now,
            )
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    }
    Ok(())
}
