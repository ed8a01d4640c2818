//! What an authenticated user may do. Two roles: a *viewer* sees everything and changes nothing;
//! an *admin* may also act (silence and acknowledge alerts, send a test notification, see others'
//! sessions and the audit log, revoke them). A user's role is the users file's third field
//! (`name:hash:role`; a two-field line is an admin, so no upgrade breaks), lowered to viewer when
//! the config's top-level `viewers = [..]` names the user; an API token may carry a lower role
//! than its user's, never a higher one.
//!
//! [`Writer`] is the extractor of an admin's write action: the [`Principal`] the authentication
//! layer left on the request, when it is an admin, else a 403.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

// `Role` lives beside `Principal`, which holds one (a file of its own would import this one
// back through `Writer`, a circle).
use super::principal::Principal;
use crate::audit::{Audit, AuditEvent, AuditKind};
use crate::http::client_ip::ClientIp;

pub use super::principal::Role;

/// Why a write action was refused for its user: a 403 with the reason as JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// The user (or the token) is read-only.
    #[error("refused: {0} is a viewer (read-only); this action needs an admin")]
    ReadOnly(Arc<str>),
    /// No authenticated user reached the handler (a route outside the authentication layer).
    #[error("refused: no authenticated user")]
    NoUser,
}

impl IntoResponse for RoleError {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, axum::Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}

/// The user of a write action: authenticated (the [`Principal`] the authentication layer left on
/// the request) and an admin. A viewer's refusal is recorded in the audit (`role_refused`, with
/// the method and path), which it takes from the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer(pub Arc<str>);

impl<S: Send + Sync> FromRequestParts<S> for Writer
where
    Audit: FromRef<S>,
{
    type Rejection = RoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(principal) = parts.extensions.get::<Principal>() else {
            return Err(RoleError::NoUser);
        };
        match principal.role {
            Role::Admin => Ok(Self(principal.user.clone())),
            Role::Viewer => {
                let event =
                    AuditEvent::new(AuditKind::RoleRefused, Some(&principal.user), Some(ClientIp::of(parts).addr))
                        .with("method", parts.method.as_str())
                        .with("path", parts.uri.path())
                        .with("role", Role::Viewer.as_str());
                Audit::from_ref(state).record(event);
                Err(RoleError::ReadOnly(principal.user.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_named_and_only_admins_write() {
        assert_eq!(Role::parse("viewer"), Some(Role::Viewer));
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("Admin"), None, "role words are exact");
        assert_eq!(Role::parse("editor"), None);
        assert!(!Role::Viewer.can_write() && Role::Admin.can_write());
        assert!(Role::Viewer < Role::Admin, "a token's role is the lower of its own and its user's");
    }
}
