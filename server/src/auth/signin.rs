//! Signing in without a password: an emailed one-time code and magic link, verified once
//! for a session.

use pricewatch_core::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use super::{role, tokens};
use crate::error::ApiError;
use crate::mail::mailer::Outgoing;
use crate::mail::{templates, SendError};
use crate::state::AppState;
use crate::store::sessions::{self, kind};
use crate::store::users::{self, User};

/// The longest address accepted (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

/// An address checked and lower-cased, so one person has one account.
pub fn normalize_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let bad =
        |why: &str| ApiError::field("email", format!("{raw:?} is not an email address: {why}"));
    if email.len() > MAX_EMAIL {
        return Err(bad("too long"));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(bad("no @"));
    };
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(bad("a name and a domain are needed around one @"));
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(bad("the domain needs a dot"));
    }
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c))
    {
        return Err(bad("it contains characters addresses cannot have"));
    }
    email
        .parse::<lettre::Address>()
        .map_err(|e| bad(&e.to_string()))?;
    Ok(email)
}

/// Send a sign-in code and link to `raw_email`. The answer never says whether an account
/// exists (the first sign-in creates it).
#[tracing::instrument(skip(state, raw_email))]
pub async fn request(state: &AppState, raw_email: &str, client: &str) -> Result<(), ApiError> {
    let settings = &state.settings.auth;
    let now = state.clock.now();
    state
        .limits
        .check(
            &format!("signin-ip:{client}"),
            1,
            settings.per_ip_per_minute,
            now,
        )
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let email = normalize_email(raw_email)?;
    let code = tokens::new_code().map_err(|e| ApiError::Internal(e.into()))?;
    let link_token = tokens::new_token().map_err(|e| ApiError::Internal(e.into()))?;
    let ttl = Span::seconds(settings.code_ttl_secs.max(60));

    let mut tx = state.db.write.begin().await?;
    let recent = sessions::logins_since(&mut tx, &email, now - Span::hours(1)).await?;
    if recent >= settings.emails_per_hour {
        return Err(ApiError::RateLimited {
            retry_after_secs: 3600,
        });
    }
    sessions::insert_login(
        &mut tx,
        &email,
        &state.secrets.code_hash(&email, &code),
        &state.secrets.link_hash(&link_token),
        now,
        now + ttl,
    )
    .await?;
    tx.commit().await?;

    let link = format!(
        "{}/signin?token={link_token}",
        state.settings.public_url.trim_end_matches('/')
    );
    let body = templates::signin(&code, &link, ttl.as_millis() / 60_000);
    let mail = Outgoing {
        to: email.clone(),
        subject: body.subject,
        text: body.text,
        html: body.html,
        inline_png: None,
        unsubscribe_url: None,
        message_id: None,
    };
    match state.mailer.send(&mail).await {
        Ok(()) => Ok(()),
        Err(SendError::Permanent(why)) => Err(ApiError::field("email", why)),
        Err(SendError::Transient(why)) => {
            tracing::warn!(%why, "sign-in email not sent");
            Err(ApiError::Unavailable(
                "the sign-in email cannot be sent right now; try again in a minute".into(),
            ))
        }
    }
}

/// Which client is signing in, and so which credential it gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// The website: an HttpOnly session cookie.
    #[default]
    Web,
    /// The browser extension: a bearer token in the answer.
    Extension,
}

/// What proves the sign-in.
#[derive(Debug, Clone)]
pub enum Proof {
    Code { email: String, code: String },
    Link { token: String },
}

/// A verified sign-in.
#[derive(Debug)]
pub struct Verified {
    pub user: User,
    /// The session token (the cookie's value or the bearer token).
    pub token: String,
    pub expires_at: Timestamp,
}

fn invalid(field: &str) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_code",
        message: "the code or link is wrong, expired or already used; ask for a new one".into(),
        field: Some(field.to_owned()),
    }
}

/// Check a code or link (each works once), then open a session.
#[tracing::instrument(skip(state, proof))]
pub async fn verify(
    state: &AppState,
    proof: Proof,
    client: ClientKind,
) -> Result<Verified, ApiError> {
    let settings = &state.settings.auth;
    let now = state.clock.now();
    let mut tx = state.db.write.begin().await?;
    let (login, field) = match &proof {
        Proof::Code { email, code } => {
            let email = normalize_email(email)?;
            let login = sessions::latest_open(&mut tx, &email, now)
                .await?
                .filter(|l| l.attempts < settings.max_code_attempts)
                .ok_or_else(|| invalid("code"))?;
            let expected = state.secrets.code_hash(&email, code.trim());
            if !tokens::constant_time_eq(expected.as_bytes(), login.code_hash.as_bytes()) {
                sessions::count_attempt(&mut tx, login.id).await?;
                tx.commit().await?;
                return Err(invalid("code"));
            }
            (login, "code")
        }
        Proof::Link { token } => {
            let login =
                sessions::open_by_link(&mut tx, &state.secrets.link_hash(token.trim()), now)
                    .await?
                    .ok_or_else(|| invalid("token"))?;
            (login, "token")
        }
    };
    if !sessions::consume(&mut tx, login.id, now).await? {
        return Err(invalid(field));
    }
    let is_admin = settings
        .admin_emails
        .iter()
        .any(|a| a.trim().eq_ignore_ascii_case(&login.email));
    let user_role = if is_admin { role::ADMIN } else { role::USER };
    let user = users::upsert_on_signin(&mut tx, &login.email, user_role, now).await?;
    let token = tokens::new_token().map_err(|e| ApiError::Internal(e.into()))?;
    let (session_kind, days) = match client {
        ClientKind::Web => (kind::COOKIE, settings.session_days),
        ClientKind::Extension => (kind::BEARER, settings.bearer_days),
    };
    let expires_at = now + Span::days(days.max(1));
    sessions::insert_session(
        &mut tx,
        user.id,
        &tokens::sha256_hex(&token),
        session_kind,
        now,
        expires_at,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, client = ?client, "signed in");
    Ok(Verified {
        user,
        token,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_lower_cased_and_checked() {
        assert_eq!(
            normalize_email("  Alice@Example.ORG ").unwrap(),
            "alice@example.org"
        );
        for bad in [
            "",
            "alice",
            "@example.org",
            "alice@",
            "a@b",
            "a b@example.org",
            "a@b@c.org",
            "<a@b.org>",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }
}
