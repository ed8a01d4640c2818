//! [`Auth`]: the accounts in force and every check against them. Basic credentials go through the
//! throttle (a device cookie puts the client on its own budget), the cache of verified
//! credentials and, when neither answers, one password hash verification on the blocking pool, in
//! the lane of its kind of client ([`super::lanes`]): each holding its place until its hash is
//! done even if the request went away, with a bounded queue behind them (503 beyond it).
//! Refusals are budgeted per address and logged without letting a flood grow the log.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::RwLock;
use tokio::sync::watch;

use super::cache::{CredentialCache, Digest, Outcome, Reach};
use super::credentials::{NONCE_LEN, VERSION_LEN, mac, parse_basic};
use super::device::Devices;
use super::error::AuthError;
use super::lanes::{Lane, Lanes};
use super::refusals::RefusalLog;
use super::shared::SharedAuth;
use super::throttle::{LoginLimits, Throttle, Who};
use super::ticket::{TicketBook, Version};
use super::users::Users;
use crate::clock::now_ms;
use crate::http::client_ip::ClientIp;

pub use super::lanes::MAX_WAITING_VERIFICATIONS;

/// Counters for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct AuthStats {
    /// Password hash verifications run.
    pub verifications: AtomicU64,
    /// Failed logins (wrong credentials or tickets).
    pub failures: AtomicU64,
    /// Attempts refused by throttling.
    pub throttled: AtomicU64,
    /// Verifications refused because too many were waiting or the budget of verifications for
    /// clients without a device cookie was spent.
    pub busy: AtomicU64,
}

/// A request that passed: its user, and whether it came with a valid device cookie (else the
/// response gives it one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// Who it is.
    pub user: Arc<str>,
    /// Whether it proved itself with a device cookie.
    pub device: bool,
}

/// The accounts, the credential cache, the throttle, the ticket book and the device cookies.
pub struct Auth {
    pub(super) key: [u8; 32],
    users: RwLock<Arc<Users>>,
    generation: watch::Sender<u64>,
    cache: CredentialCache,
    lanes: Lanes,
    pub(super) throttle: Throttle,
    pub(super) tickets: TicketBook,
    pub(super) devices: Devices,
    refusals: RefusalLog,
    /// The config's `viewers`: read-only whatever the users file says.
    viewers: std::collections::BTreeSet<String>,
    /// In a cluster: the shared book and the key shared tickets are signed with.
    pub(super) shared: Option<(Arc<dyn SharedAuth>, [u8; 32])>,
    /// Where refused Basic credentials are recorded ([`super::audited`]).
    pub(super) audit: std::sync::OnceLock<crate::audit::Audit>,
    /// Counters.
    pub stats: AuthStats,
}

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS random source failing is unrecoverable for a server that must make secrets.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("the operating system's random source is unavailable");
    buf
}

/// A random password: 18 bytes, 24 URL-safe characters.
pub fn generate_password() -> String {
    URL_SAFE_NO_PAD.encode(random::<18>())
}

/// The part of a password version that tickets and device cookies carry.
pub(super) fn short(version: [u8; 32]) -> Version {
    let mut out = [0; VERSION_LEN];
    out.copy_from_slice(&version[..VERSION_LEN]);
    out
}

impl Auth {
    /// Authentication for `users` under the throttling policy `limits`, with device cookies signed
    /// by a key for this process only (see [`Auth::with_devices`]).
    pub fn new(users: Users, limits: LoginLimits) -> Self {
        Self::with_devices(users, limits, Devices::new(random::<32>(), false, ""))
    }

    /// Authentication whose device cookies are made by `devices`.
    pub fn with_devices(users: Users, limits: LoginLimits, devices: Devices) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            key: random::<32>(),
            users: RwLock::new(Arc::new(users)),
            generation: watch::channel(0).0,
            cache: CredentialCache::default(),
            lanes: Lanes::new(cores),
            throttle: Throttle::new(limits),
            tickets: TicketBook::default(),
            devices,
            refusals: RefusalLog::default(),
            viewers: std::collections::BTreeSet::new(),
            shared: None,
            audit: std::sync::OnceLock::new(),
            stats: AuthStats::default(),
        }
    }

    /// The same, for one instance of a cluster: tickets signed with `ticket_key` (shared by every
    /// instance) are redeemed once across all of them in `book`, and password attempts are taken
    /// from budgets kept there too. While `book` is unreachable this instance signs tickets with
    /// its own key and keeps budgets of its own.
    pub fn with_shared(mut self, book: Arc<dyn SharedAuth>, ticket_key: [u8; 32]) -> Self {
        self.shared = Some((book, ticket_key));
        self
    }

    /// The config's `viewers = [..]`: these users are viewers whatever the users file says.
    pub fn with_viewers(mut self, viewers: impl IntoIterator<Item = String>) -> Self {
        self.viewers = viewers.into_iter().collect();
        self
    }

    /// `user`'s role in force: the users file's, lowered to viewer by the config's `viewers`;
    /// `None` for a user the file does not have (removed, or never there).
    pub fn role_of(&self, user: &str) -> Option<super::role::Role> {
        let role = self.users().role_of(user)?;
        Some(if self.viewers.contains(user) { super::role::Role::Viewer } else { role })
    }

    /// A budget found spent by another instance: `subject` (see
    /// [`super::throttle::Throttle::budgets`]) is refused here too for `wait`.
    pub fn block_from_peer(&self, subject: &str, wait: std::time::Duration) {
        self.throttle.block_key(subject, wait);
    }

    /// The accounts in force. Each reload replaces them with a new allocation: while one is held,
    /// [`Arc::ptr_eq`] with a later call tells whether they were replaced in between (see
    /// `crate::live::ws::revocation`).
    pub fn users(&self) -> Arc<Users> {
        self.users.read().clone()
    }

    /// Replaces the accounts (after the users file changed). Cached credentials are dropped, every
    /// socket is told to re-check its user ([`Auth::changes`]), and tickets and device cookies of
    /// changed or removed users stop working (they are bound to the password).
    pub fn replace_users(&self, users: Users) {
        *self.users.write() = Arc::new(users);
        self.cache.clear();
        self.generation.send_modify(|g| *g += 1);
    }

    /// Flips whenever the accounts are replaced.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// What identifies `user`'s current password; `None` once the user is gone.
    pub fn user_version(&self, user: &str) -> Option<[u8; 32]> {
        self.users().version_of(user)
    }

    /// Forgets throttling state of subjects that have been quiet and expired cache entries, and
    /// sums up the refusals logged since the last call (call once a minute).
    pub fn forget_idle(&self) {
        self.throttle.forget_idle();
        self.cache.forget_expired();
        self.refusals.flush();
    }

    /// Notes a refusal of `addr` for `reason` in the refusal log; true when it is the first from
    /// that address since the last summary, and so should be logged now with its details.
    pub fn note_refusal(&self, addr: std::net::IpAddr, reason: &'static str) -> bool {
        self.refusals.first(addr, reason)
    }

    /// Sums up the refusals logged since the last summary.
    pub fn flush_refusals(&self) {
        self.refusals.flush();
    }

    /// A refusal without a credential to check (none, malformed, a bad ticket, a foreign origin):
    /// logged (the first from an address, then summed up), and taken from the address's budget,
    /// past which it becomes 429.
    pub fn refuse(&self, client: ClientIp, error: AuthError, reason: &'static str) -> AuthError {
        self.count_refusal(client, reason).map_or_else(AuthError::Throttled, |()| error)
    }

    /// How long `client` is still refused for its refusals (its budget spent), if it is: a lookup
    /// that only a credential could justify (a session this instance does not know) is not made.
    pub fn refusing(&self, client: ClientIp) -> Option<std::time::Duration> {
        self.throttle.refusing(client.group)
    }

    /// The bookkeeping of [`Auth::refuse`] for a refusal of another kind (a foreign origin is a
    /// 403): logged, and taken from the address's budget; `Err` (how long to wait) once the budget
    /// is spent, when the answer becomes 429.
    pub fn count_refusal(&self, client: ClientIp, reason: &'static str) -> Result<(), std::time::Duration> {
        if self.refusals.first(client.addr, reason) {
            tracing::warn!(ip = %client.addr, "refused: {reason}");
        }
        self.throttle.refuse(client.group).inspect_err(|_| {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
        })
    }

    /// The user named by valid Basic credentials in `headers`, sent by `client`.
    pub async fn check_basic(&self, headers: &HeaderMap, client: ClientIp) -> Result<Login, AuthError> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(self.refuse(client, AuthError::Missing, "no credentials"));
        };
        let Some((user, password)) = parse_basic(value.as_bytes()) else {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            let refused = self.refuse(client, AuthError::Invalid, "malformed Authorization header");
            return Err(self.audit_basic(None, client, refused));
        };
        let checked = self.check_password(&user, password, headers, client).await;
        checked.map_err(|e| self.audit_basic(Some(&user), client, e))
    }

    /// Whether `password` is `user`'s, asked by `client` whose request has `headers` (its device
    /// cookie): the same throttles, device budgets, cache and bounded hashing for the login form
    /// as for Basic.
    pub async fn check_password(
        &self,
        user: &str,
        password: String,
        headers: &HeaderMap,
        client: ClientIp,
    ) -> Result<Login, AuthError> {
        let users = self.users();
        let device = self.devices.read(headers, user, users.version_of(user).map(short), now_ms());
        let who = device.map_or(Who::Untrusted { group: client.group, user }, Who::Device);
        let digest = mac(&self.key, &[user.as_bytes(), b"\0", password.as_bytes()]);
        if let Some(blocked) = self.throttle.blocked_by(who) {
            // Only the user is blocked, by guesses from elsewhere: a credential verified or used
            // from this client's group before still passes (see `super::throttle`).
            if blocked.only_user
                && let Some(user) = self.cache.get(&digest, &users, client.group, Reach::Known)
            {
                return Ok(Login { user, device: false });
            }
            let wait = match (blocked.only_user, who) {
                (true, Who::Untrusted { group, user }) => self.spend_client(group, user).await.max(blocked.wait),
                _ => blocked.wait,
            };
            return Err(self.throttled(client, user, wait));
        }
        if let Some(user) = self.cache.get(&digest, &users, client.group, Reach::Anywhere) {
            return Ok(Login { user, device: device.is_some() });
        }
        match self.cache.once(digest, || self.verify(digest, who, user, client, password)).await {
            // A verification that another request began before a reload was made against the
            // accounts before it: its answer stands only for the password these accounts have.
            Outcome::Valid(version) if users.version_of(user) == Some(version) => {
                // Verified for this client (maybe by another's request with the same credential).
                let _ = self.cache.get(&digest, &users, client.group, Reach::Anywhere);
                Ok(Login { user: Arc::from(user), device: device.is_some() })
            }
            Outcome::Valid(_) | Outcome::Invalid => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                if self.refusals.first(client.addr, "wrong user name or password") {
                    tracing::warn!(ip = %client.addr, user = ?user, "login failed: wrong user name or password");
                }
                Err(AuthError::Invalid)
            }
            Outcome::Throttled(wait) => Err(self.throttled(client, user, wait)),
            Outcome::Busy => {
                self.stats.busy.fetch_add(1, Ordering::Relaxed);
                Err(AuthError::Busy)
            }
        }
    }

    pub(super) fn throttled(&self, client: ClientIp, user: &str, wait: std::time::Duration) -> AuthError {
        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
        if self.refusals.first(client.addr, "too many attempts") {
            tracing::warn!(ip = %client.addr, user = ?user, retry_after_s = wait.as_secs(), "login throttled");
        }
        AuthError::Throttled(wait)
    }

    /// One attempt: a place from the throttle, then the hash verification against one snapshot of
    /// the accounts; a valid credential is remembered under that snapshot's password version (and
    /// `client`'s group), so a reload meanwhile can never make it stand for the new password.
    async fn verify(&self, digest: Digest, who: Who<'_>, user: &str, client: ClientIp, password: String) -> Outcome {
        if let Err(wait) = self.throttle.check(who) {
            return Outcome::Throttled(wait);
        }
        let mut shared_spent = None;
        if let Some((book, _)) = &self.shared {
            let budgets = self.throttle.budgets(who);
            // Unreachable: this instance's own budgets (just taken) are all there is.
            match book.spend(budgets.clone()).await {
                Ok(Some((spent, wait))) => {
                    if let Some(budget) = budgets.get(spent) {
                        self.throttle.block_key(&budget.key, wait);
                    }
                    return Outcome::Throttled(wait);
                }
                Ok(None) => shared_spent = Some((book, budgets)),
                Err(_) => {}
            }
        }
        let lane = if matches!(who, Who::Device(_)) { Lane::Proven } else { Lane::Open };
        let Ok(permit) = self.lanes.enter(lane).await else { return Outcome::Busy };
        self.stats.verifications.fetch_add(1, Ordering::Relaxed);
        let users = self.users();
        let (u, snapshot) = (user.to_owned(), users.clone());
        // The permit goes with the hash: a request that goes away does not free the core early.
        let valid = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            snapshot.verify(&u, &password)
        })
        .await
        .unwrap_or(false);
        if !valid {
            return Outcome::Invalid;
        }
        if let Some((book, budgets)) = shared_spent {
            book.refund(budgets).await;
        }
        match users.version_of(user) {
            Some(version) => {
                self.cache.remember(digest, user, version, client.group);
                Outcome::Valid(version)
            }
            None => Outcome::Invalid,
        }
    }

    /// A try by a client of `group` for a user blocked by others' guesses, not answered from the
    /// cache: taken from the client's own budgets (its groups' and its pair's, here and in the
    /// shared store), so that a guesser sharing a group the user's credential was used from
    /// guesses no faster while the user is blocked than before. How long the client must wait, if
    /// a budget of its own is spent.
    async fn spend_client(&self, group: std::net::IpAddr, user: &str) -> std::time::Duration {
        if let Err(wait) = self.throttle.check_client(group, user) {
            return wait;
        }
        if let Some((book, _)) = &self.shared {
            let mut budgets = self.throttle.budgets(Who::Untrusted { group, user });
            budgets.pop(); // the user's own, which is spent already
            if let Ok(Some((spent, wait))) = book.spend(budgets.clone()).await {
                if let Some(budget) = budgets.get(spent) {
                    self.throttle.block_key(&budget.key, wait);
                }
                return wait;
            }
        }
        std::time::Duration::ZERO
    }

    /// A `Set-Cookie` value with a device cookie for `user` at its current password.
    pub fn device_cookie(&self, user: &str) -> Option<HeaderValue> {
        let version = self.users().version_of(user).map(short)?;
        self.devices.issue(user, version, now_ms(), random::<NONCE_LEN>())
    }
}
