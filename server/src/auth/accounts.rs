//! [`Auth`]: the accounts in force and every check against them. Basic credentials go through the
//! throttle, the cache of verified credentials and, when neither answers, one password hash
//! verification on the blocking pool (at most one per core at a time, so that a flood of distinct
//! wrong passwords cannot starve everything else). Tickets are signed with the same per-process
//! key as the cache's digests.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::RwLock;
use tokio::sync::{Semaphore, watch};

use super::cache::{CredentialCache, Digest, Outcome};
use super::credentials::{NONCE_LEN, mac, parse_basic};
use super::error::AuthError;
use super::throttle::{LoginLimits, Throttle};
use super::ticket::{TicketBook, TicketState};
use super::users::Users;
use crate::clock::now_ms;
use crate::http::client_ip::ClientIp;

/// Counters for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct AuthStats {
    /// Password hash verifications run.
    pub verifications: AtomicU64,
    /// Failed logins (wrong credentials or tickets).
    pub failures: AtomicU64,
    /// Attempts refused by throttling.
    pub throttled: AtomicU64,
}

/// The accounts, the credential cache, the throttle and the ticket book.
pub struct Auth {
    key: [u8; 32],
    users: RwLock<Arc<Users>>,
    generation: watch::Sender<u64>,
    cache: CredentialCache,
    hashing: Semaphore,
    throttle: Throttle,
    tickets: TicketBook,
    /// Counters.
    pub stats: AuthStats,
}

fn random<const N: usize>() -> [u8; N] {
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

impl Auth {
    /// Authentication for `users` under the throttling policy `limits`.
    pub fn new(users: Users, limits: LoginLimits) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            key: random::<32>(),
            users: RwLock::new(Arc::new(users)),
            generation: watch::channel(0).0,
            cache: CredentialCache::default(),
            hashing: Semaphore::new(cores),
            throttle: Throttle::new(limits),
            tickets: TicketBook::default(),
            stats: AuthStats::default(),
        }
    }

    fn users(&self) -> Arc<Users> {
        self.users.read().clone()
    }

    /// Replaces the accounts (after the users file changed). Cached credentials are dropped and
    /// every socket is told to re-check its user ([`Auth::changes`]).
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

    /// Forgets throttling state of addresses and users that have been quiet, and expired cache
    /// entries (call periodically).
    pub fn forget_idle(&self) {
        self.throttle.forget_idle();
        self.cache.forget_expired();
    }

    /// The user named by valid Basic credentials in `headers`, sent by `client`.
    pub async fn check_basic(&self, headers: &HeaderMap, client: ClientIp) -> Result<Arc<str>, AuthError> {
        let ClientIp { addr: ip, group } = client;
        let value = headers.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
        let Some((user, password)) = parse_basic(value.as_bytes()) else {
            tracing::warn!(%ip, "login refused: malformed Authorization header");
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            return Err(AuthError::Invalid);
        };
        if let Some(wait) = self.throttle.blocked(group, &user) {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(AuthError::Throttled(wait));
        }
        let digest = mac(&self.key, &[user.as_bytes(), b"\0", password.as_bytes()]);
        if let Some(user) = self.cache.get(&digest, &self.users()) {
            return Ok(user);
        }
        match self.cache.once(digest, || self.verify(digest, group, &user, password)).await {
            Outcome::Valid => Ok(Arc::from(user)),
            Outcome::Invalid => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%ip, user = ?user, "login failed: wrong user name or password");
                Err(AuthError::Invalid)
            }
            Outcome::Throttled(wait) => {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%ip, user = ?user, retry_after_s = wait.as_secs(), "login throttled");
                Err(AuthError::Throttled(wait))
            }
        }
    }

    /// One attempt: a place from the throttle, then the hash verification; a valid credential is
    /// remembered.
    async fn verify(&self, digest: Digest, group: IpAddr, user: &str, password: String) -> Outcome {
        if let Err(wait) = self.throttle.check(group, user) {
            return Outcome::Throttled(wait);
        }
        let Ok(_permit) = self.hashing.acquire().await else { return Outcome::Invalid };
        self.stats.verifications.fetch_add(1, Ordering::Relaxed);
        let users = self.users();
        let u = user.to_owned();
        let valid = tokio::task::spawn_blocking(move || users.verify(&u, &password)).await.unwrap_or(false);
        if !valid {
            return Outcome::Invalid;
        }
        if let Some(version) = self.user_version(user) {
            self.cache.remember(digest, user, version);
        }
        Outcome::Valid
    }

    /// A fresh ticket for `user`.
    pub fn issue_ticket(&self, user: &str) -> String {
        self.issue_ticket_at(user, now_ms())
    }

    pub(super) fn issue_ticket_at(&self, user: &str, now: u64) -> String {
        TicketBook::issue(&self.key, user, now, random::<NONCE_LEN>())
    }

    /// The user of a valid, unexpired, not yet redeemed ticket whose user still exists; redeems it.
    /// A refusal is counted as a failed login.
    pub fn redeem_ticket(&self, ticket: &str) -> Result<Arc<str>, AuthError> {
        self.redeem_ticket_at(ticket, now_ms())
    }

    pub(super) fn redeem_ticket_at(&self, ticket: &str, now: u64) -> Result<Arc<str>, AuthError> {
        let users = self.users();
        match self.tickets.redeem(&self.key, ticket, now, |u| users.version_of(u).is_some()) {
            Some(user) => Ok(Arc::from(user)),
            None => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                Err(AuthError::Invalid)
            }
        }
    }

    /// The state of `ticket`, as far as `user` may know it.
    pub fn ticket_state(&self, ticket: &str, user: &str) -> TicketState {
        let users = self.users();
        self.tickets.state(&self.key, ticket, user, now_ms(), |u| users.version_of(u).is_some())
    }
}
