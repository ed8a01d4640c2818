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
    /// A device, by a digest of its cookie's nonce ([`Subject::device`]).
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
    limits: LoginLimits,
}

impl Subject {
    /// The subject of the device whose cookie holds `nonce`: by the nonce's SHA-256 (its first
    /// half), so that the shared store (a budget's key, the blocks stream) never holds a nonce.
    /// A plain hash suffices: the nonce is 128 random bits, which nobody can search for, and a
    /// nonce alone proves nothing anyway (the cookie is signed, and the password still checked).
    fn device(nonce: [u8; NONCE_LEN]) -> Self {
        use sha2::{Digest, Sha256};
        let mut digest = [0u8; NONCE_LEN];
        digest.copy_from_slice(&Sha256::digest(nonce)[..NONCE_LEN]);
        Self::Device(digest)
    }

    /// Its key in the shared store: a letter for the kind, then its parts, `|`-separated (a user
    /// name cannot hold `:`, an address never holds `|`).
    fn key(&self) -> String {
        match self {
            Self::Group(ip) => format!("g|{ip}"),
            Self::Pair(ip, user) => format!("p|{ip}|{user}"),
            Self::User(user) => format!("u|{user}"),
            Self::Device(digest) => format!("d|{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>()),
            Self::Refusals(ip) => format!("r|{ip}"),
        }
    }

    /// The subject of a key made by [`Subject::key`].
    fn parse(key: &str) -> Option<Self> {
        let (kind, rest) = key.split_once('|')?;
        Some(match kind {
            "g" => Self::Group(rest.parse().ok()?),
            "p" => {
                let (ip, user) = rest.split_once('|')?;
                Self::Pair(ip.parse().ok()?, user.to_owned())
            }
            "u" => Self::User(rest.to_owned()),
            "d" if rest.len() == 2 * NONCE_LEN => {
                let mut nonce = [0u8; NONCE_LEN];
                for (i, b) in nonce.iter_mut().enumerate() {
                    *b = u8::from_str_radix(rest.get(2 * i..2 * i + 2)?, 16).ok()?;
                }
                Self::Device(nonce)
            }
            "r" => Self::Refusals(rest.parse().ok()?),
            _ => return None,
        })
    }
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
            limits,
        }
    }

    /// The budgets one password attempt of `who` takes from, in the order [`Throttle::check`]
    /// takes them, as the shared store keeps them.
    pub fn budgets(&self, who: Who<'_>) -> Vec<Budget> {
        let l = &self.limits;
        let subjects = match who {
            Who::Device(nonce) => vec![(Subject::device(nonce), l.per_device_per_minute)],
            Who::Untrusted { group, user } => vec![
                (Subject::Group(group), l.per_ip_per_minute),
                (Subject::Pair(group, user.to_owned()), l.per_ip_user_per_minute),
                (Subject::User(user.to_owned()), l.per_user_per_minute),
            ],
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
        let blocked = self.blocked.lock();
        if blocked.is_empty() {
            return None;
        }
        let now = Instant::now();
        let subjects = match who {
            Who::Device(nonce) => vec![Subject::device(nonce)],
            Who::Untrusted { group, user } => {
                vec![Subject::Group(group), Subject::Pair(group, user.to_owned()), Subject::User(user.to_owned())]
            }
        };
        subjects.iter().filter_map(|s| blocked.get(s)).filter_map(|until| until.checked_duration_since(now)).max()
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
    /// then the pair's, then the user's (an address over its limit never spends the user's budget,
    /// so one address cannot lock the user out). `Err` says how long to wait.
    pub fn check(&self, who: Who<'_>) -> Result<(), Duration> {
        let now = self.clock.now();
        match who {
            Who::Device(nonce) => {
                self.per_device.check_key(&nonce).map_err(|n| self.block(Subject::device(nonce), n.wait_time_from(now)))
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

    /// How long `group` is still refused for refusals, if it is (nothing is taken).
    pub fn refusing(&self, group: IpAddr) -> Option<Duration> {
        self.blocked.lock().get(&Subject::Refusals(group)).and_then(|u| u.checked_duration_since(Instant::now()))
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
    use super::super::blocked::MOST_BLOCKED;
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
    fn budget_keys_name_their_subjects_and_read_back() {
        let throttle = Throttle::new(limits(10, 5, 30));
        let v6: IpAddr = "2001:db8::".parse().expect("address");
        let keys: Vec<String> =
            throttle.budgets(Who::Untrusted { group: v6, user: "ad|min" }).into_iter().map(|b| b.key).collect();
        assert_eq!(keys, ["g|2001:db8::", "p|2001:db8::|ad|min", "u|ad|min"]);
        let per_minute: Vec<u32> =
            throttle.budgets(Who::Untrusted { group: v6, user: "x" }).into_iter().map(|b| b.per_minute).collect();
        assert_eq!(per_minute, [10, 5, 30]);
        let device = throttle.budgets(Who::Device([0xab; NONCE_LEN]));
        assert!(device[0].key.starts_with("d|") && device[0].key.len() == 2 + 2 * NONCE_LEN, "{}", device[0].key);
        assert!(!device[0].key.contains(&"ab".repeat(NONCE_LEN)), "the nonce is hashed: {}", device[0].key);
        for key in keys.iter().chain([&device[0].key]) {
            assert_eq!(Subject::parse(key).map(|s| s.key()).as_deref(), Some(key.as_str()), "{key}");
        }
        for bad in ["", "g|", "g|not-an-ip", "p|10.0.0.1", "d|abc", "x|y", "d|zz", "|"] {
            assert!(Subject::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_subject_blocked_by_a_peer_is_refused_here() {
        let throttle = Throttle::new(limits(10, 5, 30));
        let who = Who::Untrusted { group: IpAddr::from([10, 0, 0, 1]), user: "admin" };
        assert!(throttle.blocked(who).is_none());
        throttle.block_key("u|admin", Duration::from_secs(20));
        throttle.block_key("u|admin", Duration::from_secs(5));
        let wait = throttle.blocked(who).expect("blocked");
        assert!(wait > Duration::from_secs(19), "the longer wait stands: {wait:?}");
        throttle.block_key("nonsense", Duration::from_secs(5));
        assert!(throttle.blocked(Who::Untrusted { group: IpAddr::from([10, 0, 0, 1]), user: "bob" }).is_none());
    }

    #[test]
    fn a_peer_cannot_block_for_longer_than_a_budget_can_and_the_map_stays_bounded() {
        let throttle = Throttle::new(limits(10, 5, 30));
        let who = Who::Untrusted { group: IpAddr::from([10, 0, 0, 1]), user: "admin" };
        throttle.block_key("u|admin", Duration::from_secs(100 * 365 * 24 * 3600));
        let wait = throttle.blocked(who).expect("blocked");
        assert!(wait <= LONGEST_WAIT && wait > LONGEST_WAIT - Duration::from_secs(5), "capped: {wait:?}");
        for i in 0..(MOST_BLOCKED as u32 + 1000) {
            throttle.block_key(&format!("u|flood{i}"), Duration::from_secs(1 + u64::from(i % 30)));
        }
        assert!(throttle.blocked.lock().len() <= MOST_BLOCKED, "bounded");
        assert!(throttle.blocked(who).is_some(), "the longest wait was kept");
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
