//! API tokens for scripts and wall screens: `livedash token create --user NAME [--role viewer]
//! [--expires 90d]` prints one once; only its SHA-256 is kept (the store's `auth_token`). A token
//! is presented as `Authorization: Bearer TOKEN`, as the password of Basic credentials naming
//! its user, and on a kiosk URL; it carries its own role, never above its user's; it is listed (name, created, last used, expiry) and revoked from the Sessions view
//! and the CLI.
//!
//! May import the auth wing's [`super::role`] and [`super::principal`], the store's rows
//! ([`crate::store::auth::tokens`]) and [`crate::clock`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::RwLock;

use super::principal::Handle;
use super::role::Role;
use crate::clock::now_ms;

/// What every token starts with, so that a token is told from a password at a glance (and by
/// secret scanners).
pub const PREFIX: &str = "ldt_";

/// A token as listed (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Its public handle.
    pub handle: Handle,
    /// What its maker called it.
    pub name: String,
    /// Whose it is.
    pub user: Arc<str>,
    /// What it may do.
    pub role: Role,
    /// When it was made (a wall label, ms).
    pub created_ms: u64,
    /// When it was last used, if ever (a wall label, ms; noted at most once a minute).
    pub used_ms: Option<u64>,
    /// When it stops working, if ever (a wall label, ms).
    pub expires_ms: Option<u64>,
}

/// The tokens in force.
#[derive(Default)]
pub struct Tokens {
    live: RwLock<HashMap<Handle, Token>>,
}

impl Tokens {
    /// A new token of `user` with `role`, called `name`, for `expires` if given: its secret
    /// (shown once) and the token.
    pub async fn create(&self, user: &str, role: Role, name: &str, expires: Option<Duration>) -> (String, Token) {
        let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(super::accounts::random::<32>()));
        let now = now_ms();
        let token = Token {
            handle: Handle::of(secret.as_bytes()),
            name: name.to_owned(),
            user: Arc::from(user),
            role,
            created_ms: now,
            used_ms: None,
            expires_ms: expires.map(|e| now.saturating_add(u64::try_from(e.as_millis()).unwrap_or(u64::MAX))),
        };
        self.live.write().insert(token.handle, token.clone());
        (secret, token)
    }

    /// The live token `secret` is, noted as used; `None` for an unknown, revoked or expired one.
    pub async fn check(&self, secret: &str) -> Option<Token> {
        if !secret.starts_with(PREFIX) {
            return None;
        }
        let mut live = self.live.write();
        let token = live.get_mut(&Handle::of(secret.as_bytes()))?;
        token.used_ms = Some(now_ms());
        Some(token.clone())
    }

    /// Revokes the token `handle`; the one revoked, if it was live.
    pub async fn revoke(&self, handle: Handle) -> Option<Token> {
        self.live.write().remove(&handle)
    }

    /// The live tokens, of `user` only or of everyone, newest first.
    pub async fn list(&self, user: Option<&str>) -> Vec<Token> {
        let mut all: Vec<Token> =
            self.live.read().values().filter(|t| user.is_none_or(|u| &*t.user == u)).cloned().collect();
        all.sort_by_key(|t| std::cmp::Reverse(t.created_ms));
        all
    }
}
