//! Bounds on the map of who is refused until when ([`super::throttle::Throttle`]): how long a
//! subject may be refused, and how many subjects may be refused at once, so that whoever writes
//! the cluster's shared store (its `blocks` stream) can neither refuse a user for centuries nor
//! grow this map without bound by naming millions of distinct subjects.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The longest wait a budget gives: one attempt's share of a minute at one attempt a minute.
/// A spent budget told by another instance is never refused for longer.
pub const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// The most subjects refused at once. A writer of the shared store can name millions of distinct
/// subjects; beyond this the map is cut down (see [`bound`]). About 100 bytes each: some 6 MiB.
pub const MOST_BLOCKED: usize = 65_536;

/// Makes room in a full map of who is refused until when: the expired go first, then, while it
/// is still full, the half that ends soonest (cut in one pass, so that a flood costs a constant
/// time per entry). Dropping an entry loses only the quick refusal: the budget that was spent
/// still refuses its subject's next attempt (here, or in the shared store), which blocks it anew.
pub(super) fn bound<K: Eq + std::hash::Hash>(blocked: &mut HashMap<K, Instant>, now: Instant) {
    if blocked.len() < MOST_BLOCKED {
        return;
    }
    blocked.retain(|_, until| *until > now);
    if blocked.len() < MOST_BLOCKED {
        return;
    }
    let mut ends: Vec<Instant> = blocked.values().copied().collect();
    let (_, median, _) = ends.select_nth_unstable(MOST_BLOCKED / 2);
    let median = *median;
    blocked.retain(|_, until| *until > median);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_drops_the_expired_then_the_half_that_ends_soonest() {
        let now = Instant::now();
        let mut blocked: HashMap<u32, Instant> = HashMap::new();
        let mut most = 0;
        for i in 0..(3 * MOST_BLOCKED as u32) {
            bound(&mut blocked, now);
            blocked.insert(i, now + Duration::from_millis(u64::from(i % 1000) + 1));
            most = most.max(blocked.len());
        }
        assert!(most <= MOST_BLOCKED, "at most {MOST_BLOCKED}, held {most}");
        let longest = now + Duration::from_millis(1000);
        blocked.insert(u32::MAX, longest);
        for i in 0..(MOST_BLOCKED as u32) {
            bound(&mut blocked, now);
            blocked.insert(i, now + Duration::from_millis(1));
        }
        assert_eq!(blocked.get(&u32::MAX), Some(&longest), "the longest wait outlives the cuts");
        let mut expired: HashMap<u32, Instant> = (0..MOST_BLOCKED as u32).map(|i| (i, now)).collect();
        bound(&mut expired, now + Duration::from_millis(1));
        assert!(expired.is_empty(), "the expired go first");
    }
}
