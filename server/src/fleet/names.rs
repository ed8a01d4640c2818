//! Source names for the fleet's hosts, and the stable hash behind them and behind each host's
//! fetch offset.
//!
//! A target's name (its `name` label, else the target as written) may be up to 1024 characters of
//! anything, while a source name is 1 to 40 of `[A-Za-z0-9-_.:]`. A name that is already a valid
//! source name, and not one of the configured sources', is kept as it is; any other becomes its
//! first [`PREFIX`] characters with every other character made `_`, then `-` and eight hex digits
//! of its [`stable_hash`]: `web_1_example_com_9100-3fa2c1d0`. The name depends on the target's
//! name alone (and the configured sources), so it is the same across reloads and restarts;
//! should two names still meet (a hash collision, or a target literally named like another's
//! hashed form), the later one is hashed again with a counter until it is unique.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::sources::spec::valid_name;

/// How many characters of a target's name a hashed source name keeps (40 less `-` and 8 digits).
pub const PREFIX: usize = 31;

/// 64-bit FNV-1a of `bytes`: the same on every machine and in every build (unlike the standard
/// library's hasher, whose algorithm may change), and good enough to spread offsets and tell
/// names apart (nothing here is adversarial: the targets file is the operator's own).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Where in each interval a target's fetches fall: its key's [`stable_hash`] modulo the interval
/// (as Prometheus spreads its scrapes), so that hundreds of hosts are not fetched at once and a
/// host keeps its place across reloads.
pub fn offset(key: &str, interval: Duration) -> Duration {
    let nanos = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX).max(1);
    Duration::from_nanos(stable_hash(key.as_bytes()) % nanos)
}

/// The hashed source name of `target` (see the module's text); `salt` 0 for the first try.
fn hashed(target: &str, salt: u32) -> String {
    let prefix: String = target
        .chars()
        .take(PREFIX)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':') { c } else { '_' })
        .collect();
    let mut key = target.as_bytes().to_vec();
    if salt > 0 {
        key.extend_from_slice(format!("#{salt}").as_bytes());
    }
    format!("{prefix}-{:08x}", stable_hash(&key) & 0xffff_ffff)
}

/// The source names in use: the configured sources' (reserved) and the hosts' (by target name).
#[derive(Debug, Default)]
pub struct Names {
    reserved: Vec<Arc<str>>,
    /// Source name -> the target name it was given to.
    taken: HashMap<Arc<str>, Arc<str>>,
}

impl Names {
    /// Names for hosts beside the configured sources `reserved`.
    pub fn new(reserved: impl IntoIterator<Item = Arc<str>>) -> Self {
        Self { reserved: reserved.into_iter().collect(), taken: HashMap::new() }
    }

    /// The source name for the target named `target`, now taken by it until [`Names::release`].
    pub fn assign(&mut self, target: &Arc<str>) -> Arc<str> {
        let free = |names: &Self, name: &str| {
            !names.reserved.iter().any(|r| &**r == name) && names.taken.get(name).is_none_or(|t| t == target)
        };
        let name = if valid_name(target).is_ok() && free(self, target) {
            target.clone()
        } else {
            let mut salt = 0;
            loop {
                let name = hashed(target, salt);
                if free(self, &name) {
                    break Arc::from(name);
                }
                salt += 1;
            }
        };
        self.taken.insert(name.clone(), target.clone());
        name
    }

    /// Frees `source` (its host was removed).
    pub fn release(&mut self, source: &str) {
        self.taken.remove(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::new([Arc::from("local")])
    }

    #[test]
    fn valid_names_stay_and_others_get_a_stable_hashed_name() {
        let mut n = names();
        assert_eq!(&*n.assign(&Arc::from("web-1:9100")), "web-1:9100");
        // Pinned (the README's example): the hash never changes between builds or machines.
        assert_eq!(&*n.assign(&Arc::from("http://db1/metrics")), "http:__db1_metrics-0218d1b2");
        let url = Arc::from("http://db.example.com:9100/metrics?x=1");
        let first = n.assign(&url);
        assert_eq!(&first[..PREFIX + 1], "http:__db.example.com:9100_metr-", "{first}");
        assert!(valid_name(&first).is_ok() && first.len() == 40, "{first}");
        // The same target gets the same name, in another run too (the hash is fixed).
        assert_eq!(names().assign(&url), first);
        assert_eq!(&*names().assign(&Arc::from("a b")), format!("a_b-{:08x}", stable_hash(b"a b") & 0xffff_ffff));
        // Too long, non-ASCII, empty-looking: all become valid names.
        for odd in ["x".repeat(41), "héllo wörld".to_owned(), "/".to_owned(), "ä".repeat(300)] {
            let name = names().assign(&Arc::from(odd.as_str()));
            assert!(valid_name(&name).is_ok(), "{odd:?} -> {name:?}");
        }
    }

    #[test]
    fn configured_names_and_collisions_get_distinct_names() {
        let mut n = names();
        let local = n.assign(&Arc::from("local"));
        assert_ne!(&*local, "local", "a configured source's name is not given to a host");
        assert!(local.starts_with("local-"), "{local}");
        // A target literally named like another's hashed form: both get distinct names.
        let a = n.assign(&Arc::from("a b"));
        let b = n.assign(&Arc::from(&*a));
        assert_ne!(a, b);
        // Released, a name is free again; assigning twice to the same target is stable.
        assert_eq!(n.assign(&Arc::from("a b")), a);
        n.release(&a);
        assert_eq!(n.assign(&Arc::from(&*a)), a, "the literal name is free once its holder went");
    }

    #[test]
    fn offsets_are_stable_within_the_interval_and_spread() {
        let interval = Duration::from_secs(15);
        assert_eq!(offset("http://web-1:9100/metrics", interval), offset("http://web-1:9100/metrics", interval));
        let mut buckets = [0u32; 10];
        for i in 0..1000 {
            let o = offset(&format!("http://10.0.{}.{}:9100/metrics", i / 250, i % 250), interval);
            assert!(o < interval);
            buckets[usize::try_from(o.as_millis() * 10 / interval.as_millis()).expect("small")] += 1;
        }
        // 100 expected in each tenth of the interval; none far off.
        assert!(buckets.iter().all(|&n| (60..=140).contains(&n)), "{buckets:?}");
        assert_eq!(offset("x", Duration::ZERO), Duration::ZERO);
    }
}
