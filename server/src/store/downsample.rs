//! At most N points, or N buckets, for a range: what `GET /api/history?points=N` returns.
//!
//! Points are thinned by keeping, for each of `N / 2` equal slices of the range, its lowest and its
//! highest point, so that a spike or a dip of one sample is never averaged away. Buckets are merged
//! into at most `N` equal slices of the range, each keeping the lowest min, the highest max, the
//! mean weighted by count, the latest last and the summed count.
//!
//! [`PointThinner`] and [`BucketThinner`] take their input one item at a time, in time order, and
//! hold at most about `N` items whatever the range holds: the store streams chunks into them. The
//! slice functions [`points`] and [`buckets`] take a whole slice; input out of order is sorted
//! first (a copy). Output is always in time order.

use super::rollup::in_time_order;
use super::{Bucket, Point};

/// The points of `points` in `[from, to]`, all of them when there are at most `max`, else the
/// lowest and the highest (in time order, one point when they are the same) of each non-empty
/// slice of `[from, to]` cut into `max / 2` equal ones.
///
/// Never more than `max` points: `max` 0 gives none, and `max` 1, too few for a low and a high,
/// gives the latest point of the range (the current value).
pub fn points(points: &[Point], from: u64, to: u64, max: usize) -> Vec<Point> {
    let mut thinner = PointThinner::new(from, to, max);
    for p in in_time_order(points, |p| p.t).iter() {
        thinner.push(*p);
    }
    thinner.finish()
}

/// The buckets of `buckets` overlapping `[from, to]`, all of them when there are at most `max`,
/// else merged into one for each non-empty slice of `[from, to]` cut into `max` equal ones (the
/// merged bucket starts where its first bucket does).
///
/// A bucket carries its start but not its width, so "overlapping" is read as: starting in
/// `[from, to]`, or the latest one starting before `from`, which holds `from` unless the series
/// has a hole there (the store's reader passes only buckets that overlap). `max` 0 gives none.
pub fn buckets(buckets: &[Bucket], from: u64, to: u64, max: usize) -> Vec<Bucket> {
    let mut thinner = BucketThinner::new(from, to, max);
    for b in in_time_order(buckets, |b| b.t).iter() {
        thinner.push(*b);
    }
    thinner.finish()
}

/// A point and how many came before it in the range (which of two is the earlier).
type Ranked = (usize, Point);

/// [`points`], one point at a time (in time order): at most `max + 1` points held.
#[derive(Debug)]
pub struct PointThinner {
    from: u64,
    to: u64,
    max: usize,
    /// Every point so far, while there are at most `max`.
    all: Vec<Point>,
    seen: usize,
    latest: Option<Point>,
    /// The slice being filled: its number, its lowest and its highest point (each with its rank).
    current: Option<(u128, Ranked, Ranked)>,
    /// The lows and highs of the slices before it.
    thinned: Vec<Point>,
}

impl PointThinner {
    /// A thinner of `[from, to]` into at most `max` points.
    pub fn new(from: u64, to: u64, max: usize) -> Self {
        Self { from, to, max, all: Vec::new(), seen: 0, latest: None, current: None, thinned: Vec::new() }
    }

    /// Takes the next point (later than those before it); one outside `[from, to]` is ignored.
    pub fn push(&mut self, p: Point) {
        if self.from > self.to || p.t < self.from || p.t > self.to || self.max == 0 {
            return;
        }
        self.seen += 1;
        self.latest = Some(p);
        if self.seen <= self.max {
            self.all.push(p);
        } else {
            self.all = Vec::new();
        }
        if self.max < 2 {
            return;
        }
        let n = slice(p.t, self.from, self.to, self.max / 2);
        let ranked = (self.seen, p);
        match &mut self.current {
            Some((at, low, high)) if *at == n => {
                if p.v < low.1.v {
                    *low = ranked;
                }
                if p.v > high.1.v {
                    *high = ranked;
                }
            }
            _ => {
                self.close_slice();
                self.current = Some((n, ranked, ranked));
            }
        }
    }

    fn close_slice(&mut self) {
        if let Some((_, low, high)) = self.current.take() {
            let (first, second) = if high.0 < low.0 { (high, low) } else { (low, high) };
            self.thinned.push(first.1);
            if second.0 != first.0 {
                self.thinned.push(second.1);
            }
        }
    }

    /// The points kept, in time order.
    pub fn finish(mut self) -> Vec<Point> {
        if self.seen <= self.max {
            return self.all;
        }
        if self.max == 1 {
            return self.latest.into_iter().collect();
        }
        self.close_slice();
        self.thinned
    }
}

/// [`buckets`], one bucket at a time (in time order): at most about `2 * max` buckets held.
#[derive(Debug)]
pub struct BucketThinner {
    from: u64,
    to: u64,
    max: usize,
    /// The latest bucket starting at or before `from`, until one after it comes.
    head: Option<Bucket>,
    all: Vec<Bucket>,
    seen: usize,
    /// The slice being merged: its number and its sum so far.
    current: Option<(u128, Summary)>,
    merged: Vec<Bucket>,
}

impl BucketThinner {
    /// A thinner of `[from, to]` into at most `max` buckets.
    pub fn new(from: u64, to: u64, max: usize) -> Self {
        Self { from, to, max, head: None, all: Vec::new(), seen: 0, current: None, merged: Vec::new() }
    }

    /// Takes the next bucket (starting after those before it).
    pub fn push(&mut self, b: Bucket) {
        if self.from > self.to || b.t > self.to {
            return;
        }
        if b.t <= self.from {
            self.head = Some(b);
            return;
        }
        if let Some(head) = self.head.take() {
            self.take(head);
        }
        self.take(b);
    }

    fn take(&mut self, b: Bucket) {
        self.seen += 1;
        if self.seen <= self.max {
            self.all.push(b);
        } else {
            self.all = Vec::new();
        }
        if self.max == 0 {
            return;
        }
        let n = slice(b.t, self.from, self.to, self.max);
        match &mut self.current {
            Some((at, sum)) if *at == n => sum.add(&b),
            _ => {
                if let Some((_, sum)) = self.current.take() {
                    self.merged.extend(sum.bucket());
                }
                let mut sum = Summary::starting(b.t);
                sum.add(&b);
                self.current = Some((n, sum));
            }
        }
    }

    /// The buckets kept, in time order.
    pub fn finish(mut self) -> Vec<Bucket> {
        if let Some(head) = self.head.take() {
            self.take(head);
        }
        if self.seen <= self.max {
            return self.all;
        }
        if let Some((_, sum)) = self.current.take() {
            self.merged.extend(sum.bucket());
        }
        self.merged
    }
}

/// Buckets (or points, as buckets of one) summed up into one, as [`super::rollup::combine`] does,
/// one at a time: the same arithmetic in the same order, so the same bits.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    t: u64,
    min: f64,
    max: f64,
    sum: f64,
    weight: f64,
    count: u32,
    last: Option<f64>,
}

impl Summary {
    /// An empty summary of a bucket starting at `t`.
    pub fn starting(t: u64) -> Self {
        Self { t, min: f64::INFINITY, max: f64::NEG_INFINITY, sum: 0.0, weight: 0.0, count: 0, last: None }
    }

    /// Where the bucket it sums up starts.
    pub fn start(&self) -> u64 {
        self.t
    }

    /// Adds a bucket (a count of 0 weighs in the mean as one).
    pub fn add(&mut self, b: &Bucket) {
        self.min = self.min.min(b.min);
        self.max = self.max.max(b.max);
        let w = f64::from(b.count.max(1));
        self.sum += b.mean * w;
        self.weight += w;
        self.count = self.count.saturating_add(b.count);
        self.last = Some(b.last);
    }

    /// Adds a point.
    pub fn add_point(&mut self, p: Point) {
        self.add(&Bucket { t: p.t, min: p.v, max: p.v, mean: p.v, last: p.v, count: 1 });
    }

    /// The bucket it sums up; `None` when nothing was added.
    pub fn bucket(&self) -> Option<Bucket> {
        let last = self.last?;
        Some(Bucket { t: self.t, min: self.min, max: self.max, mean: self.sum / self.weight, last, count: self.count })
    }
}

/// Which of `n` equal slices of `[from, to]` time `t` falls in (a time before `from` in the first).
fn slice(t: u64, from: u64, to: u64, n: usize) -> u128 {
    let span = u128::from(to - from) + 1;
    u128::from(t.saturating_sub(from)) * n as u128 / span
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::rollup::{combine, roll};

    /// `n` points 10 ms apart from `start`, a noisy wave between about 40 and 60.
    fn wave(start: u64, n: u64) -> Vec<Point> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let noise = (state % 1000) as f64 / 1000.0;
                Point { t: start + i * 10, v: 50.0 + 8.0 * (i as f64 / 5000.0).sin() + noise }
            })
            .collect()
    }

    fn assert_ordered_within(points: &[Point], from: u64, to: u64) {
        assert!(points.windows(2).all(|w| w[0].t < w[1].t), "not in time order");
        assert!(points.iter().all(|p| (from..=to).contains(&p.t)), "outside [{from}, {to}]");
    }

    #[test]
    fn a_one_sample_spike_and_dip_survive() {
        let mut points = wave(1_000_000, 100_000);
        let (spike, dip) = (Point { t: points[54_321].t, v: 95.0 }, Point { t: points[77_777].t, v: 3.0 });
        (points[54_321], points[77_777]) = (spike, dip);
        let (from, to) = (points[0].t, points[99_999].t);
        for max in [2, 3, 10, 100, 101, 1000] {
            let out = super::points(&points, from, to, max);
            assert!(out.len() <= max && out.len() >= max / 2, "{} for {max}", out.len());
            assert_ordered_within(&out, from, to);
            assert!(out.contains(&spike) && out.contains(&dip), "max {max}: {out:?}");
        }
        // The same in a window that starts and ends inside the data.
        let out = super::points(&points, spike.t - 5000, dip.t + 5000, 100);
        assert!(out.len() <= 100 && out.contains(&spike) && out.contains(&dip));
        assert_ordered_within(&out, spike.t - 5000, dip.t + 5000);
    }

    #[test]
    fn each_slice_keeps_its_low_and_its_high_in_time_order() {
        let v = |t, v| Point { t, v };
        let points =
            [v(0, 5.0), v(1, 9.0), v(2, 1.0), v(3, 4.0), v(4, 4.0), v(5, 7.0), v(6, 7.0), v(7, 7.0), v(9, 2.0)];
        // Four slices of [0, 9]: 0-2 (a high, then a low), 3-4 and 5-7 (flat: one point), 8-9.
        assert_eq!(super::points(&points, 0, 9, 9), points);
        assert_eq!(super::points(&points, 0, 9, 8), [v(1, 9.0), v(2, 1.0), v(3, 4.0), v(5, 7.0), v(9, 2.0)]);
        assert_eq!(super::points(&points, 0, 9, 2), [v(1, 9.0), v(2, 1.0)]);
        assert_eq!(super::points(&points, 0, 9, 1), [v(9, 2.0)]);
        assert_eq!(super::points(&points, 0, 9, 0), []);
        assert_eq!(super::points(&points, 3, 6, 8), [v(3, 4.0), v(4, 4.0), v(5, 7.0), v(6, 7.0)]);
    }

    #[test]
    fn empty_ranges_give_nothing() {
        let points = wave(1000, 1000);
        for (from, to) in [(0, 999), (20_000, 30_000), (5000, 4000), (u64::MAX, u64::MAX)] {
            assert_eq!(super::points(&points, from, to, 10), [], "[{from}, {to}]");
        }
        assert_eq!(super::points(&[], 0, u64::MAX, 10), []);
        let buckets = roll(&points, 100);
        for (from, to) in [(0, 999), (5000, 4000)] {
            assert_eq!(super::buckets(&buckets, from, to, 10), [], "[{from}, {to}]");
        }
        assert_eq!(super::buckets(&[], 0, u64::MAX, 10), []);
    }

    #[test]
    fn the_whole_time_line_and_unordered_input_are_handled() {
        let points = wave(0, 10_000);
        let out = super::points(&points, 0, u64::MAX, 50);
        assert!(!out.is_empty() && out.len() <= 50);
        let mut shuffled = points.clone();
        shuffled.reverse();
        assert_eq!(super::points(&shuffled, 100, 60_000, 64), super::points(&points, 100, 60_000, 64));
        let buckets = roll(&points, 1000);
        let mut reversed = buckets.clone();
        reversed.reverse();
        assert_eq!(super::buckets(&reversed, 0, u64::MAX, 7), super::buckets(&buckets, 0, u64::MAX, 7));
    }

    #[test]
    fn buckets_merge_into_at_most_max_that_sum_up_the_range() {
        let points = wave(1_000_000, 100_000);
        let minutes = roll(&points, 60_000);
        let (from, to) = (minutes[0].t, points[99_999].t);
        let all = combine(&minutes, minutes[0].t).expect("some");
        for max in [1, 2, 5, 7, 10] {
            let out = super::buckets(&minutes, from, to, max);
            assert!(!out.is_empty() && out.len() <= max, "{} for {max}", out.len());
            assert!(out.windows(2).all(|w| w[0].t < w[1].t));
            assert!(out.iter().all(|b| minutes.iter().any(|m| m.t == b.t)), "a group starts on a bucket");
            let merged = combine(&out, out[0].t).expect("some");
            assert_eq!((merged.min, merged.max, merged.last, merged.count), (all.min, all.max, all.last, all.count));
            assert!((merged.mean - all.mean).abs() < 1e-9);
        }
        assert_eq!(super::buckets(&minutes, from, to, minutes.len()), minutes);
        assert_eq!(super::buckets(&minutes, from, to, 0), []);
    }

    #[test]
    fn the_bucket_holding_from_is_kept_and_earlier_ones_are_not() {
        let b = |t| Bucket { t, min: 0.0, max: 1.0, mean: 0.5, last: 1.0, count: 2 };
        let buckets = [b(0), b(60), b(120), b(180), b(240)];
        let starts = |from, to| super::buckets(&buckets, from, to, 10).iter().map(|b| b.t).collect::<Vec<_>>();
        assert_eq!(starts(130, 200), [120, 180]);
        assert_eq!(starts(120, 120), [120]);
        assert_eq!(starts(10, 59), [0]);
        assert_eq!(starts(300, 400), [240]);
        let merged = super::buckets(&buckets, 130, 300, 1);
        assert_eq!(merged, [Bucket { t: 120, min: 0.0, max: 1.0, mean: 0.5, last: 1.0, count: 6 }]);
    }
}
