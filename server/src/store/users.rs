//! `users`: accounts, their role, digest mode and webhook channel.

use pricewatch_core::Timestamp;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

/// A user row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    /// Lower-cased.
    pub email: String,
    /// `user` or `admin`.
    pub role: String,
    /// Alerts by email come as one daily digest.
    pub digest: bool,
    /// Where webhook alerts are POSTed; `None` when the user has no webhook.
    pub webhook_url: Option<String>,
    /// The key the webhook's `X-PriceWatch-Signature` is made with; shown to its owner only.
    pub webhook_secret: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, role, digest, webhook_url, webhook_secret, created_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: row.try_get("role")?,
        digest: row.try_get::<i64, _>("digest")? != 0,
        webhook_url: row.try_get("webhook_url")?,
        webhook_secret: row.try_get("webhook_secret")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The user with this address, created on first sign-in; the role follows the
/// configuration at every sign-in, so removing an admin from the list takes effect.
pub async fn upsert_on_signin(
    conn: &mut AnyConnection,
    email: &str,
    role: &str,
    now: Timestamp,
) -> Result<User, sqlx::Error> {
    let row = sqlx::query(&format!(
        "INSERT INTO users (email, role, created_at, updated_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (email) DO UPDATE SET role = $2, updated_at = $3 RETURNING {COLUMNS}"
    ))
    .bind(email)
    .bind(role)
    .bind(now.as_millis())
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

pub async fn set_digest(
    conn: &mut AnyConnection,
    id: i64,
    digest: bool,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET digest = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(digest))
        .bind(now.as_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Set or clear the webhook; the secret changes with it.
pub async fn set_webhook(
    conn: &mut AnyConnection,
    id: i64,
    webhook: Option<(&str, &str)>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET webhook_url = $1, webhook_secret = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(webhook.map(|(url, _)| url.to_owned()))
    .bind(webhook.map(|(_, secret)| secret.to_owned()))
    .bind(now.as_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Delete the user; sessions and subscriptions go with it (ON DELETE CASCADE), and their
/// notifications are deleted here (no foreign key cascades them: see migration 0005).
/// Callers adjust product counters first.
pub async fn delete(conn: &mut AnyConnection, user: &User) -> Result<(), sqlx::Error> {
    // Through the subscriptions and the dedupe key, then the rows without a subscription:
    // alert rows have no per-user index (migration 0008).
    sqlx::query(
        "DELETE FROM notifications WHERE subscription_id IN \
         (SELECT id FROM subscriptions WHERE user_id = $1)",
    )
    .bind(user.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM notifications WHERE user_id = $1 AND subscription_id IS NULL")
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM login_tokens WHERE email = $1")
        .bind(&user.email)
        .execute(&mut *conn)
        .await?;
    // Reporter keys stay (they are anonymous and their history feeds reputations), unlinked.
    sqlx::query("UPDATE reporters SET user_id = NULL WHERE user_id = $1")
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user.id)
        .execute(conn)
        .await?;
    Ok(())
}
