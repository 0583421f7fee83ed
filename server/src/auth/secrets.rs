//! The server's HMAC key, and the signed tokens made with it.
//!
//! The key comes from `auth.secret` when set; otherwise the first replica to start generates
//! one and stores it in `server_secrets`, and every replica (and every restart) reads the
//! same one, so links in emails already sent keep working.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use pricewatch_core::Timestamp;
use sqlx::AnyPool;

use super::tokens::{self, constant_time_eq, hmac_bytes, hmac_hex};

/// The name of the generated key's row.
const HMAC_KEY: &str = "hmac_key";

/// Bytes of HMAC kept in an unsubscribe token: 128 bits is beyond guessing and keeps links
/// short.
const TAG_BYTES: usize = 16;

/// The server's signing key.
#[derive(Clone)]
pub struct Secrets {
    key: Vec<u8>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets(***)")
    }
}

/// Why the key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("reading or storing the server key: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Random(#[from] tokens::NoRandomness),
}

impl Secrets {
    /// A key from given bytes (tests and benchmarks).
    pub fn from_key(key: impl Into<Vec<u8>>) -> Secrets {
        Secrets { key: key.into() }
    }

    /// The configured key, or the shared generated one.
    pub async fn load(
        configured: &str,
        pool: &AnyPool,
        now: Timestamp,
    ) -> Result<Secrets, SecretsError> {
        if !configured.is_empty() {
            return Ok(Secrets::from_key(configured.as_bytes()));
        }
        let candidate = hex::encode(tokens::random_bytes::<32>()?);
        // Several replicas may start at once: the first insert wins, all read the winner.
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(HMAC_KEY)
        .bind(&candidate)
        .bind(now.as_millis())
        .execute(pool)
        .await?;
        let value: String = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(HMAC_KEY)
            .fetch_one(pool)
            .await?;
        Ok(Secrets::from_key(value.into_bytes()))
    }

    /// How a sign-in code for `email` is stored.
    pub fn code_hash(&self, email: &str, code: &str) -> String {
        hmac_hex(&self.key, &format!("signin-code\0{email}\0{code}"))
    }

    /// How a magic-link token is stored.
    pub fn link_hash(&self, token: &str) -> String {
        hmac_hex(&self.key, &format!("signin-link\0{token}"))
    }

    /// A token for an unsubscribe link.
    pub fn unsubscribe_token(&self, what: UnsubscribeToken) -> String {
        let body = what.to_string();
        let tag = hmac_bytes(&self.key, format!("unsubscribe\0{body}").as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES]))
    }

    /// What a token from a link unsubscribes, if the token is genuine.
    pub fn verify_unsubscribe(&self, token: &str) -> Option<UnsubscribeToken> {
        let (body, tag) = token.split_once('.')?;
        let what: UnsubscribeToken = body.parse().ok()?;
        let given = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let expected = hmac_bytes(&self.key, format!("unsubscribe\0{body}").as_bytes());
        constant_time_eq(&given, &expected[..TAG_BYTES]).then_some(what)
    }
}

/// What an unsubscribe link stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeToken {
    /// One subscription: it is deleted.
    Subscription(i64),
    /// Every alert of a user (the link in a digest): all their subscriptions are paused.
    AllOf(i64),
}

impl fmt::Display for UnsubscribeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnsubscribeToken::Subscription(id) => write!(f, "s{id}"),
            UnsubscribeToken::AllOf(id) => write!(f, "u{id}"),
        }
    }
}

impl std::str::FromStr for UnsubscribeToken {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let parse = |n: &str| n.parse::<i64>().ok().filter(|n| *n > 0).ok_or(());
        match s.split_at_checked(1) {
            Some(("s", n)) => parse(n).map(UnsubscribeToken::Subscription),
            Some(("u", n)) => parse(n).map(UnsubscribeToken::AllOf),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsubscribe_token_verifies_only_unaltered_and_under_its_key() {
        let secrets = Secrets::from_key(b"k1".to_vec());
        let token = secrets.unsubscribe_token(UnsubscribeToken::Subscription(42));

        assert_eq!(
            secrets.verify_unsubscribe(&token),
            Some(UnsubscribeToken::Subscription(42))
        );
        let other_id = token.replacen("s42", "s43", 1);
        assert_eq!(secrets.verify_unsubscribe(&other_id), None);
        let other_kind = token.replacen("s42", "u42", 1);
        assert_eq!(secrets.verify_unsubscribe(&other_kind), None);
        assert_eq!(
            Secrets::from_key(b"k2".to_vec()).verify_unsubscribe(&token),
            None
        );
        assert_eq!(secrets.verify_unsubscribe("s42"), None);
        assert_eq!(secrets.verify_unsubscribe("s-1.AAAA"), None);
    }

    #[test]
    fn codes_are_bound_to_their_address() {
        let secrets = Secrets::from_key(b"k".to_vec());
        assert_ne!(
            secrets.code_hash("a@example.org", "123456"),
            secrets.code_hash("b@example.org", "123456")
        );
        assert_eq!(
            secrets.code_hash("a@example.org", "123456"),
            secrets.code_hash("a@example.org", "123456")
        );
    }
}
