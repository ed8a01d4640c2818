//! A bounded ring of recent items, by count and by age, that knows what it has forgotten.
//!
//! The hub keeps one per source. It feeds the first paint, the `hello` frame and resume:
//! a client that reconnects with `?since=N` gets exactly the items after `N` when none of them
//! has been evicted yet ([`Ring::after`]), and a full `hello` otherwise.

use std::collections::VecDeque;

/// Something with a sequence number and a time stamp.
pub trait Stamped {
    /// Strictly increasing across everything pushed into one ring.
    fn seq(&self) -> u64;
    /// Milliseconds since the Unix epoch.
    fn ts_ms(&self) -> u64;
    /// What keeping it costs, in bytes, for a ring bounded by bytes (0 when nobody counts).
    fn bytes(&self) -> usize {
        0
    }
}

impl Stamped for crate::Sample {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn ts_ms(&self) -> u64 {
        self.ts_ms
    }
}

impl<T: Stamped> Stamped for std::sync::Arc<T> {
    fn seq(&self) -> u64 {
        (**self).seq()
    }
    fn ts_ms(&self) -> u64 {
        (**self).ts_ms()
    }
    fn bytes(&self) -> usize {
        (**self).bytes()
    }
}

/// The last items, at most `max_len` of them and none older than `max_age_ms`.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    items: VecDeque<T>,
    max_len: usize,
    max_age_ms: u64,
    /// The highest sequence number ever evicted (0: nothing evicted yet).
    evicted_upto: u64,
    /// What the items cost together ([`Stamped::bytes`]).
    bytes: usize,
}

impl<T: Stamped> Ring<T> {
    /// An empty ring; `max_len` is at least 1.
    pub fn new(max_len: usize, max_age_ms: u64) -> Self {
        let max_len = max_len.max(1);
        Self { items: VecDeque::with_capacity(max_len.min(4096)), max_len, max_age_ms, evicted_upto: 0, bytes: 0 }
    }

    /// Appends an item and evicts what is now too many or older than `now_ms - max_age_ms`.
    pub fn push(&mut self, item: T, now_ms: u64) {
        self.bytes += item.bytes();
        self.items.push_back(item);
        while self.items.len() > self.max_len {
            self.evict_front();
        }
        self.evict_older_than(now_ms.saturating_sub(self.max_age_ms));
    }

    /// Evicts every item stamped before `cutoff_ms`.
    pub fn evict_older_than(&mut self, cutoff_ms: u64) {
        while self.items.front().is_some_and(|i| i.ts_ms() < cutoff_ms) {
            self.evict_front();
        }
    }

    fn evict_front(&mut self) {
        self.pop_oldest();
    }

    /// Evicts the oldest item and returns it (for a budget kept across several rings).
    pub fn pop_oldest(&mut self) -> Option<T> {
        let old = self.items.pop_front()?;
        self.evicted_upto = self.evicted_upto.max(old.seq());
        self.bytes -= old.bytes();
        Some(old)
    }

    /// What the items cost together, in bytes ([`Stamped::bytes`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The items, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    /// The newest item.
    pub fn latest(&self) -> Option<&T> {
        self.items.back()
    }

    /// How many items it holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The highest sequence number ever evicted (0 when nothing was).
    pub fn evicted_upto(&self) -> u64 {
        self.evicted_upto
    }

    /// Exactly the items with a sequence number above `seq`, or `None` when some of them may
    /// already have been evicted (the caller then sends everything it has instead).
    pub fn after(&self, seq: u64) -> Option<impl Iterator<Item = &T>> {
        if seq < self.evicted_upto {
            return None;
        }
        // Items are in seq order: skip the prefix at or below `seq`.
        let start = self.items.partition_point(|i| i.seq() <= seq);
        Some(self.items.range(start..))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Item(u64, u64);
    impl Stamped for Item {
        fn seq(&self) -> u64 {
            self.0
        }
        fn ts_ms(&self) -> u64 {
            self.1
        }
    }

    fn seqs<'a>(it: impl Iterator<Item = &'a Item>) -> Vec<u64> {
        it.map(|i| i.0).collect()
    }

    #[test]
    fn keeps_at_most_max_len_newest() {
        let mut ring = Ring::new(3, u64::MAX);
        for s in 1..=5 {
            ring.push(Item(s, s), s);
        }
        assert_eq!(seqs(ring.iter()), [3, 4, 5]);
        assert_eq!(ring.latest(), Some(&Item(5, 5)));
        assert_eq!(ring.evicted_upto(), 2);
    }

    #[test]
    fn evicts_by_age() {
        let mut ring = Ring::new(100, 1000);
        ring.push(Item(1, 0), 0);
        ring.push(Item(2, 600), 600);
        ring.push(Item(3, 1200), 1200);
        assert_eq!(seqs(ring.iter()), [2, 3], "item 1 is 1200 ms old");
        ring.evict_older_than(1000);
        assert_eq!(seqs(ring.iter()), [3]);
        assert_eq!(ring.evicted_upto(), 2);
    }

    #[test]
    fn after_gives_exactly_the_missing_items() {
        let mut ring = Ring::new(4, u64::MAX);
        // Sequence numbers are global: other sources take some, so this ring has gaps.
        for s in [2, 5, 6, 9, 12, 13] {
            ring.push(Item(s, s), s);
        }
        // Holds 6, 9, 12, 13; 2 and 5 are gone.
        assert_eq!(seqs(ring.after(9).expect("resumable")), [12, 13]);
        assert_eq!(seqs(ring.after(7).expect("resumable")), [9, 12, 13]);
        assert_eq!(seqs(ring.after(5).expect("resumable")), [6, 9, 12, 13]);
        assert_eq!(seqs(ring.after(13).expect("resumable")), Vec::<u64>::new());
        assert_eq!(seqs(ring.after(99).expect("resumable")), Vec::<u64>::new());
        assert!(ring.after(4).is_none(), "seq 5 was evicted: cannot resume after 4");
        assert!(ring.after(0).is_none());
    }

    #[test]
    fn fresh_ring_resumes_from_zero() {
        let mut ring = Ring::new(10, u64::MAX);
        assert!(ring.is_empty());
        ring.push(Item(1, 1), 1);
        assert_eq!(seqs(ring.after(0).expect("nothing evicted")), [1]);
        assert_eq!(ring.len(), 1);
    }

    #[derive(Debug)]
    struct Sized(u64, usize);
    impl Stamped for Sized {
        fn seq(&self) -> u64 {
            self.0
        }
        fn ts_ms(&self) -> u64 {
            self.0
        }
        fn bytes(&self) -> usize {
            self.1
        }
    }

    #[test]
    fn counts_the_bytes_it_holds_through_every_eviction() {
        let mut ring = Ring::new(3, 100);
        for (seq, bytes) in [(1, 10), (2, 20), (3, 30), (4, 40)] {
            ring.push(Sized(seq, bytes), seq);
        }
        assert_eq!(ring.bytes(), 90, "the first fell out by count");
        assert_eq!(ring.pop_oldest().map(|s| s.0), Some(2));
        assert_eq!((ring.bytes(), ring.evicted_upto()), (70, 2));
        ring.push(Sized(200, 5), 200);
        assert_eq!(ring.bytes(), 5, "3 and 4 fell out by age");
        assert!(ring.after(3).is_none());
    }

    #[test]
    fn zero_capacity_still_keeps_the_latest() {
        let mut ring = Ring::new(0, u64::MAX);
        ring.push(Item(1, 1), 1);
        ring.push(Item(2, 2), 2);
        assert_eq!(seqs(ring.iter()), [2]);
    }
}
