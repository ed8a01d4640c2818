//! What an authenticated user may do. Until accounts carry real roles (the login issue), there
//! are two: a *viewer* sees everything and changes nothing (the config file's top-level
//! `viewers = ["name", ..]`), everyone else is an *editor* and may also act (silence and
//! acknowledge alerts). [`Writer`] is the extractor of a write action: the user who may act, or a
//! 403.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::BasicUser;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sees everything, changes nothing.
    Viewer,
    /// Sees everything and may act (silence, acknowledge).
    Editor,
}

impl Role {
    /// Whether this role may take write actions.
    pub fn can_write(self) -> bool {
        self == Self::Editor
    }

    /// The word shown for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
        }
    }
}

/// Who has which role: the read-only users by name; everybody else is an editor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    viewers: BTreeSet<String>,
}

impl Roles {
    /// `viewers` read only, everybody else editors.
    pub fn new(viewers: impl IntoIterator<Item = String>) -> Self {
        Self { viewers: viewers.into_iter().collect() }
    }

    /// The role of `user`.
    pub fn of(&self, user: &str) -> Role {
        if self.viewers.contains(user) { Role::Viewer } else { Role::Editor }
    }
}

/// Why a write action was refused for its user: a 403 with the reason as JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// The user is read-only.
    #[error("refused: {0} is a read-only user (listed in `viewers`)")]
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

/// The user of a write action: authenticated (the [`BasicUser`] that [`super::require_basic`]
/// left on the request) and allowed to act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer(pub Arc<str>);

impl<S: Send + Sync> FromRequestParts<S> for Writer
where
    Arc<Roles>: FromRef<S>,
{
    type Rejection = RoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(BasicUser(user)) = parts.extensions.get::<BasicUser>().cloned() else {
            return Err(RoleError::NoUser);
        };
        match Arc::<Roles>::from_ref(state).of(&user) {
            Role::Editor => Ok(Self(user)),
            Role::Viewer => Err(RoleError::ReadOnly(user)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_read_and_everybody_else_writes() {
        let roles = Roles::new(["wall".to_owned()]);
        assert_eq!(roles.of("wall"), Role::Viewer);
        assert_eq!(roles.of("admin"), Role::Editor);
        assert_eq!(roles.of("Wall"), Role::Editor, "user names are compared exactly, as the users file has them");
        assert!(!Role::Viewer.can_write() && Role::Editor.can_write());
    }
}
