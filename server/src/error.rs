//! The API's one error type and its mapping to HTTP, in one place.
//!
//! Every client error is JSON `{"error": code, "message": text, "field": name?}` with a 4xx
//! status. Internal errors are logged once with their cause chain and answered with a bare
//! 500 that carries no internal text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or a field is invalid.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// 401: no valid credentials.
    #[error("sign-in required")]
    Unauthorized,
    /// 403: signed in, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 403: an unsafe request authenticated by the session cookie without the website's
    /// CSRF header or our own `Origin` (see `auth::session`).
    #[error(
        "this request must come from PriceWatch's own pages: send the X-PriceWatch-CSRF header"
    )]
    Csrf,
    /// 404: nothing there.
    #[error("{0}")]
    NotFound(String),
    /// 409: conflicts with what is stored.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// 413: the body or batch is too large.
    #[error("{message}")]
    TooLarge {
        message: String,
        field: Option<String>,
    },
    /// 429: slow down; `Retry-After` says for how long (seconds).
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// 503: a dependency is down (readiness).
    #[error("{0}")]
    Unavailable(String),
    /// 500: logged with its cause chain, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 naming the field at fault.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code: "invalid_field",
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// Whether this is a database error that `test` picks out (by its SQLSTATE, say).
    pub fn is_database(&self, test: impl Fn(&sqlx::Error) -> bool) -> bool {
        match self {
            ApiError::Internal(e) => e.downcast_ref::<sqlx::Error>().is_some_and(test),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(anyhow::Error::new(e))
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, field) = match &self {
            ApiError::BadRequest { code, field, .. } => {
                (StatusCode::BAD_REQUEST, *code, field.clone())
            }
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", None),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", None),
            ApiError::Csrf => (StatusCode::FORBIDDEN, "csrf", None),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", None),
            ApiError::Conflict { code, field, .. } => (StatusCode::CONFLICT, *code, field.clone()),
            ApiError::TooLarge { field, .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large", field.clone())
            }
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", None),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None),
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", None)
            }
        };
        let message = match &self {
            ApiError::Internal(_) => "internal server error".to_owned(),
            other => other.to_string(),
        };
        let mut response = (
            status,
            Json(Body {
                error: code,
                message,
                field,
            }),
        )
            .into_response();
        if let ApiError::RateLimited { retry_after_secs } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert("retry-after", v);
            }
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde's message names the path of the bad field, e.g. `reports[0].price`.
                let detail = e.body_text();
                let field = field_from_serde(&detail);
                ApiError::BadRequest {
                    code: "invalid_json",
                    message: detail,
                    field,
                }
            }
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::bad_request("malformed_json", e.body_text())
            }
            JsonRejection::MissingJsonContentType(e) => {
                ApiError::bad_request("unsupported_media_type", e.body_text())
            }
            JsonRejection::BytesRejection(e) => ApiError::TooLarge {
                message: e.body_text(),
                field: None,
            },
            other => ApiError::bad_request("bad_request", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request("invalid_path", r.body_text())
    }
}

/// `Failed to deserialize the JSON body into the target type: reports[0].price: invalid type`
/// names `reports[0].price`.
fn field_from_serde(text: &str) -> Option<String> {
    let after = text.split_once("target type: ").map_or(text, |(_, r)| r);
    let (path, _) = after.split_once(": ")?;
    (!path.contains(' ') && !path.is_empty()).then(|| path.to_owned())
}

/// The JSON extractor every handler uses: its rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::field_from_serde;

    #[test]
    fn serde_paths_become_field_names() {
        assert_eq!(
            field_from_serde("Failed to deserialize the JSON body into the target type: reports[0].price: invalid type: string").as_deref(),
            Some("reports[0].price")
        );
        assert_eq!(
            field_from_serde("missing field `x` at line 1 column 2"),
            None
        );
    }
}
