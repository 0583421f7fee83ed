//! Who is asking: the [`CurrentUser`] extractor (a session cookie from the website or a
//! bearer token from the extension) and [`AdminUser`] for the review queue.
//!
//! # Cross-site request forgery
//! A browser attaches the session cookie to requests other sites make (a form POST, for
//! one), so an unsafe request (POST, PUT, PATCH, DELETE) authenticated by the cookie must
//! show it came from our own pages: the website's `api()` sends [`CSRF_HEADER`], which a
//! cross-site form cannot set (and a cross-site `fetch` cannot either without a CORS
//! preflight we never grant); or the browser's `Origin` names this server. Checked here,
//! where the cookie is read, so every handler that authenticates by cookie gets it and
//! routes that never read the cookie (bearer tokens, one-click unsubscribe links) are not
//! affected.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::Method;

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

/// The header the website sends on every unsafe request (see the module doc).
pub const CSRF_HEADER: &str = "x-pricewatch-csrf";

/// Where a request's credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Bearer,
    Cookie,
}

/// The credential a request carries: `Authorization: Bearer …` first, then the cookie.
pub(crate) fn credential(parts: &Parts) -> Option<(String, Source)> {
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
        return Some((t.to_owned(), Source::Bearer));
    }
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| (value.to_owned(), Source::Cookie))
}

/// Whether a request authenticated by `source` may go on: safe methods and bearer tokens
/// always; unsafe methods with the cookie only with [`CSRF_HEADER`] or an `Origin` that is
/// this server (its `Host`, or the configured public URL).
pub(crate) fn passes_csrf(parts: &Parts, source: Source, public_url: &str) -> bool {
    let unsafe_method = !matches!(
        parts.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if source == Source::Bearer || !unsafe_method || parts.headers.contains_key(CSRF_HEADER) {
        return true;
    }
    let Some(origin) = parts.headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Ok(origin) = reqwest::Url::parse(origin) else {
        return false;
    };
    let authority = |u: &reqwest::Url| {
        u.host_str()
            .map(|h| format!("{}:{}", h, u.port_or_known_default().unwrap_or(0)))
    };
    let Some(origin_authority) = authority(&origin) else {
        return false;
    };
    let same_as_public = reqwest::Url::parse(public_url).ok().is_some_and(|p| {
        p.scheme() == origin.scheme() && authority(&p).as_ref() == Some(&origin_authority)
    });
    // `Host` carries no scheme: the origin's own default port stands in when it has none.
    let same_as_host = parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|host| reqwest::Url::parse(&format!("{}://{host}", origin.scheme())).ok())
        .is_some_and(|h| authority(&h).as_ref() == Some(&origin_authority));
    same_as_public || same_as_host
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, source) = credential(parts).ok_or(ApiError::Unauthorized)?;
        if !passes_csrf(parts, source, &state.settings.public_url) {
            return Err(ApiError::Csrf);
        }
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
        assert_eq!(credential(&p), Some(("fromheader".into(), Source::Bearer)));
        let p = parts(&[("cookie", "a=1; pw_session=fromcookie; b=2")]);
        assert_eq!(credential(&p), Some(("fromcookie".into(), Source::Cookie)));
        assert_eq!(credential(&parts(&[("cookie", "pw_session=")])), None);
        assert_eq!(credential(&parts(&[])), None);
    }

    fn with_method(method: &str, headers: &[(&str, &str)]) -> Parts {
        let mut p = parts(headers);
        p.method = method.parse().unwrap();
        p
    }

    #[test]
    fn unsafe_cookie_requests_need_the_header_or_our_origin() {
        let public = "https://pw.example";
        let cookie = Source::Cookie;
        assert!(passes_csrf(&with_method("GET", &[]), cookie, public));
        assert!(!passes_csrf(&with_method("POST", &[]), cookie, public));
        assert!(!passes_csrf(&with_method("DELETE", &[]), cookie, public));
        assert!(passes_csrf(
            &with_method("POST", &[]),
            Source::Bearer,
            public
        ));
        assert!(passes_csrf(
            &with_method("PATCH", &[("x-pricewatch-csrf", "1")]),
            cookie,
            public
        ));
        let from = |origin: &str, host: &str| {
            passes_csrf(
                &with_method("POST", &[("origin", origin), ("host", host)]),
                cookie,
                public,
            )
        };
        assert!(
            from("https://pw.example", "10.0.0.5:8080"),
            "the public URL"
        );
        assert!(from("http://127.0.0.1:8080", "127.0.0.1:8080"), "the Host");
        assert!(from("https://pw.example:443", "pw.example"));
        assert!(!from("https://evil.example", "pw.example"));
        assert!(!from("http://pw.example", "other:1"), "another scheme");
        assert!(!from("https://pw.example.evil.example", "pw.example"));
        assert!(!from("null", "pw.example"));
        assert!(
            !from("http://127.0.0.1:9999", "127.0.0.1:8080"),
            "another port"
        );
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
