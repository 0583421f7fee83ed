//! The webhook channel: alerts POSTed as JSON to a URL the user gives, for chat tools and
//! home automation.
//!
//! Every request carries `X-PriceWatch-Timestamp` (Unix seconds) and
//! `X-PriceWatch-Signature: sha256=<hex>`, the HMAC-SHA256 of `"<timestamp>.<body>"` under the
//! user's webhook secret: a receiver recomputes it to know the request is ours and fresh.
//! `X-PriceWatch-Delivery` is the notification id, the same on every retry, so a receiver can
//! drop a retry of a request it already handled.

use std::time::Duration;

use pricewatch_core::Timestamp;

use crate::auth::tokens::hmac_hex;
use crate::mail::SendError;

/// Header names.
pub const SIGNATURE_HEADER: &str = "x-pricewatch-signature";
pub const TIMESTAMP_HEADER: &str = "x-pricewatch-timestamp";
pub const DELIVERY_HEADER: &str = "x-pricewatch-delivery";

/// The signature a receiver should compute for `body` sent at `timestamp_secs`.
pub fn signature(secret: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let message = format!("{timestamp_secs}.{}", String::from_utf8_lossy(body));
    format!("sha256={}", hmac_hex(secret.as_bytes(), &message))
}

/// Whether a URL may be a webhook: absolute http(s) with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("a webhook URL must start with https:// or http://".into());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("a webhook URL needs a host".into());
    }
    if url.len() > 2_000 {
        return Err("a webhook URL may be at most 2000 characters".into());
    }
    Ok(())
}

/// Sends webhook requests. Cloning shares the connection pool.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
}

impl WebhookSender {
    pub fn new(timeout: Duration) -> Result<WebhookSender, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            // A redirect could point a signed request anywhere; the user should fix the URL.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("PriceWatch/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookSender { client })
    }

    /// POST `payload` to `url`, signed with `secret`.
    #[tracing::instrument(skip(self, secret, payload), fields(delivery))]
    pub async fn post(
        &self,
        url: &str,
        secret: &str,
        delivery: i64,
        payload: &serde_json::Value,
        now: Timestamp,
    ) -> Result<(), SendError> {
        let body = serde_json::to_vec(payload)
            .map_err(|e| SendError::Permanent(format!("the payload cannot be encoded: {e}")))?;
        let ts = now.as_millis().div_euclid(1_000);
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, signature(secret, ts, &body))
            .header(DELIVERY_HEADER, delivery.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| {
                tracing::debug!(error = %e, "webhook request failed; will retry");
                SendError::Transient(if e.is_timeout() {
                    "the webhook did not answer in time".to_owned()
                } else {
                    "the webhook could not be reached".to_owned()
                })
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error()
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Err(SendError::Transient(format!(
                "the webhook answered HTTP {}",
                status.as_u16()
            )))
        } else {
            Err(SendError::Permanent(format!(
                "the webhook answered HTTP {}",
                status.as_u16()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        let a = signature("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(a.starts_with("sha256="));
        assert_eq!(a.len(), 7 + 64);
        assert_ne!(a, signature("s3cret", 1_700_000_001, b"{\"a\":1}"));
        assert_ne!(a, signature("s3cret", 1_700_000_000, b"{\"a\":2}"));
        assert_ne!(a, signature("other", 1_700_000_000, b"{\"a\":1}"));
    }

    #[test]
    fn only_http_urls_with_a_host_are_webhooks() {
        assert!(check_url("https://hooks.example/abc").is_ok());
        assert!(check_url("http://127.0.0.1:8123/api/webhook/x").is_ok());
        assert!(check_url("ftp://x.example/").is_err());
        assert!(check_url("javascript:alert(1)").is_err());
        assert!(check_url("not a url").is_err());
    }
}
