//! `login_tokens` (one-time sign-in codes and links) and `sessions`. Only hashes of codes and
//! tokens are stored.

use pricewatch_core::Timestamp;
use sqlx::{AnyConnection, Row};

/// Session kinds.
pub mod kind {
    /// The website's HttpOnly cookie.
    pub const COOKIE: &str = "cookie";
    /// The extension's `Authorization: Bearer` token.
    pub const BEARER: &str = "bearer";
}

/// A sign-in request still open.
#[derive(Debug, Clone)]
pub struct OpenLogin {
    pub id: i64,
    pub email: String,
    pub code_hash: String,
    pub attempts: i64,
}

pub async fn insert_login(
    conn: &mut AnyConnection,
    email: &str,
    code_hash: &str,
    link_hash: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO login_tokens (email, code_hash, link_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(email)
    .bind(code_hash)
    .bind(link_hash)
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .fetch_one(conn)
    .await
}

/// Sign-in emails sent to `email` since `since`.
pub async fn logins_since(
    conn: &mut AnyConnection,
    email: &str,
    since: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM login_tokens WHERE email = $1 AND created_at >= $2")
        .bind(email)
        .bind(since.as_millis())
        .fetch_one(conn)
        .await
}

fn open_from(row: &sqlx::any::AnyRow) -> Result<OpenLogin, sqlx::Error> {
    Ok(OpenLogin {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        code_hash: row.try_get("code_hash")?,
        attempts: row.try_get("attempts")?,
    })
}

/// The newest unused, unexpired sign-in for `email` (a new request supersedes older codes).
pub async fn latest_open(
    conn: &mut AnyConnection,
    email: &str,
    now: Timestamp,
) -> Result<Option<OpenLogin>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, code_hash, attempts FROM login_tokens \
         WHERE email = $1 AND used_at IS NULL AND expires_at > $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(email)
    .bind(now.as_millis())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(open_from).transpose()
}

/// The unused, unexpired sign-in a magic link names.
pub async fn open_by_link(
    conn: &mut AnyConnection,
    link_hash: &str,
    now: Timestamp,
) -> Result<Option<OpenLogin>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, code_hash, attempts FROM login_tokens \
         WHERE link_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(link_hash)
    .bind(now.as_millis())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(open_from).transpose()
}

/// Count a wrong code.
pub async fn count_attempt(conn: &mut AnyConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_tokens SET attempts = attempts + 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Use a sign-in once: `false` when another request used it first.
pub async fn consume(
    conn: &mut AnyConnection,
    id: i64,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE login_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now.as_millis())
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_session(
    conn: &mut AnyConnection,
    user_id: i64,
    token_hash: &str,
    kind: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO sessions (user_id, token_hash, kind, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(token_hash)
    .bind(kind)
    .bind(now.as_millis())
    .bind(expires_at.as_millis())
    .fetch_one(conn)
    .await
}

/// The session id and user id of a live session.
pub async fn live(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row =
        sqlx::query("SELECT id, user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now.as_millis())
            .fetch_optional(conn)
            .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("user_id")?)))
        .transpose()
}

/// Revoke a session (sign-out).
pub async fn revoke(conn: &mut AnyConnection, session_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(session_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A session as its owner sees it in an export (never the token or its hash).
#[derive(Debug, serde::Serialize)]
pub struct SessionInfo {
    pub kind: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn of_user(
    conn: &mut AnyConnection,
    user_id: i64,
) -> Result<Vec<SessionInfo>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, created_at, expires_at FROM sessions WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionInfo {
                kind: r.try_get("kind")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .collect()
}
