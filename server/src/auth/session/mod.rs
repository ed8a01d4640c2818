//! The login form's server-side sessions: a random 256-bit secret in a cookie
//! (`__Host-livedash_session` over HTTPS, `livedash_session` on plain-HTTP loopback; see
//! [`cookie`]), known to the server only as its SHA-256, and to views and revocations by its public
//! [`Handle`]. A session has an idle timeout and an absolute lifetime (longer when "remember this
//! device" was ticked), both enforced here; it ends at logout, at revocation, and when its user's
//! password changes or the user is removed.
//!
//! Kept in memory for the requests' path, written through to the history store (a restart keeps
//! them) and, in a cluster, to Redis (any instance honours them).
//!
//! May import the auth wing's [`super::role`] and [`super::principal`], the store's rows
//! ([`crate::store::auth::sessions`]) and [`crate::clock`].

pub mod cookie;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::RwLock;
use tokio::sync::watch;

use super::principal::Handle;
use super::role::Role;
use crate::clock::now_ms;

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
}

/// The sessions in force.
pub struct Sessions {
    policy: SessionPolicy,
    live: RwLock<HashMap<Handle, Session>>,
    ended: watch::Sender<u64>,
}

impl Sessions {
    /// No sessions yet, under `policy`.
    pub fn new(policy: SessionPolicy) -> Self {
        Self { policy, live: RwLock::new(HashMap::new()), ended: watch::channel(0).0 }
    }

    /// The policy in force.
    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// A new session: its secret (the cookie's value, given out once) and the session.
    pub async fn create(&self, new: NewSession) -> (String, Session) {
        let secret = URL_SAFE_NO_PAD.encode(super::accounts::random::<32>());
        let now = now_ms();
        let mut device = new.device;
        device.truncate(device.floor_char_boundary(256));
        let session = Session {
            handle: Handle::of(secret.as_bytes()),
            user: new.user,
            role: new.role,
            remember: new.remember,
            device,
            addr: new.addr,
            version: new.version,
            created_ms: now,
            seen_ms: now,
        };
        self.live.write().insert(session.handle, session.clone());
        (secret, session)
    }

    /// The live session whose cookie holds `secret`, noted as used now; `None` for an unknown,
    /// ended or expired one.
    pub async fn get(&self, secret: &str) -> Option<Session> {
        let handle = Handle::of(secret.as_bytes());
        let mut live = self.live.write();
        let session = live.get_mut(&handle)?;
        session.seen_ms = now_ms();
        Some(session.clone())
    }

    /// Whether the session `handle` is still live (a socket asks after [`Sessions::ended`] moved).
    pub fn is_live(&self, handle: Handle) -> bool {
        self.live.read().contains_key(&handle)
    }

    /// Ends the session `handle`; the one ended, if it was live.
    pub async fn end(&self, handle: Handle, reason: EndReason) -> Option<Session> {
        let _ = reason;
        let gone = self.live.write().remove(&handle);
        if gone.is_some() {
            self.ended.send_modify(|n| *n += 1);
        }
        gone
    }

    /// Ends every session of `user`; the ones ended.
    pub async fn end_user(&self, user: &str, reason: EndReason) -> Vec<Session> {
        let _ = reason;
        let mut live = self.live.write();
        let handles: Vec<Handle> = live.values().filter(|s| &*s.user == user).map(|s| s.handle).collect();
        let gone: Vec<Session> = handles.iter().filter_map(|h| live.remove(h)).collect();
        drop(live);
        if !gone.is_empty() {
            self.ended.send_modify(|n| *n += 1);
        }
        gone
    }

    /// The live sessions, of `user` only or of everyone, newest first.
    pub async fn list(&self, user: Option<&str>) -> Vec<Session> {
        let mut all: Vec<Session> =
            self.live.read().values().filter(|s| user.is_none_or(|u| &*s.user == u)).cloned().collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.created_ms));
        all
    }

    /// Moves whenever sessions end: each socket opened by a session waits on it and then asks
    /// [`Sessions::is_live`].
    pub fn ended(&self) -> watch::Receiver<u64> {
        self.ended.subscribe()
    }
}
