use ed25519_dalek::{Signature, VerifyingKey};
use proptest::prelude::*;

use super::*;
use crate::time::Span;

const SEED: [u8; 32] = [42; 32];
const NOW: Timestamp = Timestamp::from_millis(1_735_689_600_000);

fn report() -> PriceReport {
    PriceReport {
        marketplace: Marketplace::Us,
        asin: Asin::parse("B08N5WRWNW").unwrap(),
        price: Some(Money::new(99_900, Currency::Usd)),
        currency: Currency::Usd,
        availability: Availability::InStock,
        observed_at: NOW,
        client_version: "1.4.2".to_owned(),
        nonce: Nonce::from_bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
    }
}

#[track_caller]
fn accepted(signed: &SignedReport) -> VerifiedReport {
    match signed.verify(&ReportRules::default(), NOW) {
        Ok(verified) => verified,
        Err(e) => panic!("expected the report to verify, got {e}"),
    }
}

#[track_caller]
fn refused(signed: &SignedReport) -> ReportError {
    match signed.verify(&ReportRules::default(), NOW) {
        Ok(_) => panic!("expected the report to be refused"),
        Err(e) => e,
    }
}

/// A report changed by `change`, then properly signed: what a client with a bug (or a
/// forger with its own key) would send.
fn signed_with(change: impl FnOnce(&mut PriceReport)) -> SignedReport {
    let mut r = report();
    change(&mut r);
    r.sign(&SEED)
}

#[test]
fn a_signed_report_verifies_and_names_its_key() {
    let signed = report().sign(&SEED);

    let verified = accepted(&signed);

    assert_eq!(verified.report(), &report());
    assert_eq!(verified.key(), ReporterKey::from_seed(&SEED));
    assert_eq!(verified.into_parts().1.to_string(), signed.public_key);
}

#[test]
fn the_canonical_encoding_matches_the_documented_layout() {
    let bytes = report().canonical_bytes();

    let mut expected = b"pricewatch-report\x01".to_vec();
    for (text, price) in [
        ("us", None),
        ("B08N5WRWNW", None),
        ("USD", Some(99_900_i64)),
    ] {
        expected.extend_from_slice(&(text.len() as u32).to_be_bytes());
        expected.extend_from_slice(text.as_bytes());
        if let Some(minor) = price {
            expected.push(1);
            expected.extend_from_slice(&3_u32.to_be_bytes());
            expected.extend_from_slice(b"USD");
            expected.extend_from_slice(&minor.to_be_bytes());
        }
    }
    expected.extend_from_slice(&8_u32.to_be_bytes());
    expected.extend_from_slice(b"in_stock");
    expected.extend_from_slice(&NOW.as_millis().to_be_bytes());
    expected.extend_from_slice(&5_u32.to_be_bytes());
    expected.extend_from_slice(b"1.4.2");
    expected.extend_from_slice(&(0..16).collect::<Vec<u8>>());
    assert_eq!(bytes, expected);
}

#[test]
fn a_report_without_a_price_encodes_a_zero_tag() {
    let mut r = report();
    r.price = None;
    r.availability = Availability::OutOfStock;

    let bytes = r.canonical_bytes();

    let after_currency = PREFIX_LEN + (4 + 2) + (4 + 10) + (4 + 3);
    assert_eq!(bytes[after_currency], 0);
    assert_eq!(PriceReport::from_canonical_bytes(&bytes), Ok(r));
}

const PREFIX_LEN: usize = 18;

/// A fixed vector the extension's tests can compare against: seed `[42; 32]` and this report
/// must give these exact bytes and signature from wasm too.
#[test]
fn the_golden_vector_is_stable() {
    let signed = report().sign(&SEED);

    assert_eq!(
        hex::encode(&report().canonical_bytes()),
        concat!(
            "707269636577617463682d7265706f7274", // "pricewatch-report"
            "01",                                 // version 1
            "00000002",
            "7573", // marketplace "us"
            "0000000a",
            "4230384e355752574e57", // asin "B08N5WRWNW"
            "00000003",
            "555344", // currency "USD"
            "01",
            "00000003",
            "555344",           // a price in "USD"
            "000000000001863c", // 99900 minor units
            "00000008",
            "696e5f73746f636b", // availability "in_stock"
            "000001941f297c00", // observed_at 1735689600000 ms
            "00000005",
            "312e342e32",                       // client_version "1.4.2"
            "000102030405060708090a0b0c0d0e0f", // nonce
        )
    );
    // Cross-checked against an independent Ed25519 implementation (Python `cryptography`).
    assert_eq!(
        signed.public_key,
        "197f6b23e16c8532c6abc838facd5ea789be0c76b2920334039bfa8b3d368d61"
    );
    assert_eq!(
        signed.signature,
        concat!(
            "69f6c7baa9cfc036fb8db17bfa727f19c66c5597130155b180e4916ea502e59a",
            "603ebb3ce5877c7d27e9dcaf69ee2d7fea4fb5102746e95e0c0a842eee90be0d",
        )
    );
}

#[test]
fn the_json_shape_is_the_documented_one() {
    let signed = report().sign(&SEED);

    let json = serde_json::to_value(&signed).unwrap();

    assert_eq!(
        json,
        serde_json::json!({
            "report": {
                "marketplace": "us",
                "asin": "B08N5WRWNW",
                "price": {"amount_minor": 99_900, "currency": "USD"},
                "currency": "USD",
                "availability": "in_stock",
                "observed_at": 1_735_689_600_000_i64,
                "client_version": "1.4.2",
                "nonce": "000102030405060708090a0b0c0d0e0f"
            },
            "public_key": signed.public_key,
            "signature": signed.signature,
        })
    );
    let back: SignedReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, signed);
}

#[test]
fn every_single_byte_change_of_the_encoding_breaks_the_signature() {
    let signed = report().sign(&SEED);
    let bytes = report().canonical_bytes();
    let key = VerifyingKey::from_bytes(ReporterKey::from_seed(&SEED).as_bytes()).unwrap();
    let signature = Signature::from_bytes(&hex::decode_array(&signed.signature).unwrap());

    for i in 0..bytes.len() {
        for mask in [0x01, 0x80, 0xff] {
            let mut tampered = bytes.clone();
            tampered[i] ^= mask;

            assert!(
                key.verify_strict(&tampered, &signature).is_err(),
                "byte {i} ^ {mask:#x} still verifies"
            );
            // Where the tampered bytes still spell a report, that report is refused too.
            if let Ok(other) = PriceReport::from_canonical_bytes(&tampered) {
                let forged = SignedReport {
                    report: other,
                    ..signed.clone()
                };
                assert!(forged.verify(&ReportRules::default(), NOW).is_err());
            }
        }
    }
}

#[test]
fn every_single_byte_change_of_the_signature_or_key_is_refused() {
    let signed = report().sign(&SEED);
    let signature = hex::decode_array::<64>(&signed.signature).unwrap();
    let key = *ReporterKey::from_seed(&SEED).as_bytes();

    for i in 0..64 {
        let mut tampered = signature;
        tampered[i] ^= 0x01;
        let forged = SignedReport {
            signature: hex::encode(&tampered),
            ..signed.clone()
        };
        assert!(
            forged.verify(&ReportRules::default(), NOW).is_err(),
            "signature byte {i}"
        );
    }
    for i in 0..32 {
        let mut tampered = key;
        tampered[i] ^= 0x01;
        let forged = SignedReport {
            public_key: hex::encode(&tampered),
            ..signed.clone()
        };
        let error = refused(&forged);
        assert!(
            matches!(error, ReportError::BadSignature | ReportError::InvalidKey),
            "key byte {i}: {error}"
        );
    }
}

#[test]
fn a_report_changed_after_signing_is_refused() {
    let mut signed = report().sign(&SEED);
    signed.report.price = Some(Money::new(1, Currency::Usd));

    assert_eq!(refused(&signed), ReportError::BadSignature);
}

#[test]
fn key_and_signature_format_errors_are_typed() {
    let good = report().sign(&SEED);
    let cases = [
        (
            SignedReport {
                public_key: good.public_key.to_uppercase(),
                ..good.clone()
            },
            ReportError::MalformedKey,
        ),
        (
            SignedReport {
                public_key: "ed25519:abc".to_owned(),
                ..good.clone()
            },
            ReportError::MalformedKey,
        ),
        (
            SignedReport {
                public_key: "00".repeat(32),
                ..good.clone()
            },
            ReportError::InvalidKey,
        ),
        (
            SignedReport {
                signature: good.signature[..126].to_owned(),
                ..good.clone()
            },
            ReportError::MalformedSignature,
        ),
        (
            SignedReport {
                public_key: ReporterKey::from_seed(&[1; 32]).to_string(),
                ..good.clone()
            },
            ReportError::BadSignature,
        ),
    ];
    for (signed, expected) in cases {
        assert_eq!(refused(&signed), expected);
    }
}

#[test]
fn content_rules_refuse_each_impossible_report() {
    let usd = |minor| Some(Money::new(minor, Currency::Usd));
    let cases: Vec<(SignedReport, ReportError)> = vec![
        (
            signed_with(|r| r.currency = Currency::Eur),
            ReportError::CurrencyMismatch {
                marketplace: Marketplace::Us,
                expected: Currency::Usd,
                got: Currency::Eur,
            },
        ),
        (
            signed_with(|r| r.price = Some(Money::new(99_900, Currency::Cad))),
            ReportError::CurrencyMismatch {
                marketplace: Marketplace::Us,
                expected: Currency::Usd,
                got: Currency::Cad,
            },
        ),
        (
            signed_with(|r| r.price = usd(0)),
            ReportError::NonPositivePrice(Money::new(0, Currency::Usd)),
        ),
        (
            signed_with(|r| r.price = usd(-500)),
            ReportError::NonPositivePrice(Money::new(-500, Currency::Usd)),
        ),
        (
            signed_with(|r| r.price = usd(10_000_001)),
            ReportError::PriceAboveCeiling {
                price: Money::new(10_000_001, Currency::Usd),
                ceiling: Money::new(10_000_000, Currency::Usd),
            },
        ),
        (
            signed_with(|r| r.client_version = "1".repeat(33)),
            ReportError::ClientVersionTooLong { len: 33, max: 32 },
        ),
        (
            signed_with(|r| r.client_version = String::new()),
            ReportError::ClientVersionMalformed(String::new()),
        ),
        (
            signed_with(|r| r.client_version = "1.0 beta".to_owned()),
            ReportError::ClientVersionMalformed("1.0 beta".to_owned()),
        ),
        (
            signed_with(|r| r.nonce = Nonce::from_bytes([0; 16])),
            ReportError::ZeroNonce,
        ),
    ];
    for (signed, expected) in cases {
        assert_eq!(refused(&signed), expected);
    }
}

#[test]
fn a_price_at_the_ceiling_and_a_missing_price_are_fine() {
    accepted(&signed_with(|r| {
        r.price = Some(Money::new(10_000_000, Currency::Usd))
    }));
    accepted(&signed_with(|r| r.price = None));
    accepted(&signed_with(|r| {
        r.client_version = "2.0.0-beta.1+build_7".to_owned()
    }));
}

#[test]
fn ceilings_follow_the_currency_and_can_be_overridden() {
    let mut rules = ReportRules::default();
    assert_eq!(
        rules.ceiling(Currency::Jpy),
        Money::new(15_000_000, Currency::Jpy)
    );
    assert_eq!(
        rules.ceiling(Currency::Kwd),
        Money::new(31_000_000, Currency::Kwd)
    );

    rules.price_ceilings.insert(Currency::Usd, 500_000);

    assert_eq!(
        rules.ceiling(Currency::Usd),
        Money::new(500_000, Currency::Usd)
    );
    let signed = signed_with(|r| r.price = Some(Money::new(500_001, Currency::Usd)));
    assert!(matches!(
        signed.verify(&rules, NOW),
        Err(ReportError::PriceAboveCeiling { .. })
    ));
}

#[test]
fn the_skew_window_includes_its_edges_and_nothing_beyond() {
    let rules = ReportRules::default();
    let at = |offset: Span| signed_with(|r| r.observed_at = NOW + offset);

    assert!(at(Span::minutes(10)).verify(&rules, NOW).is_ok());
    assert!(at(Span::hours(-24)).verify(&rules, NOW).is_ok());
    assert_eq!(
        at(Span::millis(600_001)).verify(&rules, NOW),
        Err(ReportError::FromTheFuture {
            ahead: Span::millis(600_001),
            max: Span::minutes(10)
        })
    );
    assert_eq!(
        at(Span::millis(-86_400_001)).verify(&rules, NOW),
        Err(ReportError::TooOld {
            age: Span::millis(86_400_001),
            max: Span::hours(24)
        })
    );
}

#[test]
fn the_skew_window_is_configurable() {
    let rules = ReportRules {
        max_future_skew: Span::seconds(30),
        max_age: Span::hours(1),
        ..ReportRules::default()
    };
    let signed = signed_with(|r| r.observed_at = NOW + Span::minutes(1));

    assert!(matches!(
        signed.verify(&rules, NOW),
        Err(ReportError::FromTheFuture { .. })
    ));
    assert!(signed.verify(&rules, NOW + Span::minutes(1)).is_ok());
    assert!(matches!(
        signed.verify(&rules, NOW + Span::minutes(62)),
        Err(ReportError::TooOld { .. })
    ));
}

#[test]
fn rules_load_from_partial_configuration() {
    let rules: ReportRules =
        serde_json::from_str(r#"{"max_age": 3600000, "price_ceilings": {"EUR": 100}}"#).unwrap();

    assert_eq!(rules.max_age, Span::hours(1));
    assert_eq!(rules.max_future_skew, Span::minutes(10));
    assert_eq!(rules.ceiling(Currency::Eur), Money::new(100, Currency::Eur));
}

#[test]
fn a_replayed_nonce_is_refused_until_it_expires() {
    let rules = ReportRules::default();
    let mut guard = ReplayGuard::new();
    let verified = accepted(&report().sign(&SEED));

    assert_eq!(guard.admit(&verified, &rules, NOW), Ok(()));
    assert_eq!(
        guard.admit(&verified, &rules, NOW + Span::hours(1)),
        Err(ReportError::Replayed)
    );
    assert_eq!(
        guard.admit(&verified, &rules, NOW + Span::hours(24)),
        Err(ReportError::Replayed)
    );

    // Past the expiry the guard forgets the pair, and the age check alone refuses the replay.
    let later = rules.nonce_expiry(NOW) + Span::millis(1);
    guard.prune(later);
    assert!(guard.is_empty());
    assert!(matches!(
        report().sign(&SEED).verify(&rules, later),
        Err(ReportError::TooOld { .. })
    ));
}

#[test]
fn nonces_are_unique_per_key_not_globally() {
    let rules = ReportRules::default();
    let mut guard = ReplayGuard::new();
    let mine = accepted(&report().sign(&SEED));
    let theirs = accepted(&report().sign(&[9; 32]));
    let my_next = accepted(&signed_with(|r| r.nonce = Nonce::from_bytes([1; 16])));

    assert_eq!(guard.admit(&mine, &rules, NOW), Ok(()));
    assert_eq!(guard.admit(&theirs, &rules, NOW), Ok(()));
    assert_eq!(guard.admit(&my_next, &rules, NOW), Ok(()));
    assert_eq!(guard.len(), 3);
}

#[test]
fn decoding_refuses_every_non_canonical_spelling() {
    let bytes = report().canonical_bytes();
    let with = |from: &[u8], to: &[u8]| {
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        let mut b = bytes.clone();
        b[at..at + from.len()].copy_from_slice(to);
        PriceReport::from_canonical_bytes(&b)
    };

    assert!(matches!(
        with(b"us", b"US"),
        Err(DecodeError::Field {
            field: "marketplace",
            ..
        })
    ));
    assert!(matches!(
        with(b"B08N5WRWNW", b"b08N5WRWNW"),
        Err(DecodeError::Field { field: "asin", .. })
    ));
    assert!(matches!(
        with(b"USD\x01", b"usd\x01"),
        Err(DecodeError::Field {
            field: "currency",
            ..
        })
    ));
    assert!(matches!(
        with(b"in_stock", b"in-stock"),
        Err(DecodeError::Field {
            field: "availability",
            ..
        })
    ));
    assert!(matches!(
        with(b"pricewatch", b"PriceWatch"),
        Err(DecodeError::Prefix)
    ));
    assert!(matches!(
        PriceReport::from_canonical_bytes(&bytes[..bytes.len() - 1]),
        Err(DecodeError::Truncated("nonce"))
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        PriceReport::from_canonical_bytes(&longer),
        Err(DecodeError::TrailingBytes(1))
    );
}

fn any_report() -> impl Strategy<Value = PriceReport> {
    (
        0..Marketplace::ALL.len(),
        "[A-Z0-9]{9}[0-9]",
        proptest::option::of(any::<i64>()),
        0..Currency::ALL.len(),
        0..3_usize,
        any::<i64>(),
        ".{0,40}",
        any::<[u8; 16]>(),
    )
        .prop_map(|(m, asin, price, c, a, at, version, nonce)| {
            let currency = Currency::ALL[c];
            PriceReport {
                marketplace: Marketplace::ALL[m],
                asin: Asin::parse(&asin).unwrap(),
                price: price.map(|p| Money::new(p, currency)),
                currency,
                availability: [
                    Availability::InStock,
                    Availability::OutOfStock,
                    Availability::Unknown,
                ][a],
                observed_at: Timestamp::from_millis(at),
                client_version: version,
                nonce: Nonce::from_bytes(nonce),
            }
        })
}

proptest! {
    #[test]
    fn decoding_reads_back_exactly_what_encoding_wrote(r in any_report()) {
        prop_assert_eq!(PriceReport::from_canonical_bytes(&r.canonical_bytes()), Ok(r));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let _ = PriceReport::from_canonical_bytes(&bytes);
    }

    #[test]
    fn verifying_arbitrary_key_and_signature_text_never_panics(key in ".{0,70}", sig in ".{0,130}") {
        let signed = SignedReport { report: report(), public_key: key, signature: sig };
        prop_assert!(signed.verify(&ReportRules::default(), NOW).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_seed_signs_reports_that_verify(seed in any::<[u8; 32]>(), minor in 1..=10_000_000_i64) {
        let mut r = report();
        r.price = Some(Money::new(minor, Currency::Usd));
        let verified = r.clone().sign(&seed).verify(&ReportRules::default(), NOW);
        prop_assert_eq!(verified.map(|v| v.key()), Ok(ReporterKey::from_seed(&seed)));
    }
}
