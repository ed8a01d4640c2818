//! The login form's server-side sessions: a random 256-bit secret in a cookie
//! (`__Host-livedash_session` over HTTPS, `livedash_session` on plain-HTTP loopback; see
//! [`cookie`]), known to the server only as its SHA-256, and to views and revocations by its public
//! [`Handle`]. A session has an idle timeout and an absolute lifetime (longer when "remember this
//! device" was ticked), both enforced here; it ends at logout, at revocation, and when its user's
//! password changes or the user is removed.
//!
//! Kept in memory for the requests' path ([`Sessions`], in `live.rs`), written through to where
//! they are kept ([`keep::Keep`]): the history store ([`sqlite`]: a restart keeps them) and, in a
//! cluster, Redis (`crate::cluster::sessions`: any instance honours them, and an end on one ends
//! them on all). Expiry is measured on the monotonic clock while the process runs; the wall-clock
//! labels (`created_ms`, `seen_ms`) only decide, when a session is loaded after a restart or from
//! another instance, how much of its time is left. A wall clock that jumps neither ends nor
//! extends a session.
//!
//! May import the auth wing's [`super::role`] and [`super::principal`], the store (its rows,
//! [`crate::store::auth::sessions`], and its handle) and [`crate::clock`].

pub mod cookie;
pub mod keep;
mod live;
pub mod model;
pub mod sqlite;

pub use keep::Keep;
pub use live::Sessions;
pub use model::{EndReason, NewSession, Session, SessionPolicy};
