//! Email: the SMTP mailer (a pooled `lettre` transport), the message templates and the price
//! chart PNG embedded in alerts.
//!
//! - [`mailer`]: [`Mailer`], sending with errors sorted into "try again" and "give up".
//! - [`templates`]: HTML and plain-text bodies, every untrusted string escaped.
//! - [`chart`]: a small price chart rendered to PNG with plotters, no fonts needed.
//! - `smtp`: the pooled SMTP connections, opened with `TCP_NODELAY` (lettre's own transport
//!   cannot set it, and without it every message waited about 45 ms on a delayed ACK).

pub mod chart;
pub mod mailer;
mod smtp;
pub mod templates;

use serde::{Deserialize, Serialize};

pub use mailer::{Mailer, SendError};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP: a local relay or a test sink.
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// The SMTP server and the sender (`[mail]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: SmtpSecurity,
    /// SMTP AUTH user; empty for none.
    pub username: String,
    pub password: String,
    /// The From address, e.g. `PriceWatch <alerts@example.org>`.
    pub from: String,
    /// Connections kept open to the SMTP server (and messages sent at once). Each message
    /// waits on a few round trips, so throughput grows with it; keep it within what the SMTP
    /// server allows one client.
    pub pool_size: u32,
    /// Give up on one SMTP exchange after this many seconds.
    pub timeout_secs: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            security: SmtpSecurity::None,
            username: String::new(),
            password: String::new(),
            from: "PriceWatch <alerts@localhost>".into(),
            pool_size: 16,
            timeout_secs: 10,
        }
    }
}
