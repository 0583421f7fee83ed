//! Who is asking: the [`CurrentUser`] extractor (a session cookie from the website or a
//! bearer token from the extension) and [`AdminUser`] for the review queue.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;

use super::role;
use super::tokens::sha256_hex;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::sessions;
use crate::store::users::{self, User};

/// The website's session cookie.
pub const SESSION_COOKIE: &str = "pw_session";

/// A signed-in user. Handlers that take it answer 401 without a live session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// The session the request came with; sign-out revokes it.
    pub session_id: i64,
}

/// A signed-in admin. Handlers that take it answer 401 without a session, 403 for others.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

/// The credential a request carries: `Authorization: Bearer …` first, then the cookie.
pub(crate) fn credential(parts: &Parts) -> Option<String> {
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(t) = bearer {
        return Some(t.to_owned());
    }
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = credential(parts).ok_or(ApiError::Unauthorized)?;
        let now = state.clock.now();
        let mut conn = state.db.read.acquire().await?;
        let (session_id, user_id) = sessions::live(&mut conn, &sha256_hex(&token), now)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let user = users::by_id(&mut conn, user_id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(CurrentUser { user, session_id })
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let me = CurrentUser::from_request_parts(parts, state).await?;
        if me.user.role != role::ADMIN {
            return Err(ApiError::Forbidden("this needs the admin role".into()));
        }
        Ok(AdminUser(me))
    }
}

/// The `Set-Cookie` value that opens a website session.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes it.
pub fn clear_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut req = Request::builder();
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_bearer_token_wins_over_the_cookie() {
        let p = parts(&[
            ("cookie", "a=1; pw_session=fromcookie; b=2"),
            ("authorization", "Bearer fromheader"),
        ]);
        assert_eq!(credential(&p).as_deref(), Some("fromheader"));
        let p = parts(&[("cookie", "a=1; pw_session=fromcookie; b=2")]);
        assert_eq!(credential(&p).as_deref(), Some("fromcookie"));
        assert_eq!(credential(&parts(&[("cookie", "pw_session=")])), None);
        assert_eq!(credential(&parts(&[])), None);
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site_lax() {
        let c = session_cookie("t", 60, true);
        assert_eq!(
            c,
            "pw_session=t; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure"
        );
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }
}
