//! The crawler's reporter identity: an Ed25519 key whose reporter row has kind `crawler`, so
//! its reports are judged as ground truth and go through exactly the ingest path browsers use.
//!
//! The seed comes from `crawler.key_seed`, or is generated on first run and kept in the
//! `crawler_identity` table so that every replica (and every restart) signs as one crawler.

use pricewatch_core::report::{Nonce, PriceReport, ReporterKey, SignedReport};
use pricewatch_core::Timestamp;
use sqlx::AnyPool;

use crate::store::reporters;

/// The crawler's client version in its reports: the server's own version.
pub const CLIENT_VERSION: &str = concat!("crawler-", env!("CARGO_PKG_VERSION"));

/// Why the crawler has no identity.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("crawler.key_seed must be 64 hex digits (a 32-byte Ed25519 seed)")]
    BadSeed,
    #[error(
        "the stored crawler key is damaged; delete the crawler_identity row to make a new one"
    )]
    BadStoredSeed,
    #[error("no randomness to make a crawler key: {0}")]
    NoRandomness(String),
    #[error("storing the crawler identity: {0}")]
    Db(#[from] sqlx::Error),
}

/// The key the crawler signs with.
#[derive(Clone)]
pub struct CrawlerIdentity {
    seed: [u8; 32],
    public_key: ReporterKey,
    /// The `reporters` row.
    pub reporter_id: i64,
}

impl std::fmt::Debug for CrawlerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the seed.
        f.debug_struct("CrawlerIdentity")
            .field("public_key", &self.public_key.to_string())
            .field("reporter_id", &self.reporter_id)
            .finish()
    }
}

fn parse_seed(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut seed = [0_u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(seed)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl CrawlerIdentity {
    /// The configured seed, else the stored one, else a new one stored for next time; then
    /// the reporter row, registered (and marked `crawler`) if need be.
    pub async fn load(
        pool: &AnyPool,
        configured: Option<&str>,
        now: Timestamp,
    ) -> Result<CrawlerIdentity, IdentityError> {
        let seed = match configured {
            Some(text) => parse_seed(text).ok_or(IdentityError::BadSeed)?,
            None => {
                let fresh = super::random_bytes::<32>().map_err(IdentityError::NoRandomness)?;
                // First writer wins, so replicas starting together agree on one key.
                sqlx::query(
                    "INSERT INTO crawler_identity (id, seed, created_at) VALUES (1, $1, $2) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(hex(&fresh))
                .bind(now.as_millis())
                .execute(pool)
                .await?;
                let stored: String =
                    sqlx::query_scalar("SELECT seed FROM crawler_identity WHERE id = 1")
                        .fetch_one(pool)
                        .await?;
                parse_seed(&stored).ok_or(IdentityError::BadStoredSeed)?
            }
        };
        let public_key = ReporterKey::from_seed(&seed);
        let (reporter, _) = reporters::register(pool, &public_key, "crawler", now).await?;
        if reporter.kind != "crawler" {
            // The public key is public: someone may have registered it as an extension
            // first. Only the seed signs, so the row is ours to mark.
            sqlx::query("UPDATE reporters SET kind = 'crawler' WHERE id = $1")
                .bind(reporter.id)
                .execute(pool)
                .await?;
        }
        Ok(CrawlerIdentity {
            seed,
            public_key,
            reporter_id: reporter.id,
        })
    }

    pub fn public_key(&self) -> ReporterKey {
        self.public_key
    }

    /// Sign a report of what a crawl saw, with a fresh random nonce.
    pub fn sign(&self, mut report: PriceReport) -> Result<SignedReport, IdentityError> {
        report.nonce =
            Nonce::from_bytes(super::random_bytes::<16>().map_err(IdentityError::NoRandomness)?);
        report.client_version = CLIENT_VERSION.to_owned();
        Ok(report.sign(&self.seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_64_hex_digits() {
        let seed = [7_u8; 32];
        assert_eq!(parse_seed(&hex(&seed)), Some(seed));
        assert_eq!(parse_seed("07"), None);
        assert_eq!(parse_seed(&"zz".repeat(32)), None);
    }
}
