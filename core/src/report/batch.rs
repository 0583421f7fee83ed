//! Many reports verified at once: the same answers as [`SignedReport::verify`] on each, for
//! about half the curve arithmetic.
//!
//! Ed25519 batch verification checks one random linear combination of all the signature
//! equations with one multi-scalar multiplication. It says only "all valid" or "not all
//! valid", so when it fails every report is verified on its own, which names each failure
//! exactly as [`SignedReport::verify`] does.
//!
//! # What batch verification does not check, and why that is safe here
//! [`SignedReport::verify`] uses `verify_strict`, which also refuses a signature whose `R` is
//! a small-order point or is encoded non-canonically, and whose equation holds only up to a
//! torsion component. The batch equation does not look at those. Each of these signatures can
//! only be made by the holder of the secret key (they change `R`, hence the hashed challenge,
//! so they need the key to solve for `s`): nobody can turn someone else's report into another
//! valid one or forge one. The checks that matter against third parties stay: the key must
//! not be weak (checked here, once per key), `s` must be canonical (the batch refuses it), and
//! the (key, nonce) pair, not the signature bytes, is what replay protection remembers.

use std::collections::HashMap;

use ed25519_dalek::{Signature, VerifyingKey};

use super::{hex, ReportError, ReportRules, ReporterKey, SignedReport, VerifiedReport};
use crate::time::Timestamp;

/// A report that passed every check before the signature, with what the signature check
/// needs.
struct Candidate<'a> {
    report: &'a SignedReport,
    key: ReporterKey,
    verifying_key: VerifyingKey,
    signature: Signature,
    message: Vec<u8>,
}

/// Verify `reports`, answering for each exactly what [`SignedReport::verify`] would.
///
/// The checks before the signature (formats, key validity) run per report; the signatures
/// of the reports that pass them are checked together; the checks after the signature
/// (content, time) run per report again.
pub fn verify_batch(
    reports: &[&SignedReport],
    rules: &ReportRules,
    now: Timestamp,
) -> Vec<Result<VerifiedReport, ReportError>> {
    // Decompressing a key costs about as much as a tenth of a verification, and a batch
    // usually comes from one reporter.
    let mut keys: HashMap<ReporterKey, Result<VerifyingKey, ReportError>> = HashMap::new();
    let mut out: Vec<Option<Result<VerifiedReport, ReportError>>> =
        Vec::with_capacity(reports.len());
    let mut candidates: Vec<(usize, Candidate<'_>)> = Vec::with_capacity(reports.len());
    for (i, signed) in reports.iter().enumerate() {
        match before_signature(signed, rules, &mut keys) {
            Ok(c) => {
                candidates.push((i, c));
                out.push(None);
            }
            Err(e) => out.push(Some(Err(e))),
        }
    }
    let all_valid = {
        let messages: Vec<&[u8]> = candidates
            .iter()
            .map(|(_, c)| c.message.as_slice())
            .collect();
        let signatures: Vec<Signature> = candidates.iter().map(|(_, c)| c.signature).collect();
        let keys: Vec<VerifyingKey> = candidates.iter().map(|(_, c)| c.verifying_key).collect();
        candidates.is_empty() || ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    };
    for (i, c) in candidates {
        out[i] = Some(if all_valid {
            after_signature(c.report, c.key, rules, now)
        } else {
            c.report.verify(rules, now)
        });
    }
    out.into_iter()
        .map(|r| r.unwrap_or(Err(ReportError::BadSignature)))
        .collect()
}

/// The checks [`SignedReport::verify`] makes before the signature, in its order.
fn before_signature<'a>(
    signed: &'a SignedReport,
    rules: &ReportRules,
    keys: &mut HashMap<ReporterKey, Result<VerifyingKey, ReportError>>,
) -> Result<Candidate<'a>, ReportError> {
    let key = ReporterKey::parse(&signed.public_key)?;
    let signature = hex::decode_array::<64>(&signed.signature)
        .map(|bytes| Signature::from_bytes(&bytes))
        .ok_or(ReportError::MalformedSignature)?;
    rules.check_format(&signed.report)?;
    let verifying_key = keys
        .entry(key)
        .or_insert_with(|| match VerifyingKey::from_bytes(key.as_bytes()) {
            Ok(k) if !k.is_weak() => Ok(k),
            _ => Err(ReportError::InvalidKey),
        })
        .clone()?;
    Ok(Candidate {
        report: signed,
        key,
        verifying_key,
        signature,
        message: signed.report.canonical_bytes(),
    })
}

/// The checks [`SignedReport::verify`] makes after the signature, in its order.
fn after_signature(
    signed: &SignedReport,
    key: ReporterKey,
    rules: &ReportRules,
    now: Timestamp,
) -> Result<VerifiedReport, ReportError> {
    rules.check_content(&signed.report)?;
    rules.check_time(signed.report.observed_at, now)?;
    Ok(VerifiedReport {
        report: signed.report.clone(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asin::Asin;
    use crate::marketplace::Marketplace;
    use crate::money::{Currency, Money};
    use crate::observation::Availability;
    use crate::report::{Nonce, PriceReport};
    use crate::time::Span;

    const NOW: Timestamp = Timestamp::from_millis(1_735_689_600_000);

    fn signed(seed: u8, n: u8) -> SignedReport {
        PriceReport {
            marketplace: Marketplace::Us,
            asin: Asin::parse("B08N5WRWNW").unwrap(),
            price: Some(Money::new(10_000 + i64::from(n), Currency::Usd)),
            currency: Currency::Usd,
            availability: Availability::InStock,
            observed_at: NOW,
            client_version: "1.4.2".to_owned(),
            nonce: Nonce::from_bytes([n.max(1); 16]),
        }
        .sign(&[seed; 32])
    }

    /// What `verify` says of each, one by one.
    fn one_by_one(reports: &[SignedReport]) -> Vec<Result<VerifiedReport, ReportError>> {
        reports
            .iter()
            .map(|r| r.verify(&ReportRules::default(), NOW))
            .collect()
    }

    fn batch(reports: &[SignedReport]) -> Vec<Result<VerifiedReport, ReportError>> {
        let refs: Vec<&SignedReport> = reports.iter().collect();
        verify_batch(&refs, &ReportRules::default(), NOW)
    }

    #[test]
    fn a_valid_batch_from_several_keys_verifies_as_one_by_one() {
        let reports: Vec<SignedReport> = (0..40).map(|n| signed(1 + n % 3, n)).collect();
        let got = batch(&reports);
        assert!(got.iter().all(Result::is_ok));
        assert_eq!(got, one_by_one(&reports));
    }

    #[test]
    fn one_bad_signature_is_named_and_the_others_still_verify() {
        let mut reports: Vec<SignedReport> = (0..20).map(|n| signed(7, n)).collect();
        // Signed over other bytes: a valid signature, but not of this report.
        reports[13].signature = signed(7, 99).signature;
        let got = batch(&reports);
        assert_eq!(got[13], Err(ReportError::BadSignature));
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), 1);
        assert_eq!(got, one_by_one(&reports));
    }

    #[test]
    fn every_kind_of_failure_is_answered_as_verify_answers_it() {
        let mut reports: Vec<SignedReport> = (0..12).map(|n| signed(9, n)).collect();
        reports[1].public_key = "zz".into();
        reports[2].signature = "00".into();
        // The all-zero key is a small-order point: weak.
        reports[3].public_key = "00".repeat(32);
        reports[4].report.client_version = "x".repeat(100);
        // Content and time are checked after the signature: a re-signed report that breaks
        // them fails them, a tampered one fails the signature first.
        reports[5] = {
            let mut r = reports[5].report.clone();
            r.observed_at = NOW + Span::hours(1);
            r.sign(&[9; 32])
        };
        reports[6].report.observed_at = NOW + Span::hours(1);
        reports[7] = {
            let mut r = reports[7].report.clone();
            r.currency = Currency::Eur;
            r.sign(&[9; 32])
        };
        let got = batch(&reports);
        assert_eq!(got, one_by_one(&reports));
        assert_eq!(got[1], Err(ReportError::MalformedKey));
        assert_eq!(got[2], Err(ReportError::MalformedSignature));
        assert_eq!(got[3], Err(ReportError::InvalidKey));
        assert!(matches!(got[5], Err(ReportError::FromTheFuture { .. })));
        assert_eq!(got[6], Err(ReportError::BadSignature));
        assert!(matches!(got[7], Err(ReportError::CurrencyMismatch { .. })));
        assert!(got[8..].iter().all(Result::is_ok));
    }

    #[test]
    fn a_non_canonical_s_is_refused() {
        // s + l verifies the same equation but is a second spelling of the signature.
        let mut reports: Vec<SignedReport> = (0..4).map(|n| signed(5, n)).collect();
        let mut bytes = hex::decode_array::<64>(&reports[2].signature).unwrap();
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (b, l) in bytes[32..].iter_mut().zip(L) {
            let sum = u16::from(*b) + u16::from(l) + carry;
            *b = sum as u8;
            carry = sum >> 8;
        }
        reports[2].signature = hex::encode(&bytes);
        let got = batch(&reports);
        assert_eq!(got[2], Err(ReportError::BadSignature));
        assert_eq!(got, one_by_one(&reports));
    }

    #[test]
    fn an_empty_batch_is_empty() {
        assert!(batch(&[]).is_empty());
    }
}
