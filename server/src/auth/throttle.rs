//! Throttling of login attempts that need a password hash verification (a credential that is not
//! in the cache): per client IP and per user name, each a burst of its size refilled evenly over a
//! minute (governor). An address or user over its limit is refused outright until its wait is
//! over, even with a cached credential: otherwise a throttled guesser would learn the right
//! password the moment it guessed it while the real user's credential is cached.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use parking_lot::Mutex;

/// The throttling policy.
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

/// The budgets of addresses and users, and who is refused until when.
pub struct Throttle {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_user: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    blocked: Mutex<HashMap<Subject, Instant>>,
}

impl Throttle {
    /// Budgets as `limits` says.
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            per_ip: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_ip_per_minute)),
            per_user: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_user_per_minute)),
            clock: DefaultClock::default(),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// How long `ip` or `user` is still refused, if it is.
    pub fn blocked(&self, ip: IpAddr, user: &str) -> Option<Duration> {
        let blocked = self.blocked.lock();
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
        self.blocked.lock().insert(subject, Instant::now() + wait);
        wait
    }

    /// Takes one attempt from the address's budget, then from the user's: an address over its
    /// limit never spends the user's budget, so it cannot lock the user out. `Err` says how long
    /// to wait.
    pub fn check(&self, ip: IpAddr, user: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        self.per_ip.check_key(&ip).map_err(|n| self.block(Subject::Ip(ip), n.wait_time_from(now)))?;
        self.per_user
            .check_key(&user.to_owned())
            .map_err(|n| self.block(Subject::User(user.to_owned()), n.wait_time_from(now)))
    }

    /// Forgets addresses and users that have been quiet.
    pub fn forget_idle(&self) {
        let now = Instant::now();
        self.blocked.lock().retain(|_, until| *until > now);
        self.per_ip.retain_recent();
        self.per_user.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_user.shrink_to_fit();
    }
}
