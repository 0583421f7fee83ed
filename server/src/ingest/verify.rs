//! Signatures, skew and in-batch replays: what refuses a whole batch before anything is
//! read or written, and the 4xx that names the report and field.

use pricewatch_core::report::{
    verify_batch, ReportError, ReportRules, SignedReport, VerifiedReport,
};
use pricewatch_core::Timestamp;
use rayon::prelude::*;

use super::BatchItem;
use crate::error::ApiError;

/// Below this many reports, verifying on the request's own task is cheaper than handing the
/// batch to the blocking pool.
const PARALLEL_VERIFY_FROM: usize = 8;

/// The smallest share of a batch verified as one signature batch: below it the per-batch
/// cost of batch verification outweighs the saving over verifying one by one.
const MIN_SHARE: usize = 16;

/// Map a verification failure to the 4xx that names the report and the field.
pub(super) fn refusal(index: usize, e: &ReportError) -> ApiError {
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

pub(super) fn unregistered(index: usize) -> ApiError {
    ApiError::Forbidden(format!(
        "reports[{index}].public_key: the key is not registered; POST /api/reporters first"
    ))
}

/// A verified report with what the batch needs to store it.
pub(super) struct Checked {
    pub(super) index: usize,
    pub(super) report: VerifiedReport,
    pub(super) key_hex: String,
    pub(super) nonce_hex: String,
    pub(super) signature: String,
    pub(super) title: Option<String>,
}

/// Verify every report; the first failure in batch order refuses the batch, as when they
/// were checked one by one. The signatures are checked with batch verification (about half
/// the work of one by one), one share of the batch per core on the blocking pool for batches
/// big enough to be worth it, so both cores verify while the database writes others.
pub(super) async fn verify_all(
    items: Vec<BatchItem>,
    rules: ReportRules,
    now: Timestamp,
) -> Result<Vec<(BatchItem, Result<VerifiedReport, ReportError>)>, ApiError> {
    let verify = move |items: Vec<BatchItem>| {
        let signed: Vec<&SignedReport> = items.iter().map(|i| &i.signed).collect();
        let share = signed
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(MIN_SHARE);
        let results: Vec<_> = if items.len() >= PARALLEL_VERIFY_FROM {
            signed
                .par_chunks(share)
                .flat_map_iter(|chunk| verify_batch(chunk, &rules, now))
                .collect()
        } else {
            verify_batch(&signed, &rules, now)
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
