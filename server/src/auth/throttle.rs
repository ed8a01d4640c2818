//! Budgets for guessing, refilled evenly over a minute (governor), and who is refused until when.
//!
//! Password attempts that need a hash verification (a credential not in the cache) are budgeted
//! per address group, per wider IPv6 group (the /48 of a /64, see [`super::subject::wide_of`]),
//! per (address group, user) and per user; a client that proves itself with a device cookie for
//! that user (see [`super::device`]) has a budget of its own instead, so that an attack on the
//! user from elsewhere never locks it out. Refusals without any credential to check (none,
//! malformed, a bad ticket, a foreign origin) are budgeted per address group, so a flood turns
//! into 429s.
//!
//! A subject over its budget is refused until its wait is over, even with a credential that is
//! right and cached: otherwise a throttled guesser would learn the right password the moment it
//! guessed it while the real user's credential is cached. One exception keeps that true: when
//! only the *user* is blocked (by guesses from other addresses) and not the client's own groups
//! or pair, a cached credential passes if it was already verified or used from the client's
//! group ([`Blocked::only_user`], see `Auth::check_password`). A guesser gains nothing by it: a
//! guess that is not such a credential is still refused (and taken from the client's own budgets,
//! so a guesser sharing that group guesses no faster than its pair's budget), and a right password
//! from a group the credential was never used from is refused like any guess.
//!
//! In a cluster the same budgets are also kept in the shared store (see [`super::shared`]): each
//! subject has a key ([`Throttle::budgets`]), and a subject found spent there is refused on every
//! instance ([`Throttle::block_key`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use parking_lot::Mutex;

use super::blocked::{LONGEST_WAIT, bound};
use super::credentials::NONCE_LEN;
use super::shared::Budget;
use super::subject::{Subject, wide_of};

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

pub(super) fn per_minute(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Password attempts from one wider IPv6 group (a /48) a minute: twice an address group's, so a
/// /48 gets the budget of two /64s, not of 65,536 (and, at the defaults, less than a user's: one
/// /48 alone cannot lock a user out).
fn wide_budget(limits: &LoginLimits) -> NonZeroU32 {
    limits.per_ip_per_minute.saturating_mul(NonZeroU32::MIN.saturating_add(1))
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

/// Why a client is refused for now: the longest wait of its blocked subjects, and whether the
/// user it names is the only one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    /// How long it is still refused.
    pub wait: Duration,
    /// Only the user is blocked: not the client's address group, its wider group or its pair.
    pub only_user: bool,
}

/// The budgets and who is refused until when.
pub struct Throttle {
    per_group: DefaultKeyedRateLimiter<IpAddr>,
    per_wide: DefaultKeyedRateLimiter<IpAddr>,
    per_pair: DefaultKeyedRateLimiter<(IpAddr, String)>,
    per_user: DefaultKeyedRateLimiter<String>,
    per_device: DefaultKeyedRateLimiter<[u8; NONCE_LEN]>,
    refusals: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    blocked: Mutex<HashMap<Subject, Instant>>,
    limits: LoginLimits,
}

impl Throttle {
    /// Budgets as `limits` says.
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            per_group: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_ip_per_minute)),
            per_wide: DefaultKeyedRateLimiter::keyed(Quota::per_minute(wide_budget(&limits))),
            per_pair: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_ip_user_per_minute)),
            per_user: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_user_per_minute)),
            per_device: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_device_per_minute)),
            refusals: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.refusals_per_ip_per_minute)),
            clock: DefaultClock::default(),
            blocked: Mutex::new(HashMap::new()),
            limits,
        }
    }

    /// The budgets one password attempt of `who` takes from, in the order [`Throttle::check`]
    /// takes them, as the shared store keeps them.
    pub fn budgets(&self, who: Who<'_>) -> Vec<Budget> {
        let l = &self.limits;
        let subjects = match who {
            Who::Device(nonce) => vec![(Subject::device(nonce), l.per_device_per_minute)],
            Who::Untrusted { group, user } => {
                let mut subjects = vec![(Subject::Group(group), l.per_ip_per_minute)];
                subjects.extend(wide_of(group).map(|w| (Subject::Wide(w), wide_budget(l))));
                subjects.push((Subject::Pair(group, user.to_owned()), l.per_ip_user_per_minute));
                subjects.push((Subject::User(user.to_owned()), l.per_user_per_minute));
                subjects
            }
        };
        subjects.into_iter().map(|(s, n)| Budget { key: s.key(), per_minute: n.get() }).collect()
    }

    /// Refuses the subject of `key` (see [`Throttle::budgets`]) for `wait`, as another instance
    /// found its budget spent; a key that names no subject is ignored. The wait is capped at
    /// [`LONGEST_WAIT`] (whoever writes the shared store could ask for centuries), and the map
    /// at [`super::blocked::MOST_BLOCKED`] subjects.
    pub fn block_key(&self, key: &str, wait: Duration) {
        let Some(subject) = Subject::parse(key) else { return };
        let now = Instant::now();
        let until = now + wait.min(LONGEST_WAIT);
        let mut blocked = self.blocked.lock();
        if !blocked.contains_key(&subject) {
            bound(&mut blocked, now);
        }
        let entry = blocked.entry(subject).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// How long `who` is still refused, if it is.
    pub fn blocked(&self, who: Who<'_>) -> Option<Duration> {
        self.blocked_by(who).map(|b| b.wait)
    }

    /// Whether `who` is refused for now, for how long and by what (see [`Blocked`]).
    pub fn blocked_by(&self, who: Who<'_>) -> Option<Blocked> {
        let blocked = self.blocked.lock();
        if blocked.is_empty() {
            return None;
        }
        let now = Instant::now();
        let subjects = match who {
            Who::Device(nonce) => vec![Subject::device(nonce)],
            Who::Untrusted { group, user } => {
                let mut subjects = vec![Subject::Group(group), Subject::Pair(group, user.to_owned())];
                subjects.extend(wide_of(group).map(Subject::Wide));
                subjects.push(Subject::User(user.to_owned()));
                subjects
            }
        };
        let waits = subjects.iter().filter_map(|s| Some((s, blocked.get(s)?.checked_duration_since(now)?)));
        let (mut wait, mut only_user, mut any) = (Duration::ZERO, true, false);
        for (subject, w) in waits {
            any = true;
            wait = wait.max(w);
            only_user &= matches!(subject, Subject::User(_));
        }
        any.then_some(Blocked { wait, only_user })
    }

    fn block(&self, subject: Subject, wait: Duration) -> Duration {
        let now = Instant::now();
        let mut blocked = self.blocked.lock();
        if !blocked.contains_key(&subject) {
            bound(&mut blocked, now);
        }
        blocked.insert(subject, now + wait);
        wait
    }

    /// Takes one password attempt from `who`'s budgets: a device's own, or the address group's,
    /// its wider group's, then the pair's, then the user's (an address over its limit never spends
    /// the user's budget, so one address cannot lock the user out). `Err` says how long to wait.
    pub fn check(&self, who: Who<'_>) -> Result<(), Duration> {
        let now = self.clock.now();
        match who {
            Who::Device(nonce) => {
                self.per_device.check_key(&nonce).map_err(|n| self.block(Subject::device(nonce), n.wait_time_from(now)))
            }
            Who::Untrusted { group, user } => {
                self.check_client(group, user)?;
                let user = user.to_owned();
                self.per_user.check_key(&user).map_err(|n| self.block(Subject::User(user), n.wait_time_from(now)))
            }
        }
    }

    /// Takes one password attempt for `user` from the budgets of the client's own: its address
    /// `group`'s, its wider group's and the pair's (not the user's). `Err` says how long to wait.
    pub fn check_client(&self, group: IpAddr, user: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        self.per_group.check_key(&group).map_err(|n| self.block(Subject::Group(group), n.wait_time_from(now)))?;
        if let Some(wide) = wide_of(group) {
            self.per_wide.check_key(&wide).map_err(|n| self.block(Subject::Wide(wide), n.wait_time_from(now)))?;
        }
        let pair = (group, user.to_owned());
        self.per_pair
            .check_key(&pair)
            .map_err(|n| self.block(Subject::Pair(group, user.to_owned()), n.wait_time_from(now)))
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

    /// How long `group` is still refused for refusals, if it is (nothing is taken).
    pub fn refusing(&self, group: IpAddr) -> Option<Duration> {
        self.blocked.lock().get(&Subject::Refusals(group)).and_then(|u| u.checked_duration_since(Instant::now()))
    }

    /// How many subjects are refused for now (or were, and are not forgotten yet).
    #[cfg(test)]
    pub(super) fn blocked_len(&self) -> usize {
        self.blocked.lock().len()
    }

    /// Forgets subjects that have been quiet.
    pub fn forget_idle(&self) {
        let now = Instant::now();
        self.blocked.lock().retain(|_, until| *until > now);
        self.per_group.retain_recent();
        self.per_wide.retain_recent();
        self.per_pair.retain_recent();
        self.per_user.retain_recent();
        self.per_device.retain_recent();
        self.refusals.retain_recent();
        self.per_group.shrink_to_fit();
        self.per_wide.shrink_to_fit();
        self.per_pair.shrink_to_fit();
        self.per_user.shrink_to_fit();
        self.per_device.shrink_to_fit();
        self.refusals.shrink_to_fit();
    }
}
