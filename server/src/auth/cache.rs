//! Verified credentials, remembered so that a page load or a handshake does not cost a password
//! hash (~50 ms of CPU) each time: keyed by an HMAC of the credentials with a per-process random
//! key (never the password), valid for [`CACHE_TTL`] and only while the user's password is the
//! one that was verified, at most [`CACHE_MAX`] of them.
//!
//! One verification per distinct credential runs at a time however many requests carry it
//! ("single flight"): the others wait for its outcome and cost nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::OnceCell;

use super::users::Users;

/// How long a verified credential is trusted without verifying its hash again.
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// How many verified credentials are remembered at most.
pub const CACHE_MAX: usize = 4096;

/// The keyed digest a credential is known by.
pub type Digest = [u8; 32];

/// What one verification attempt came to.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// The password is the user's, at this password version (of the accounts it was verified
    /// against, which a request that shared the verification may not have).
    Valid([u8; 32]),
    /// It is not, or the user does not exist.
    Invalid,
    /// Not tried: too many attempts; retry after this long.
    Throttled(Duration),
    /// Not tried: too many verifications are waiting for a core.
    Busy,
}

struct Cached {
    user: Arc<str>,
    version: [u8; 32],
    at: Instant,
}

/// The verified credentials and the verifications under way.
#[derive(Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<Digest, Cached>>,
    inflight: Mutex<HashMap<Digest, Arc<OnceCell<Outcome>>>>,
}

impl CredentialCache {
    /// The user of a remembered credential that is still fresh and whose password has not changed
    /// in `users` since.
    pub fn get(&self, digest: &Digest, users: &Users) -> Option<Arc<str>> {
        let mut entries = self.entries.lock();
        let hit = entries.get(digest)?;
        if hit.at.elapsed() < CACHE_TTL && users.version_of(&hit.user) == Some(hit.version) {
            return Some(hit.user.clone());
        }
        entries.remove(digest);
        None
    }

    /// Remembers that `digest` is `user`'s credential at password `version`.
    pub fn remember(&self, digest: Digest, user: &str, version: [u8; 32]) {
        let mut entries = self.entries.lock();
        if entries.len() >= CACHE_MAX {
            let now = Instant::now();
            entries.retain(|_, c| now.duration_since(c.at) < CACHE_TTL);
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(digest, Cached { user: Arc::from(user), version, at: Instant::now() });
    }

    /// Runs `verify` for `digest` unless a verification of it is already under way, in which case
    /// its outcome is shared.
    pub async fn once<F: Future<Output = Outcome>>(&self, digest: Digest, verify: impl FnOnce() -> F) -> Outcome {
        let cell = self.inflight.lock().entry(digest).or_default().clone();
        let outcome = *cell.get_or_init(verify).await;
        let mut inflight = self.inflight.lock();
        if inflight.get(&digest).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            inflight.remove(&digest);
        }
        outcome
    }

    /// Forgets every credential (the accounts changed).
    pub fn clear(&self) {
        self.entries.lock().clear();
    }

    /// Forgets the credentials past their time.
    pub fn forget_expired(&self) {
        let now = Instant::now();
        self.entries.lock().retain(|_, c| now.duration_since(c.at) < CACHE_TTL);
    }
}
