//! The webhook channel: alerts POSTed as JSON to a URL the user gives, for chat tools and
//! home automation.
//!
//! Every request carries `X-PriceWatch-Timestamp` (Unix seconds) and
//! `X-PriceWatch-Signature: sha256=<hex>`, the HMAC-SHA256 of `"<timestamp>.<body>"` under the
//! user's webhook secret: a receiver recomputes it to know the request is ours and fresh.
//! `X-PriceWatch-Delivery` is the notification id, the same on every retry, so a receiver can
//! drop a retry of a request it already handled.
//!
//! # Server-side request forgery
//! A webhook URL makes the server send requests where a user says, so by default it may not
//! point inside the server's own network: loopback, private, link-local (cloud metadata
//! services live there), unique-local, CGNAT, multicast and reserved addresses are refused
//! when the URL is saved ([`check_url_resolving`]) and again when each request is sent,
//! after DNS resolution: the client's resolver ([`PublicOnly`]) checks every address a name
//! resolves to and hands the connector only checked ones, so a name that changes its answer
//! between the two checks (DNS rebinding) still cannot reach inside. No proxy is used (a
//! proxy would resolve names itself). `webhooks.allow_private_addresses` turns this off for
//! a receiver on the same machine or network.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use pricewatch_core::Timestamp;
use serde::{Deserialize, Serialize};

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

/// Webhook settings (`[webhooks]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Let webhook URLs reach loopback, private and link-local addresses (a receiver on the
    /// server's own machine or network). Off by default: see the module doc.
    pub allow_private_addresses: bool,
}

/// Whether `ip` is somewhere a webhook may not reach by default: anything but a public
/// unicast address.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) reaches the IPv4 address in its low 32 bits.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_private_v4(Ipv4Addr::new(a, b, c, d));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible ::a.b.c.d (deprecated)
        }
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

const PRIVATE_REFUSAL: &str = "a webhook URL may not point to a private, loopback or link-local \
                               address";

/// Whether a URL may be a webhook: absolute http(s) with a host, and unless
/// `allow_private`, not a private address literal nor `localhost`. Names are checked by
/// [`check_url_resolving`].
pub fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    if url.len() > 2_000 {
        return Err("a webhook URL may be at most 2000 characters".into());
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("a webhook URL must start with https:// or http://".into());
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("a webhook URL needs a host")?;
    if !allow_private {
        // The URL parser has already normalised IPv4 spellings (`2130706433`, `0x7f.1`).
        let refused = match literal_ip(host) {
            Some(ip) => is_private(ip),
            None => {
                let name = host.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost")
            }
        };
        if refused {
            return Err(PRIVATE_REFUSAL.into());
        }
    }
    Ok(parsed)
}

/// The address a URL's host names literally (`1.2.3.4`, `[::1]`), if it does.
fn literal_ip(host: &str) -> Option<IpAddr> {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()
}

/// [`check_url`], then (unless `allow_private`) the host name resolved: a name that resolves
/// to a private address is refused now rather than failing at every alert. A name that does
/// not resolve yet is accepted; each request checks again.
pub async fn check_url_resolving(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = check_url(url, allow_private)?;
    if allow_private {
        return Ok(());
    }
    let name = parsed.host_str().unwrap_or_default();
    if literal_ip(name).is_none() {
        let port = parsed.port_or_known_default().unwrap_or(443);
        if let Ok(addrs) = tokio::net::lookup_host((name, port)).await {
            if addrs.into_iter().any(|a| is_private(a.ip())) {
                return Err(PRIVATE_REFUSAL.into());
            }
        }
    }
    Ok(())
}

/// A name resolved to a private address while private addresses are not allowed.
#[derive(Debug, thiserror::Error)]
#[error("{name} resolves to {ip}, a private address")]
pub struct PrivateAddress {
    pub name: String,
    pub ip: IpAddr,
}

/// The webhook client's resolver: the system's answer, refused whole if any address in it
/// is private (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
                return Err(Box::new(PrivateAddress {
                    name: host,
                    ip: bad.ip(),
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether `e` was caused by [`PrivateAddress`].
fn private_address_in<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a PrivateAddress> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(p) = c.downcast_ref::<PrivateAddress>() {
            return Some(p);
        }
        cause = c.source();
    }
    None
}

/// Sends webhook requests. Cloning shares the connection pool.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl WebhookSender {
    pub fn new(timeout: Duration, allow_private: bool) -> Result<WebhookSender, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            // A redirect could point a signed request anywhere; the user should fix the URL.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("PriceWatch/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(WebhookSender {
            client: builder.build()?,
            allow_private,
        })
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
        // Address literals never reach the resolver: they are checked here.
        check_url(url, self.allow_private).map_err(SendError::Permanent)?;
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
                if let Some(p) = private_address_in(&e) {
                    tracing::warn!(%p, "webhook refused: private address");
                    return SendError::Permanent(format!("{PRIVATE_REFUSAL}: {p}"));
                }
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
        assert!(check_url("https://hooks.example/abc", false).is_ok());
        assert!(check_url("http://127.0.0.1:8123/api/webhook/x", true).is_ok());
        assert!(check_url("ftp://x.example/", true).is_err());
        assert!(check_url("javascript:alert(1)", true).is_err());
        assert!(check_url("not a url", true).is_err());
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_refused() {
        for url in [
            "http://127.0.0.1:8123/x",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://2130706433/",
            "http://0x7f.1/",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url} when allowed");
        }
        for ok in [
            "https://93.184.216.34/",
            "https://[2606:4700::1111]/",
            "https://hooks.example/",
        ] {
            assert!(check_url(ok, false).is_ok(), "{ok}");
        }
    }

    #[tokio::test]
    async fn names_are_checked_after_resolution() {
        assert!(check_url_resolving("http://localhost./x", false)
            .await
            .is_err());
        use reqwest::dns::Resolve;
        let refused = PublicOnly.resolve("localhost".parse().unwrap()).await;
        let e = refused.err().expect("localhost is refused");
        assert!(private_address_in(e.as_ref()).is_some(), "{e}");
    }

    #[tokio::test]
    async fn a_request_to_a_private_address_fails_for_good() {
        let sender = WebhookSender::new(Duration::from_secs(2), false).unwrap();
        for url in ["http://127.0.0.1:9/hook", "http://localhost:9/hook"] {
            let r = sender
                .post(
                    url,
                    "s",
                    1,
                    &serde_json::json!({}),
                    Timestamp::from_millis(0),
                )
                .await;
            assert!(matches!(r, Err(SendError::Permanent(_))), "{url}: {r:?}");
        }
        // A name that passed the first check is refused by the client's resolver, after
        // resolution, before any connection (a receiver is listening there).
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let e = sender
            .client
            .post(format!("http://localhost:{port}/hook"))
            .send()
            .await
            .expect_err("the resolver refuses loopback");
        assert!(private_address_in(&e).is_some(), "{e:?}");
        listener.set_nonblocking(true).unwrap();
        assert!(listener.accept().is_err(), "nothing connected");
    }
}
