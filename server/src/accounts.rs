//! Accounts as their owners manage them: settings (digest mode, webhook), a JSON export of
//! everything stored about them, and deletion of all of it.

use serde::{Deserialize, Deserializer, Serialize};
use sqlx::Row;

use crate::auth::tokens;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::notifications::{self, NotificationView};
use crate::store::sessions::{self, SessionInfo};
use crate::store::users::{self, User};
use crate::subscriptions::{self, SubscriptionView};
use crate::webhooks;

/// `PATCH /api/account`: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeAccount {
    /// One email a day with all alerts (true) or one email per alert (false).
    #[serde(default)]
    pub digest: Option<bool>,
    /// A URL to POST alerts to; `null` removes the webhook. A new URL gets a new secret.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Change the account's settings.
#[tracing::instrument(skip(state, change), fields(user_id = user.id))]
pub async fn change(
    state: &AppState,
    user: &User,
    change: &ChangeAccount,
) -> Result<User, ApiError> {
    let now = state.clock.now();
    // Checked (and its name resolved) before the transaction, which must stay short.
    if let Some(Some(url)) = &change.webhook_url {
        webhooks::check_url_resolving(url.trim(), state.settings.webhooks.allow_private_addresses)
            .await
            .map_err(|why| ApiError::field("webhook_url", why))?;
    }
    let mut tx = state.db.write.begin().await?;
    if let Some(digest) = change.digest {
        users::set_digest(&mut tx, user.id, digest, now).await?;
    }
    match &change.webhook_url {
        None => {}
        Some(None) => users::set_webhook(&mut tx, user.id, None, now).await?,
        Some(Some(url)) => {
            let url = url.trim();
            if user.webhook_url.as_deref() != Some(url) {
                let secret = format!(
                    "whsec_{}",
                    tokens::new_token().map_err(|e| ApiError::Internal(e.into()))?
                );
                users::set_webhook(&mut tx, user.id, Some((url, &secret)), now).await?;
            }
        }
    }
    let updated = users::by_id(&mut tx, user.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    tx.commit().await?;
    Ok(updated)
}

/// Everything stored about a user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountExport {
    pub user: User,
    pub subscriptions: Vec<SubscriptionView>,
    pub notifications: Vec<NotificationView>,
    #[schema(value_type = Vec<Object>)]
    pub sessions: Vec<SessionInfo>,
    /// Reporter keys linked to the account (public keys).
    pub reporter_keys: Vec<String>,
    /// When the export was made (ms since the epoch).
    pub exported_at: i64,
}

/// The user's data as JSON (GDPR access).
pub async fn export(state: &AppState, user: &User) -> Result<AccountExport, ApiError> {
    let subscriptions = subscriptions::list(state, user.id).await?;
    let mut conn = state.db.read.acquire().await?;
    let notifications = notifications::of_user(&mut conn, user.id, None, i64::MAX).await?;
    let sessions = sessions::of_user(&mut conn, user.id).await?;
    let reporter_keys =
        sqlx::query("SELECT public_key FROM reporters WHERE user_id = $1 ORDER BY id")
            .bind(user.id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("public_key"))
            .collect::<Result<_, _>>()?;
    Ok(AccountExport {
        user: user.clone(),
        subscriptions,
        notifications,
        sessions,
        reporter_keys,
        exported_at: state.clock.now().as_millis(),
    })
}

/// Delete the account and everything stored about it (GDPR erasure): subscriptions (and the
/// product counters they fed), notifications, sessions, sign-in codes.
#[tracing::instrument(skip(state, user), fields(user_id = user.id))]
pub async fn delete(state: &AppState, user: &User) -> Result<(), ApiError> {
    let mut tx = state.db.write.begin().await?;
    // Products first (the alert worker's lock order), then the user's rows go by cascade.
    sqlx::query(
        "UPDATE products SET subscribers = CASE WHEN subscribers > 0 THEN subscribers - 1 ELSE 0 END \
         WHERE id IN (SELECT product_id FROM subscriptions WHERE user_id = $1 AND paused = 0)",
    )
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
    users::delete(&mut tx, user).await?;
    tx.commit().await?;
    tracing::info!("account deleted");
    Ok(())
}
