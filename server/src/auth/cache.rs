//! Verified credentials, remembered so that a page load or a handshake does not cost a password
//! hash (~50 ms of CPU) each time: keyed by an HMAC of the credentials with a per-process random
//! key (never the password), valid for [`CACHE_TTL`] after it was last verified or used (a
//! scraper every 15 s stays cached) and only while the user's password is the one that was
//! verified, at most [`CACHE_MAX`] of them (the least recently used goes first). Each remembers
//! the address groups it was verified or used from (the last [`GROUPS_MAX`]), so that a
//! credential used from here before can pass while its user is blocked by others' guesses (see
//! [`super::throttle`]).
//!
//! One verification per distinct credential runs at a time however many requests carry it
//! ("single flight"): the others wait for its outcome and cost nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::OnceCell;

use super::users::Users;

/// How long a verified credential is trusted without verifying its hash again, after it was last
/// verified or used.
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// How many verified credentials are remembered at most.
pub const CACHE_MAX: usize = 4096;
/// How many address groups a credential remembers it was verified or used from.
pub const GROUPS_MAX: usize = 8;

/// Which clients a cached credential answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Any client (its group is remembered).
    Anywhere,
    /// Only a client of a group the credential was verified or used from before.
    Known,
}

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
    /// When it was last verified or used.
    at: Instant,
    /// The groups it was verified or used from, the most recent last.
    groups: Vec<IpAddr>,
}

impl Cached {
    /// Notes a use from `group` now.
    fn used_from(&mut self, group: IpAddr) {
        self.at = Instant::now();
        self.groups.retain(|g| *g != group);
        if self.groups.len() >= GROUPS_MAX {
            self.groups.remove(0);
        }
        self.groups.push(group);
    }
}

/// The verified credentials and the verifications under way.
#[derive(Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<Digest, Cached>>,
    inflight: Mutex<HashMap<Digest, Arc<OnceCell<Outcome>>>>,
}

impl CredentialCache {
    /// The user of a remembered credential that is still fresh and whose password has not changed
    /// in `users` since, used now by a client of `group` (when `reach` allows that group; the use
    /// refreshes it and remembers the group).
    pub fn get(&self, digest: &Digest, users: &Users, group: IpAddr, reach: Reach) -> Option<Arc<str>> {
        let mut entries = self.entries.lock();
        let hit = entries.get_mut(digest)?;
        if hit.at.elapsed() < CACHE_TTL && users.version_of(&hit.user) == Some(hit.version) {
            if reach == Reach::Known && !hit.groups.contains(&group) {
                return None;
            }
            hit.used_from(group);
            return Some(hit.user.clone());
        }
        entries.remove(digest);
        None
    }

    /// Remembers that `digest` is `user`'s credential at password `version`, verified for a client
    /// of `group`.
    pub fn remember(&self, digest: Digest, user: &str, version: [u8; 32], group: IpAddr) {
        let mut entries = self.entries.lock();
        if entries.len() >= CACHE_MAX && !entries.contains_key(&digest) {
            let now = Instant::now();
            entries.retain(|_, c| now.duration_since(c.at) < CACHE_TTL);
            if entries.len() >= CACHE_MAX
                && let Some(oldest) = entries.iter().min_by_key(|(_, c)| c.at).map(|(d, _)| *d)
            {
                entries.remove(&oldest);
            }
        }
        let entry = entries.entry(digest).or_insert_with(|| Cached {
            user: Arc::from(user),
            version,
            at: Instant::now(),
            groups: Vec::new(),
        });
        if entry.version != version || *entry.user != *user {
            *entry = Cached { user: Arc::from(user), version, at: Instant::now(), groups: Vec::new() };
        }
        entry.used_from(group);
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

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    impl CredentialCache {
        /// Makes every entry `by` older, as if that time had passed.
        fn age(&self, by: Duration) {
            for c in self.entries.lock().values_mut() {
                c.at = c.at.checked_sub(by).expect("a clock that has run that long");
            }
        }
    }

    #[test]
    fn an_entry_in_use_stays_and_an_idle_one_expires() {
        let users = Users::single("admin", "pw");
        let version = users.version_of("admin").expect("a user");
        let cache = CredentialCache::default();
        let (used, idle) = ([1; 32], [2; 32]);
        cache.remember(used, "admin", version, HERE);
        cache.remember(idle, "admin", version, HERE);
        // A scraper every 15 s for twice the time to live.
        for _ in 0..40 {
            cache.age(Duration::from_secs(15));
            assert!(cache.get(&used, &users, HERE, Reach::Anywhere).is_some(), "before: gone after 5 minutes");
        }
        assert!(cache.get(&idle, &users, HERE, Reach::Anywhere).is_none(), "unused for 10 minutes");
        cache.age(CACHE_TTL);
        assert!(cache.get(&used, &users, HERE, Reach::Anywhere).is_none(), "then unused past its time");
    }

    #[test]
    fn an_entry_knows_the_last_groups_it_was_used_from() {
        let users = Users::single("admin", "pw");
        let version = users.version_of("admin").expect("a user");
        let cache = CredentialCache::default();
        let digest = [1; 32];
        let group = |i: u8| IpAddr::from([10, 0, 1, i]);
        cache.remember(digest, "admin", version, HERE);
        assert!(cache.get(&digest, &users, HERE, Reach::Known).is_some());
        assert!(cache.get(&digest, &users, group(0), Reach::Known).is_none(), "never used from there");
        assert!(cache.get(&digest, &users, group(0), Reach::Known).is_none(), "a refused try is no use");
        for i in 0..8 {
            assert!(cache.get(&digest, &users, group(i), Reach::Anywhere).is_some());
        }
        assert!(cache.get(&digest, &users, group(7), Reach::Known).is_some());
        assert!(cache.get(&digest, &users, HERE, Reach::Known).is_none(), "the oldest of nine is forgotten");
        // Another password version is a new entry with no groups of the old one's.
        let other = Users::single("admin", "new");
        let new_version = other.version_of("admin").expect("a user");
        cache.remember(digest, "admin", new_version, HERE);
        assert!(cache.get(&digest, &other, group(7), Reach::Known).is_none());
        assert!(cache.get(&digest, &other, HERE, Reach::Known).is_some());
    }
}
