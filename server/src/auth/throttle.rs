//! Budgets for guessing, refilled evenly over a minute (governor), and who is refused until when.
//!
//! Password attempts that need a hash verification (a credential not in the cache) are budgeted
//! per address group, per (address group, user) and per user; a client that proves itself with a
//! device cookie for that user (see [`super::device`]) has a budget of its own instead, so that an
//! attack on the user from elsewhere never locks it out. Refusals without any credential to
//! check (none, malformed, a bad ticket, a foreign origin) are budgeted per address group, so a
//! flood turns into 429s.
//!
//! A subject over its budget is refused outright until its wait is over, even with a credential
//! that is right and cached: otherwise a throttled guesser would learn the right password the
//! moment it guessed it while the real user's credential is cached.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use parking_lot::Mutex;

use super::credentials::NONCE_LEN;

/// The throttling policy: attempts per minute.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Password attempts from one address group, for any users.
    pub per_ip_per_minute: NonZeroU32,
    /// Password attempts from one address group for one user.
    pub per_ip_user_per_minute: NonZeroU32,
    /// Password attempts for one user from all addresses without a device cookie. Keep it above
    /// the per-address limits, so that one address alone can never lock the user out.
    pub per_user_per_minute: NonZeroU32,
    /// Password attempts from one device cookie.
    pub per_device_per_minute: NonZeroU32,
    /// Refusals without a credential to check (missing, malformed, bad tickets, foreign origins)
    /// from one address group.
    pub refusals_per_ip_per_minute: NonZeroU32,
}

fn per_minute(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_ip_per_minute: per_minute(10),
            per_ip_user_per_minute: per_minute(5),
            per_user_per_minute: per_minute(30),
            per_device_per_minute: per_minute(10),
            refusals_per_ip_per_minute: per_minute(60),
        }
    }
}

/// Who is trying: a device that proved itself for the user, or an address group.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    /// A client with a valid device cookie for `user` (its nonce).
    Device([u8; NONCE_LEN]),
    /// Anyone else.
    Untrusted {
        /// The client's address group.
        group: IpAddr,
        /// The user it names.
        user: &'a str,
    },
}

/// What a throttle is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Group(IpAddr),
    Pair(IpAddr, String),
    User(String),
    Device([u8; NONCE_LEN]),
    Refusals(IpAddr),
}

/// The budgets and who is refused until when.
pub struct Throttle {
    per_group: DefaultKeyedRateLimiter<IpAddr>,
    per_pair: DefaultKeyedRateLimiter<(IpAddr, String)>,
    per_user: DefaultKeyedRateLimiter<String>,
    per_device: DefaultKeyedRateLimiter<[u8; NONCE_LEN]>,
    refusals: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    blocked: Mutex<HashMap<Subject, Instant>>,
}

impl Throttle {
    /// Budgets as `limits` says.
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            per_group: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_ip_per_minute)),
            per_pair: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_ip_user_per_minute)),
            per_user: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_user_per_minute)),
            per_device: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_device_per_minute)),
            refusals: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.refusals_per_ip_per_minute)),
            clock: DefaultClock::default(),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// How long `who` is still refused, if it is.
    pub fn blocked(&self, who: Who<'_>) -> Option<Duration> {
        let blocked = self.blocked.lock();
        if blocked.is_empty() {
            return None;
        }
        let now = Instant::now();
        let subjects = match who {
            Who::Device(nonce) => vec![Subject::Device(nonce)],
            Who::Untrusted { group, user } => {
                vec![Subject::Group(group), Subject::Pair(group, user.to_owned()), Subject::User(user.to_owned())]
            }
        };
        subjects.iter().filter_map(|s| blocked.get(s)).filter_map(|until| until.checked_duration_since(now)).max()
    }

    fn block(&self, subject: Subject, wait: Duration) -> Duration {
        self.blocked.lock().insert(subject, Instant::now() + wait);
        wait
    }

    /// Takes one password attempt from `who`'s budgets: a device's own, or the address group's,
    /// then the pair's, then the user's (an address over its limit never spends the user's budget,
    /// so one address cannot lock the user out). `Err` says how long to wait.
    pub fn check(&self, who: Who<'_>) -> Result<(), Duration> {
        let now = self.clock.now();
        match who {
            Who::Device(nonce) => {
                self.per_device.check_key(&nonce).map_err(|n| self.block(Subject::Device(nonce), n.wait_time_from(now)))
            }
            Who::Untrusted { group, user } => {
                let user = user.to_owned();
                self.per_group
                    .check_key(&group)
                    .map_err(|n| self.block(Subject::Group(group), n.wait_time_from(now)))?;
                let pair = (group, user.clone());
                self.per_pair
                    .check_key(&pair)
                    .map_err(|n| self.block(Subject::Pair(group, user.clone()), n.wait_time_from(now)))?;
                self.per_user.check_key(&user).map_err(|n| self.block(Subject::User(user), n.wait_time_from(now)))
            }
        }
    }

    /// Takes one refusal from `group`'s budget; `Err` (how long to wait) once it is spent.
    pub fn refuse(&self, group: IpAddr) -> Result<(), Duration> {
        let now = self.clock.now();
        if let Some(wait) =
            self.blocked.lock().get(&Subject::Refusals(group)).and_then(|u| u.checked_duration_since(Instant::now()))
        {
            return Err(wait);
        }
        self.refusals.check_key(&group).map_err(|n| self.block(Subject::Refusals(group), n.wait_time_from(now)))
    }

    /// Forgets subjects that have been quiet.
    pub fn forget_idle(&self) {
        let now = Instant::now();
        self.blocked.lock().retain(|_, until| *until > now);
        self.per_group.retain_recent();
        self.per_pair.retain_recent();
        self.per_user.retain_recent();
        self.per_device.retain_recent();
        self.refusals.retain_recent();
        self.per_group.shrink_to_fit();
        self.per_pair.shrink_to_fit();
        self.per_user.shrink_to_fit();
        self.per_device.shrink_to_fit();
        self.refusals.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_ip: u32, per_pair: u32, per_user: u32) -> LoginLimits {
        LoginLimits {
            per_ip_per_minute: per_minute(per_ip),
            per_ip_user_per_minute: per_minute(per_pair),
            per_user_per_minute: per_minute(per_user),
            per_device_per_minute: per_minute(2),
            refusals_per_ip_per_minute: per_minute(3),
        }
    }

    #[test]
    fn an_attack_on_a_user_does_not_reach_a_device_that_proved_itself() {
        let throttle = Throttle::new(limits(100, 100, 3));
        let attacker = |i: u8| Who::Untrusted { group: IpAddr::from([10, 0, 0, i]), user: "admin" };
        for i in 0..3 {
            assert!(throttle.check(attacker(i)).is_ok());
        }
        assert!(throttle.check(attacker(9)).is_err(), "the user's budget is spent");
        assert!(throttle.blocked(attacker(10)).is_some(), "every untrusted client of that user waits");
        let device = Who::Device([7; NONCE_LEN]);
        assert_eq!(throttle.blocked(device), None, "the device is not");
        assert!(throttle.check(device).is_ok() && throttle.check(device).is_ok());
        assert!(throttle.check(device).is_err(), "it has a budget of its own");
        assert!(throttle.blocked(Who::Device([8; NONCE_LEN])).is_none(), "per device");
    }

    #[test]
    fn one_address_spends_its_pair_budget_before_the_users() {
        let throttle = Throttle::new(limits(100, 2, 30));
        let from = |i: u8| Who::Untrusted { group: IpAddr::from([10, 0, 0, i]), user: "admin" };
        assert!(throttle.check(from(1)).is_ok() && throttle.check(from(1)).is_ok());
        assert!(throttle.check(from(1)).is_err());
        assert!(throttle.blocked(from(1)).is_some());
        assert!(throttle.blocked(from(2)).is_none(), "another address is not blocked");
        let other_user = Who::Untrusted { group: IpAddr::from([10, 0, 0, 1]), user: "bob" };
        assert!(throttle.blocked(other_user).is_none(), "nor the address for another user");
    }

    #[test]
    fn refusals_without_credentials_run_out_per_address() {
        let throttle = Throttle::new(limits(10, 5, 30));
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        for _ in 0..3 {
            assert!(throttle.refuse(a).is_ok());
        }
        assert!(throttle.refuse(a).is_err());
        assert!(throttle.refuse(a).is_err(), "still blocked");
        assert!(throttle.refuse(b).is_ok());
    }
}
