//! Why a request was not let in, and how that is answered: 401 with a Basic challenge, 429 with
//! `Retry-After`, or 503 when too many password checks are waiting. Never says which part of the credentials was wrong.

use std::time::Duration;

use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Why a request was not let in. Never says which part of the credentials was wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header (and no ticket).
    #[error("credentials required")]
    Missing,
    /// Credentials or ticket present but not valid, whatever the reason.
    #[error("invalid credentials")]
    Invalid,
    /// Too many attempts from this address or for this user: try again after the duration.
    #[error("too many attempts")]
    Throttled(Duration),
    /// Too many password verifications waiting: try again in a moment.
    #[error("too busy")]
    Busy,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match self {
            Self::Missing | Self::Invalid => (
                StatusCode::UNAUTHORIZED,
                [(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="livedash", charset="UTF-8""#))],
                "401 Unauthorized: log in with your livedash user name and password\n",
            )
                .into_response(),
            Self::Throttled(wait) => {
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(RETRY_AFTER, HeaderValue::from(secs.max(1)))],
                    "429 Too Many Requests: too many login attempts, try again later\n",
                )
                    .into_response()
            }
            Self::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(RETRY_AFTER, HeaderValue::from_static("1"))],
                "503 Service Unavailable: too many logins at once, try again in a moment\n",
            )
                .into_response(),
        }
    }
}
