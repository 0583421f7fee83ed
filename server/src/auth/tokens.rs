//! Random tokens and sign-in codes, and the one-way forms they are stored in.
//!
//! Session tokens are 256 random bits, so a plain SHA-256 of them is enough to make a stolen
//! table useless. Sign-in codes are only six digits: a plain hash could be reversed by trying
//! all million, so codes (and links) are stored as an HMAC under the server's secret key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Why randomness could not be had (the OS refused).
#[derive(Debug, thiserror::Error)]
#[error("no randomness from the operating system: {0}")]
pub struct NoRandomness(String);

/// `n` random bytes from the OS.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], NoRandomness> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(|e| NoRandomness(e.to_string()))?;
    Ok(buf)
}

/// A fresh 256-bit token, URL-safe (43 characters).
pub fn new_token() -> Result<String, NoRandomness> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// A fresh six-digit code, uniformly drawn (rejection sampling keeps it unbiased).
pub fn new_code() -> Result<String, NoRandomness> {
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>()?);
        // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// How a session token is stored.
pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// HMAC-SHA256 of `message` under `key`, hex.
pub fn hmac_hex(key: &[u8], message: &str) -> String {
    hex::encode(hmac_bytes(key, message.as_bytes()))
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_bytes(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC is defined for keys of every length (long ones are hashed first), so the
    // length check inside `new_from_slice` cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC-SHA256 accepts keys of any length")
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Equal in constant time, so comparing a guess leaks nothing through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_tokens_43_url_safe_characters() {
        for _ in 0..100 {
            let code = new_code().unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
        let token = new_token().unwrap();
        assert_eq!(token.len(), 43);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(new_token().unwrap(), token);
    }

    #[test]
    fn hmac_matches_the_rfc_4231_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex(b"Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn constant_time_comparison_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
