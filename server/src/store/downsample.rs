//! At most N points, or N buckets, for a range: what `GET /api/history?points=N` returns.
//!
//! Points are thinned by keeping, for each of `N / 2` equal slices of the range, its lowest and its
//! highest point, so that a spike or a dip of one sample is never averaged away. Buckets are merged
//! into at most `N` equal slices of the range, each keeping the lowest min, the highest max, the
//! mean weighted by count, the latest last and the summed count.
//!
//! Input is expected in time order, as the store reads it; input out of order is sorted first (a
//! copy). Output is always in time order.

use super::rollup::{combine, in_time_order};
use super::{Bucket, Point};

/// The points of `points` in `[from, to]`, all of them when there are at most `max`, else the
/// lowest and the highest (in time order, one point when they are the same) of each non-empty
/// slice of `[from, to]` cut into `max / 2` equal ones.
///
/// Never more than `max` points: `max` 0 gives none, and `max` 1, too few for a low and a high,
/// gives the latest point of the range (the current value).
pub fn points(points: &[Point], from: u64, to: u64, max: usize) -> Vec<Point> {
    let points = in_time_order(points, |p| p.t);
    let inside = within(&points, from, to);
    if inside.len() <= max {
        return inside.to_vec();
    }
    match max {
        0 => return Vec::new(),
        1 => return inside.last().copied().into_iter().collect(),
        _ => {}
    }
    let slices = max / 2;
    let mut out = Vec::with_capacity(max);
    for run in inside.chunk_by(|a, b| slice(a.t, from, to, slices) == slice(b.t, from, to, slices)) {
        let (mut low, mut high) = (0, 0);
        for (i, p) in run.iter().enumerate() {
            if p.v < run[low].v {
                low = i;
            }
            if p.v > run[high].v {
                high = i;
            }
        }
        out.push(run[low.min(high)]);
        if low != high {
            out.push(run[low.max(high)]);
        }
    }
    out
}

/// The buckets of `buckets` overlapping `[from, to]`, all of them when there are at most `max`,
/// else merged into one for each non-empty slice of `[from, to]` cut into `max` equal ones (the
/// merged bucket starts where its first bucket does).
///
/// A bucket carries its start but not its width, so "overlapping" is read as: starting in
/// `[from, to]`, or the latest one starting before `from`, which holds `from` unless the series
/// has a hole there (the store's reader passes only buckets that overlap). `max` 0 gives none.
pub fn buckets(buckets: &[Bucket], from: u64, to: u64, max: usize) -> Vec<Bucket> {
    if from > to {
        return Vec::new();
    }
    let buckets = in_time_order(buckets, |b| b.t);
    // From the latest bucket starting at or before `from` to the last starting at or before `to`.
    let start = buckets.partition_point(|b| b.t <= from).saturating_sub(1);
    let end = buckets.partition_point(|b| b.t <= to).max(start);
    let inside = &buckets[start..end];
    if inside.len() <= max {
        return inside.to_vec();
    }
    if max == 0 {
        return Vec::new();
    }
    inside
        .chunk_by(|a, b| slice(a.t, from, to, max) == slice(b.t, from, to, max))
        .filter_map(|run| combine(run, run.first()?.t))
        .collect()
}

/// The points of `points` (in time order) in `[from, to]`.
fn within(points: &[Point], from: u64, to: u64) -> &[Point] {
    if from > to {
        return &[];
    }
    let start = points.partition_point(|p| p.t < from);
    let end = points.partition_point(|p| p.t <= to);
    &points[start..end.max(start)]
}

/// Which of `n` equal slices of `[from, to]` time `t` falls in (a time before `from` in the first).
fn slice(t: u64, from: u64, to: u64, n: usize) -> u128 {
    let span = u128::from(to - from) + 1;
    u128::from(t.saturating_sub(from)) * n as u128 / span
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::rollup::roll;

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
