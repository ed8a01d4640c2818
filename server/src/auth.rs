//! Authentication: HTTP Basic on every route but `/healthz`, single-use WebSocket tickets, a cache
//! of verified credentials and brute-force throttling.
//!
//! - Password hashes (argon2id, bcrypt) are verified on the blocking pool, one verification per
//!   distinct credential at a time however many requests carry it ("single flight"); the result is
//!   cached under an HMAC of the credentials with a per-process random key, never the password.
//! - Attempts that need a hash verification are limited per client IP and per user name
//!   ([`LoginLimits`]); past either limit the answer is 429 with `Retry-After`, before any hashing.
//! - A ticket is `base64url(expiry ‖ nonce ‖ user) . base64url(HMAC-SHA256(payload))`: bound to
//!   its user, valid for [`TICKET_TTL`], redeemable once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use tokio::sync::{OnceCell, Semaphore, watch};

pub use crate::credentials::parse_basic;
use crate::credentials::{NONCE_LEN, Ticket, mac};
use crate::hub::now_ms;
use crate::state::AppState;
use crate::users::Users;

/// How long a WebSocket ticket stays valid.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// How long a verified credential is trusted without verifying its hash again.
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// How many verified credentials are remembered at most.
pub const CACHE_MAX: usize = 4096;

/// Why a request was not let in. Never says which part of the credentials was wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header (and no ticket).
    #[error("credentials required")]
    Missing,
    /// Credentials or ticket present but not valid, whatever the reason.
    #[error("invalid credentials")]
    Invalid,
    /// Too many attempts from this address or for this user: try again after the duration.
    #[error("too many attempts")]
    Throttled(Duration),
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match self {
            Self::Missing | Self::Invalid => (
                StatusCode::UNAUTHORIZED,
                [(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="livedash", charset="UTF-8""#))],
                "401 Unauthorized: log in with your livedash user name and password\n",
            )
                .into_response(),
            Self::Throttled(wait) => {
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(RETRY_AFTER, HeaderValue::from(secs.max(1)))],
                    "429 Too Many Requests: too many login attempts, try again later\n",
                )
                    .into_response()
            }
        }
    }
}

/// The throttling policy for attempts that need a password hash verification (a credential that
/// is not in the cache). Each limit allows a burst of its size, refilled evenly over a minute.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Attempts per minute from one client IP.
    pub per_ip_per_minute: NonZeroU32,
    /// Attempts per minute for one user name, from all addresses together. Keep it above
    /// `per_ip_per_minute` so that one address alone can never lock a user out.
    pub per_user_per_minute: NonZeroU32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_ip_per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            per_user_per_minute: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// What a throttle is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Ip(IpAddr),
    User(String),
}

struct Limiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_user: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    /// Addresses and users over their limit, and until when: refused outright, even with a
    /// cached credential (otherwise a throttled guesser would learn the right password the moment
    /// it guessed it while the real user's credential is cached).
    blocked: Mutex<HashMap<Subject, Instant>>,
}

impl Limiter {
    fn new(limits: LoginLimits) -> Self {
        Self {
            per_ip: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_ip_per_minute)),
            per_user: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_user_per_minute)),
            clock: DefaultClock::default(),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// How long `ip` or `user` is still refused, if it is.
    fn blocked(&self, ip: IpAddr, user: &str) -> Option<Duration> {
        let blocked = lock(&self.blocked);
        if blocked.is_empty() {
            return None;
        }
        let now = Instant::now();
        [Subject::Ip(ip), Subject::User(user.to_owned())]
            .iter()
            .filter_map(|s| blocked.get(s))
            .filter_map(|until| until.checked_duration_since(now))
            .max()
    }

    fn block(&self, subject: Subject, wait: Duration) -> Duration {
        lock(&self.blocked).insert(subject, Instant::now() + wait);
        wait
    }

    /// Takes one attempt from the address's budget, then from the user's: an address over its
    /// limit never spends the user's budget, so it cannot lock the user out.
    fn check(&self, ip: IpAddr, user: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        self.per_ip.check_key(&ip).map_err(|n| self.block(Subject::Ip(ip), n.wait_time_from(now)))?;
        self.per_user
            .check_key(&user.to_owned())
            .map_err(|n| self.block(Subject::User(user.to_owned()), n.wait_time_from(now)))
    }

    fn forget_idle(&self) {
        let now = Instant::now();
        lock(&self.blocked).retain(|_, until| *until > now);
        self.per_ip.retain_recent();
        self.per_user.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_user.shrink_to_fit();
    }
}

/// What one verification attempt came to.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Valid,
    Invalid,
    Throttled(Duration),
}

struct Cached {
    user: Arc<str>,
    version: [u8; 32],
    at: Instant,
}

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
    cache: Mutex<HashMap<[u8; 32], Cached>>,
    inflight: Mutex<HashMap<[u8; 32], Arc<OnceCell<Outcome>>>>,
    hashing: Semaphore,
    limiter: Limiter,
    /// Redeemed ticket nonces and their expiry, so that each ticket works once.
    redeemed: Mutex<HashMap<[u8; NONCE_LEN], u64>>,
    generation: watch::Sender<u64>,
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here is a single map operation: a panic cannot leave it half done.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Auth {
    /// Authentication for `users` under the throttling policy `limits`.
    pub fn new(users: Users, limits: LoginLimits) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            key: random::<32>(),
            users: RwLock::new(Arc::new(users)),
            cache: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
            // Hashing is CPU-bound: at most one verification per core at a time, so a flood of
            // distinct wrong passwords cannot starve everything else.
            hashing: Semaphore::new(cores),
            limiter: Limiter::new(limits),
            redeemed: Mutex::new(HashMap::new()),
            generation: watch::channel(0).0,
            stats: AuthStats::default(),
        }
    }

    fn users(&self) -> Arc<Users> {
        self.users.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Replaces the accounts (after the users file changed). Cached credentials are dropped and
    /// every socket is told to re-check its user ([`Auth::changes`]).
    pub fn replace_users(&self, users: Users) {
        *self.users.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(users);
        lock(&self.cache).clear();
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

    /// Forgets throttling state of addresses and users that have been quiet (call periodically).
    pub fn forget_idle(&self) {
        self.limiter.forget_idle();
        let now = Instant::now();
        lock(&self.cache).retain(|_, c| now.duration_since(c.at) < CACHE_TTL);
    }

    /// The user named by valid Basic credentials in `headers`, sent from `ip`.
    pub async fn check_basic(&self, headers: &HeaderMap, ip: IpAddr) -> Result<Arc<str>, AuthError> {
        let value = headers.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
        let Some((user, password)) = parse_basic(value.as_bytes()) else {
            tracing::warn!(%ip, "login refused: malformed Authorization header");
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            return Err(AuthError::Invalid);
        };
        if let Some(wait) = self.limiter.blocked(ip, &user) {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(AuthError::Throttled(wait));
        }
        let digest = mac(&self.key, &[user.as_bytes(), b"\0", password.as_bytes()]);
        if let Some(user) = self.cached(&digest) {
            return Ok(user);
        }
        match self.attempt_once(digest, ip, &user, password).await {
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

    fn cached(&self, digest: &[u8; 32]) -> Option<Arc<str>> {
        let users = self.users();
        let mut cache = lock(&self.cache);
        let hit = cache.get(digest)?;
        if hit.at.elapsed() < CACHE_TTL && users.version_of(&hit.user) == Some(hit.version) {
            return Some(hit.user.clone());
        }
        cache.remove(digest);
        None
    }

    /// One attempt per distinct credential at a time: the first request to arrive takes a place
    /// from the throttle and runs the verification; requests with the same credential that arrive
    /// meanwhile wait for its outcome and cost nothing.
    async fn attempt_once(&self, digest: [u8; 32], ip: IpAddr, user: &str, password: String) -> Outcome {
        let cell = lock(&self.inflight).entry(digest).or_default().clone();
        let outcome = *cell
            .get_or_init(|| async {
                if let Err(wait) = self.limiter.check(ip, user) {
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
                    self.remember(digest, user, version);
                }
                Outcome::Valid
            })
            .await;
        let mut inflight = lock(&self.inflight);
        if inflight.get(&digest).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            inflight.remove(&digest);
        }
        outcome
    }

    fn remember(&self, digest: [u8; 32], user: &str, version: [u8; 32]) {
        let mut cache = lock(&self.cache);
        if cache.len() >= CACHE_MAX {
            let now = Instant::now();
            cache.retain(|_, c| now.duration_since(c.at) < CACHE_TTL);
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(digest, Cached { user: Arc::from(user), version, at: Instant::now() });
    }

    /// A fresh ticket for `user`.
    pub fn issue_ticket(&self, user: &str) -> String {
        self.issue_ticket_at(user, now_ms())
    }

    fn issue_ticket_at(&self, user: &str, now: u64) -> String {
        let expiry_ms = now + u64::try_from(TICKET_TTL.as_millis()).unwrap_or(u64::MAX);
        Ticket { expiry_ms, nonce: random::<NONCE_LEN>(), user: user.to_owned() }.encode(&self.key)
    }

    /// The user of a valid, unexpired, not yet redeemed ticket whose user still exists; redeems it.
    pub fn redeem_ticket(&self, ticket: &str) -> Result<Arc<str>, AuthError> {
        self.redeem_ticket_at(ticket, now_ms())
    }

    fn redeem_ticket_at(&self, ticket: &str, now: u64) -> Result<Arc<str>, AuthError> {
        let ticket = Ticket::decode(&self.key, ticket).ok_or(AuthError::Invalid)?;
        if now >= ticket.expiry_ms || self.user_version(&ticket.user).is_none() {
            return Err(AuthError::Invalid);
        }
        let mut redeemed = lock(&self.redeemed);
        // Forget tickets that expired: they fail the expiry check anyway. This bounds the map
        // to the tickets issued within one TTL.
        redeemed.retain(|_, exp| *exp > now);
        if redeemed.insert(ticket.nonce, ticket.expiry_ms).is_some() {
            return Err(AuthError::Invalid);
        }
        Ok(Arc::from(ticket.user))
    }
}

/// What became of a ticket, to explain a socket that never opened. Nothing is redeemed by asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketState {
    /// Valid and not yet used: the socket request never reached the server with it.
    Unused,
    /// Used: the socket request reached the server and passed the ticket check.
    Redeemed,
    /// Not valid (any more), or not this user's.
    Refused,
}

impl Auth {
    /// The state of `ticket`, as far as `user` may know it.
    pub fn ticket_state(&self, ticket: &str, user: &str) -> TicketState {
        let Some(ticket) = Ticket::decode(&self.key, ticket).filter(|t| t.user == user) else {
            return TicketState::Refused;
        };
        if lock(&self.redeemed).contains_key(&ticket.nonce) {
            TicketState::Redeemed
        } else if now_ms() >= ticket.expiry_ms || self.user_version(&ticket.user).is_none() {
            TicketState::Refused
        } else {
            TicketState::Unused
        }
    }
}

/// The client address of a request: the TCP peer, or the address a trusted proxy forwarded for.
pub fn client_ip(parts: &Parts) -> IpAddr {
    if let Some(crate::serve::ClientIp(ip)) = parts.extensions.get::<crate::serve::ClientIp>() {
        return *ip;
    }
    parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip())
}

/// The user of a request that carried valid Basic credentials.
#[derive(Debug, Clone)]
pub struct BasicUser(pub Arc<str>);

impl FromRequestParts<AppState> for BasicUser {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state.auth.check_basic(&parts.headers, client_ip(parts)).await.map(BasicUser)
    }
}

/// Middleware for everything behind Basic auth: refuses with 401 or 429, or records the user
/// for the app (server functions read it from the request's extensions).
pub async fn require_basic(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match BasicUser::from_request_parts(&mut parts, &state).await {
        Ok(BasicUser(user)) => {
            parts.extensions.insert(app::ssr::User(user));
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn headers(value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_bytes(value).expect("header bytes"));
        h
    }

    fn basic(user_pass: &str) -> HeaderMap {
        headers(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_pass)).as_bytes())
    }

    fn auth(password: &str) -> Auth {
        Auth::new(Users::single("admin", password), LoginLimits::default())
    }

    fn limits(ip: u32, user: u32) -> LoginLimits {
        LoginLimits {
            per_ip_per_minute: NonZeroU32::new(ip).expect("nonzero"),
            per_user_per_minute: NonZeroU32::new(user).expect("nonzero"),
        }
    }

    #[tokio::test]
    async fn right_credentials_pass_wrong_ones_do_not() {
        let auth = auth("s3cret:with colon");
        assert_eq!(auth.check_basic(&basic("admin:s3cret:with colon"), IP).await.as_deref(), Ok("admin"));
        assert_eq!(auth.check_basic(&basic("admin:s3cret"), IP).await, Err(AuthError::Invalid));
        assert_eq!(auth.check_basic(&basic("root:s3cret:with colon"), IP).await, Err(AuthError::Invalid));
        assert_eq!(auth.check_basic(&HeaderMap::new(), IP).await, Err(AuthError::Missing));
    }

    #[tokio::test]
    async fn malformed_authorization_values_are_invalid_not_panics() {
        let auth = auth("pw");
        for value in crate::credentials::malformed_basic_examples() {
            assert_eq!(auth.check_basic(&headers(&value), IP).await, Err(AuthError::Invalid), "{value:?}");
        }
        // The scheme is case-insensitive.
        assert!(auth.check_basic(&headers(b"bAsIc YWRtaW46cHc="), IP).await.is_ok());
    }

    #[tokio::test]
    async fn a_burst_of_one_credential_costs_one_verification() {
        let auth = Arc::new(auth("pw"));
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let auth = auth.clone();
                tokio::spawn(async move { auth.check_basic(&basic("admin:pw"), IP).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.expect("task").as_deref(), Ok("admin"));
        }
        assert_eq!(auth.stats.verifications.load(Ordering::Relaxed), 1);
        // Later requests come from the cache.
        assert!(auth.check_basic(&basic("admin:pw"), IP).await.is_ok());
        assert_eq!(auth.stats.verifications.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn too_many_attempts_from_one_ip_are_throttled_before_hashing() {
        let auth = Auth::new(Users::single("admin", "pw"), limits(3, 100));
        for _ in 0..3 {
            assert_eq!(auth.check_basic(&basic("admin:nope"), IP).await, Err(AuthError::Invalid));
        }
        let before = auth.stats.verifications.load(Ordering::Relaxed);
        assert!(matches!(auth.check_basic(&basic("admin:pw"), IP).await, Err(AuthError::Throttled(_))));
        assert_eq!(auth.stats.verifications.load(Ordering::Relaxed), before, "no hash computed when throttled");
        // Another address is not affected, and the real password works there.
        let other = IpAddr::from([127, 0, 0, 2]);
        assert_eq!(auth.check_basic(&basic("admin:pw"), other).await.as_deref(), Ok("admin"));
        // Now that the right credential is cached, the throttled address still gets no answer
        // that tells it the password is right.
        assert!(matches!(auth.check_basic(&basic("admin:pw"), IP).await, Err(AuthError::Throttled(_))));
    }

    #[tokio::test]
    async fn too_many_attempts_for_one_user_are_throttled_from_every_ip() {
        let auth = Auth::new(Users::single("admin", "pw"), limits(100, 2));
        for i in 0..2u8 {
            let _ = auth.check_basic(&basic("admin:nope"), IpAddr::from([10, 0, 0, i])).await;
        }
        let fresh = IpAddr::from([10, 0, 1, 1]);
        assert!(matches!(auth.check_basic(&basic("admin:nope"), fresh).await, Err(AuthError::Throttled(_))));
        // Other users are unaffected.
        assert_eq!(auth.check_basic(&basic("bob:x"), fresh).await, Err(AuthError::Invalid));
    }

    #[test]
    fn throttled_response_says_when_to_retry() {
        let r = AuthError::Throttled(Duration::from_millis(5_200)).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[RETRY_AFTER], "6");
        let r = AuthError::Invalid.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers()[WWW_AUTHENTICATE].to_str().expect("ascii").starts_with("Basic realm="));
    }

    #[tokio::test]
    async fn replacing_users_invalidates_cached_credentials() {
        let auth = auth("old");
        assert!(auth.check_basic(&basic("admin:old"), IP).await.is_ok());
        let changes = auth.changes();
        auth.replace_users(Users::single("admin", "new"));
        assert!(changes.has_changed().expect("sender alive"));
        assert_eq!(auth.check_basic(&basic("admin:old"), IP).await, Err(AuthError::Invalid));
        assert!(auth.check_basic(&basic("admin:new"), IP).await.is_ok());
    }

    #[test]
    fn tickets_work_once_for_their_user() {
        let auth = auth("pw");
        let t = auth.issue_ticket("admin");
        assert_eq!(auth.redeem_ticket(&t).as_deref(), Ok("admin"));
        assert_eq!(auth.redeem_ticket(&t), Err(AuthError::Invalid), "replay");
        let gone = auth.issue_ticket("admin");
        auth.replace_users(Users::single("someone-else", "pw"));
        assert_eq!(auth.redeem_ticket(&gone), Err(AuthError::Invalid), "user removed");
    }

    #[test]
    fn a_ticket_state_is_told_without_redeeming_it_and_only_to_its_user() {
        let auth = auth("pw");
        let t = auth.issue_ticket("admin");
        assert_eq!(auth.ticket_state(&t, "admin"), TicketState::Unused);
        assert_eq!(auth.ticket_state(&t, "admin"), TicketState::Unused, "asking redeems nothing");
        assert_eq!(auth.ticket_state(&t, "mallory"), TicketState::Refused);
        assert_eq!(auth.redeem_ticket(&t).as_deref(), Ok("admin"));
        assert_eq!(auth.ticket_state(&t, "admin"), TicketState::Redeemed);
        assert_eq!(auth.ticket_state("garbage", "admin"), TicketState::Refused);
        let old = auth.issue_ticket_at("admin", 1_000);
        assert_eq!(auth.ticket_state(&old, "admin"), TicketState::Refused, "expired");
    }

    #[test]
    fn expired_tampered_truncated_and_foreign_tickets_fail() {
        let auth = auth("pw");
        let t = auth.issue_ticket_at("admin", 1_000);
        assert_eq!(auth.redeem_ticket_at(&t, 1_000 + 30_000), Err(AuthError::Invalid), "expired");

        let t = auth.issue_ticket("admin");
        let mut tampered = t.clone().into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert_eq!(auth.redeem_ticket(&tampered), Err(AuthError::Invalid), "tampered");
        assert_eq!(auth.redeem_ticket(&t[..t.len() - 2]), Err(AuthError::Invalid), "truncated");
        for garbage in ["", ".", "abc", "a.b", "%%%.%%%", "....."] {
            assert_eq!(auth.redeem_ticket(garbage), Err(AuthError::Invalid), "{garbage:?}");
        }
        let other = Auth::new(Users::single("admin", "pw"), LoginLimits::default());
        assert_eq!(other.redeem_ticket(&auth.issue_ticket("admin")), Err(AuthError::Invalid), "other key");
        assert_eq!(auth.redeem_ticket(&t).as_deref(), Ok("admin"), "the original still works once");
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
    }
}
