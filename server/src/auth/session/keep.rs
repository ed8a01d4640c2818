//! [`Keep`]: where sessions are kept beyond this process's memory: one small trait with two
//! implementations, the history store ([`super::sqlite`]) and, in a cluster, Redis
//! (`crate::cluster::sessions`). Writes never wait (each implementation queues them) but a new
//! session's, which the login awaits; so is a lookup of a session this instance does not know
//! ([`Keep::find`]).

use futures_util::future::BoxFuture;

use super::model::{EndReason, Session};
use crate::auth::principal::{Handle, Role};
use crate::store::auth::sessions::SessionRow;

/// Where sessions are written through to.
pub trait Keep: Send + Sync {
    /// A session was made; `secret` is SHA-256 of its cookie's value. Awaited before the login is
    /// answered, so that the browser's next request finds it on any instance.
    fn made(&self, row: &SessionRow) -> BoxFuture<'_, ()>;

    /// A session was used at `seen_ms` (called at most once a minute per session).
    fn seen(&self, id: Handle, seen_ms: u64);

    /// A session ended here (at logout, revocation, expiry or a password change).
    fn ended(&self, id: Handle, reason: EndReason, ended_ms: u64);

    /// The session `id` if this keep has it and it has not ended (asked when a cookie names a
    /// session this instance does not know: one made on another instance).
    fn find(&self, id: Handle) -> BoxFuture<'_, Option<SessionRow>>;

    /// Every session this keep has that has not ended, wherever it was made (for the Sessions view
    /// and "log out everywhere" in a cluster); a keep whose sessions are all in memory here
    /// answers none.
    fn all(&self) -> BoxFuture<'_, Vec<SessionRow>>;
}

/// The row of `session`, whose cookie's value hashes to `secret`.
pub fn row_of(session: &Session, secret: [u8; 32]) -> SessionRow {
    SessionRow {
        id: session.handle.0,
        secret,
        user: session.user.to_string(),
        role: session.role.as_str().to_owned(),
        remember: session.remember,
        version: session.version,
        device: session.device.clone(),
        addr: session.addr.clone(),
        created_ms: session.created_ms,
        seen_ms: session.seen_ms,
    }
}

/// The session a row holds; `None` for a row with an unknown role.
pub fn session_of(row: &SessionRow) -> Option<Session> {
    Some(Session {
        handle: Handle(row.id),
        user: row.user.as_str().into(),
        role: Role::parse(&row.role)?,
        remember: row.remember,
        device: row.device.clone(),
        addr: row.addr.clone(),
        version: row.version,
        created_ms: row.created_ms,
        seen_ms: row.seen_ms,
    })
}
