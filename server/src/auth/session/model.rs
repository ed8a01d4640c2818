//! What a session is ([`Session`]), what a login asks for ([`NewSession`]), how long sessions
//! live ([`SessionPolicy`]) and why they end ([`EndReason`]).

use std::sync::Arc;
use std::time::Duration;

use crate::auth::principal::{Handle, Role};

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session not used for this long ends.
    pub idle: Duration,
    /// A session ends this long after its login, used or not.
    pub lifetime: Duration,
    /// The same two for a session made with "remember this device" (a wall screen).
    pub remembered_idle: Duration,
    /// See `remembered_idle`.
    pub remembered_lifetime: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        const HOUR: u64 = 3600;
        Self {
            idle: Duration::from_secs(12 * HOUR),
            lifetime: Duration::from_secs(7 * 24 * HOUR),
            remembered_idle: Duration::from_secs(30 * 24 * HOUR),
            remembered_lifetime: Duration::from_secs(30 * 24 * HOUR),
        }
    }
}

/// What a login asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Who logged in.
    pub user: Arc<str>,
    /// Their role at login.
    pub role: Role,
    /// "Remember this device".
    pub remember: bool,
    /// The browser's `User-Agent`, as sent (cut to 256 bytes).
    pub device: String,
    /// The client's address.
    pub addr: String,
    /// The user's password version at login (a change ends the session).
    pub version: [u8; 32],
}

#[cfg(test)]
impl NewSession {
    /// An admin's session of `user` at password `version`, from no device or address in
    /// particular, for tests.
    pub(crate) fn admin(user: &str, version: [u8; 32]) -> Self {
        Self {
            user: Arc::from(user),
            role: Role::Admin,
            remember: false,
            device: String::new(),
            addr: String::new(),
            version,
        }
    }
}

/// A live session, as views show it (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its public handle.
    pub handle: Handle,
    /// Who.
    pub user: Arc<str>,
    /// Their role at login.
    pub role: Role,
    /// Made with "remember this device".
    pub remember: bool,
    /// The `User-Agent` it was made with.
    pub device: String,
    /// The address it was made from.
    pub addr: String,
    /// The password version it was made under.
    pub version: [u8; 32],
    /// When it was made (a wall label, ms).
    pub created_ms: u64,
    /// When it was last used (a wall label, ms).
    pub seen_ms: u64,
}

/// Why sessions end (kept with the row and told to the audit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The user logged out.
    Logout,
    /// Revoked (by its user or an admin), or "log out everywhere".
    Revoked,
    /// The password changed or the user was removed.
    PasswordChanged,
    /// Idle too long, or past its lifetime.
    Expired,
}

impl EndReason {
    /// Its word in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Revoked => "revoked",
            Self::PasswordChanged => "password_changed",
            Self::Expired => "expired",
        }
    }

    /// The reason named `word` (see [`EndReason::as_str`]).
    pub fn parse(word: &str) -> Option<Self> {
        [Self::Logout, Self::Revoked, Self::PasswordChanged, Self::Expired].into_iter().find(|r| r.as_str() == word)
    }
}

impl SessionPolicy {
    /// The idle timeout and lifetime of a session made with `remember` or not.
    pub fn limits(&self, remember: bool) -> (Duration, Duration) {
        if remember { (self.remembered_idle, self.remembered_lifetime) } else { (self.idle, self.lifetime) }
    }
}
