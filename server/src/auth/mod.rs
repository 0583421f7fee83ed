//! Accounts without passwords: one-time codes and magic links by email, sessions (an
//! HttpOnly cookie for the website, a bearer token for the extension), roles, and the signed
//! tokens of unsubscribe links.
//!
//! - [`tokens`]: random tokens, sign-in codes and how they are hashed before storage.
//! - [`secrets`]: the server's HMAC key (configured, or generated once and shared through
//!   the database) and the signed unsubscribe tokens made with it.
//! - [`signin`]: sending a code and link, verifying either, opening and closing sessions.
//! - [`session`]: the [`CurrentUser`] and [`AdminUser`] extractors handlers ask for.

pub mod secrets;
pub mod session;
pub mod signin;
pub mod tokens;

use serde::{Deserialize, Serialize};

pub use secrets::{Secrets, UnsubscribeToken};
pub use session::{AdminUser, CurrentUser, SESSION_COOKIE};

/// Sign-in and session settings (`[auth]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Addresses that get the admin role (the review queue) when they sign in.
    pub admin_emails: Vec<String>,
    /// How long a sign-in code and link stay valid, in seconds.
    pub code_ttl_secs: i64,
    /// Wrong codes tried against one sign-in email before it stops working.
    pub max_code_attempts: i64,
    /// Sign-in emails one address may ask for per hour (counted in the database, so across
    /// replicas).
    pub emails_per_hour: i64,
    /// Sign-in requests one IP address may make per minute.
    pub per_ip_per_minute: u32,
    /// How long a website session lasts, in days.
    pub session_days: i64,
    /// How long an extension's bearer token lasts, in days.
    pub bearer_days: i64,
    /// The HMAC key for sign-in codes and unsubscribe links. Empty: one is generated on
    /// first start and kept in the database, which every replica then shares.
    pub secret: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            admin_emails: Vec::new(),
            code_ttl_secs: 15 * 60,
            max_code_attempts: 5,
            emails_per_hour: 5,
            per_ip_per_minute: 30,
            session_days: 30,
            bearer_days: 365,
            secret: String::new(),
        }
    }
}

/// Roles a user can have.
pub mod role {
    pub const USER: &str = "user";
    pub const ADMIN: &str = "admin";
}
