//! Reporter identities: Ed25519 public keys, and the secret seeds clients sign with.
//!
//! Key generation needs a random source, which core does not have (it runs in wasm with no
//! `getrandom`), so callers make the 32-byte seed (the extension with
//! `crypto.getRandomValues`, the server's tools with the OS) and core derives everything else.

use std::fmt;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::error::ReportError;
use super::hex;

/// A reporter's identity: the 32 bytes of its Ed25519 public key.
///
/// Reputation, rate limits and nonce uniqueness are all per key, so this is what the server
/// stores and indexes. Its text form (JSON, logs, database) is 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReporterKey([u8; 32]);

impl ReporterKey {
    /// The public key belonging to a secret seed, for a client showing its identity.
    pub fn from_seed(seed: &[u8; 32]) -> ReporterKey {
        ReporterKey(SigningKey::from_bytes(seed).verifying_key().to_bytes())
    }

    /// A key from its raw bytes, as a database stores it. Whether the bytes are a usable
    /// Ed25519 point is decided when a signature is verified against them.
    pub const fn from_bytes(bytes: [u8; 32]) -> ReporterKey {
        ReporterKey(bytes)
    }

    /// The raw key bytes, for a binary database column.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Read the API's text form: exactly 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<ReporterKey, ReportError> {
        hex::decode_array(text)
            .map(ReporterKey)
            .ok_or(ReportError::MalformedKey)
    }
}

/// The hex form, so that logs show what the API and the database show.
impl fmt::Display for ReporterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl fmt::Debug for ReporterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReporterKey({self})")
    }
}

impl TryFrom<String> for ReporterKey {
    type Error = ReportError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        ReporterKey::parse(&text)
    }
}

impl From<ReporterKey> for String {
    fn from(key: ReporterKey) -> Self {
        key.to_string()
    }
}

/// A report's one-time value: 16 random bytes chosen by the client.
///
/// Two reports from one key must never share a nonce inside the replay window (see
/// [`ReportRules::nonce_expiry`](super::ReportRules::nonce_expiry)); 128 random bits make an
/// honest collision impossible in practice. Text form: 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nonce([u8; 16]);

impl Nonce {
    /// A nonce from the client's random bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Nonce {
        Nonce(bytes)
    }

    /// The raw bytes, as signed and as a database stores them.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Read the API's text form: exactly 32 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Nonce, ReportError> {
        hex::decode_array(text)
            .map(Nonce)
            .ok_or(ReportError::MalformedNonce)
    }

    /// An all-zero nonce comes from a broken random source, never from a working one.
    pub(crate) fn is_zero(&self) -> bool {
        self.0.iter().all(|b| *b == 0)
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({self})")
    }
}

impl TryFrom<String> for Nonce {
    type Error = ReportError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Nonce::parse(&text)
    }
}

impl From<Nonce> for String {
    fn from(nonce: Nonce) -> Self {
        nonce.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_back_from_its_text_form() {
        let key = ReporterKey::from_seed(&[7; 32]);
        let text = key.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(ReporterKey::parse(&text), Ok(key));
        assert_eq!(ReporterKey::from_bytes(*key.as_bytes()), key);
    }

    #[test]
    fn a_key_in_uppercase_or_of_the_wrong_length_is_malformed() {
        let text = ReporterKey::from_seed(&[7; 32]).to_string();
        assert_eq!(
            ReporterKey::parse(&text.to_uppercase()),
            Err(ReportError::MalformedKey)
        );
        assert_eq!(
            ReporterKey::parse(&text[..62]),
            Err(ReportError::MalformedKey)
        );
        assert_eq!(ReporterKey::parse(""), Err(ReportError::MalformedKey));
    }

    #[test]
    fn the_rfc_8032_test_key_derives_from_its_seed() {
        // RFC 8032, section 7.1, TEST 1.
        let seed = hex::decode_array::<32>(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        )
        .unwrap();
        assert_eq!(
            ReporterKey::from_seed(&seed).to_string(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
    }

    #[test]
    fn a_nonce_reads_back_and_knows_when_it_is_zero() {
        let nonce = Nonce::from_bytes([0xab; 16]);
        assert_eq!(Nonce::parse(&nonce.to_string()), Ok(nonce));
        assert_eq!(Nonce::parse("00"), Err(ReportError::MalformedNonce));
        assert!(Nonce::from_bytes([0; 16]).is_zero());
        assert!(!nonce.is_zero());
    }

    #[test]
    fn keys_and_nonces_are_hex_strings_in_json() {
        let json = serde_json::to_string(&Nonce::from_bytes([1; 16])).unwrap();
        assert_eq!(json, "\"01010101010101010101010101010101\"");
        assert!(serde_json::from_str::<Nonce>("\"0101\"").is_err());
        assert!(serde_json::from_str::<ReporterKey>("\"zz\"").is_err());
    }
}
