//! Roll-ups: points into buckets of a fixed width, and buckets into coarser ones.
//!
//! A bucket of width `w` starts at a multiple of `w` and sums up the points in `[t, t + w)`: their
//! lowest and highest value, their arithmetic mean, the value of the latest and how many there
//! were. A stretch of time without points has no bucket (nothing is filled with zeros).
//!
//! Input is expected in time order, as the store keeps it, and is then read in one pass. Input
//! out of order is sorted first (a stable sort of a copy), so the result is the same, and of
//! points or buckets at the same millisecond the later in the slice counts as the latest.

use std::borrow::Cow;

use super::{Bucket, Point};

/// `points` in buckets of `width_ms` (a width of 0 is taken as 1 ms).
pub fn roll(points: &[Point], width_ms: u64) -> Vec<Bucket> {
    let width = width_ms.max(1);
    let points = in_time_order(points, |p| p.t);
    points.chunk_by(|a, b| a.t / width == b.t / width).filter_map(|run| summary(run, width)).collect()
}

/// `buckets` in coarser buckets of `width_ms` (a width of 0 is taken as 1 ms): the lowest min,
/// the highest max, the mean of the means weighted by count, the latest's last, the counts summed.
pub fn merge(buckets: &[Bucket], width_ms: u64) -> Vec<Bucket> {
    let width = width_ms.max(1);
    let buckets = in_time_order(buckets, |b| b.t);
    buckets
        .chunk_by(|a, b| a.t / width == b.t / width)
        .filter_map(|run| combine(run, run.first()?.t / width * width))
        .collect()
}

/// `buckets` (in time order) taken as one that starts at `t`, as [`merge`] combines them; `None`
/// for none. A bucket with a count of 0, which [`roll`] never makes, weighs in the mean as one.
pub fn combine(buckets: &[Bucket], t: u64) -> Option<Bucket> {
    let latest = buckets.last()?;
    let (mut min, mut max, mut sum, mut weight, mut count) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0, 0u32);
    for b in buckets {
        min = min.min(b.min);
        max = max.max(b.max);
        let w = f64::from(b.count.max(1));
        sum += b.mean * w;
        weight += w;
        count = count.saturating_add(b.count);
    }
    Some(Bucket { t, min, max, mean: sum / weight, last: latest.last, count })
}

/// The bucket of width `width` that `run` (points of one bucket, in time order) falls in.
fn summary(run: &[Point], width: u64) -> Option<Bucket> {
    let (first, latest) = (run.first()?, run.last()?);
    let (mut min, mut max, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
    for p in run {
        min = min.min(p.v);
        max = max.max(p.v);
        sum += p.v;
    }
    let count = u32::try_from(run.len()).unwrap_or(u32::MAX);
    Some(Bucket { t: first.t / width * width, min, max, mean: sum / run.len() as f64, last: latest.v, count })
}

/// `items` in time order: as they are when they already are, else a sorted copy.
pub(super) fn in_time_order<T: Clone>(items: &[T], t: impl Fn(&T) -> u64) -> Cow<'_, [T]> {
    if items.is_sorted_by_key(&t) {
        Cow::Borrowed(items)
    } else {
        let mut sorted = items.to_vec();
        sorted.sort_by_key(t);
        Cow::Owned(sorted)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const MINUTE: u64 = 60_000;
    const HOUR: u64 = 3_600_000;
    /// A start that is not on a minute, let alone an hour.
    const START: u64 = 1_760_000_012_345;

    /// Five hours of points at irregular spacing (0.5 s to 20 s), with a 40-minute hole.
    fn points() -> Vec<Point> {
        let (mut t, mut state, mut out) = (START, 0x2545_f491_4f6c_dd1du64, Vec::new());
        while t < START + 5 * HOUR {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if !(START + HOUR..START + HOUR + 40 * MINUTE).contains(&t) {
                out.push(Point { t, v: (state % 10_000) as f64 / 100.0 - 20.0 });
            }
            t += 500 + state % 19_500;
        }
        out
    }

    /// The buckets of `points` computed the plain way: group by start, then sum up each group.
    fn direct(points: &[Point], width: u64) -> Vec<Bucket> {
        let mut groups: BTreeMap<u64, Vec<Point>> = BTreeMap::new();
        for p in points {
            groups.entry(p.t / width * width).or_default().push(*p);
        }
        groups
            .into_iter()
            .map(|(t, ps)| {
                let values: Vec<f64> = ps.iter().map(|p| p.v).collect();
                let latest = ps.iter().max_by_key(|p| p.t).expect("a group has points");
                Bucket {
                    t,
                    min: values.iter().copied().fold(f64::INFINITY, f64::min),
                    max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    mean: values.iter().sum::<f64>() / values.len() as f64,
                    last: latest.v,
                    count: ps.len() as u32,
                }
            })
            .collect()
    }

    fn assert_close(got: &[Bucket], want: &[Bucket]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.t, g.min, g.max, g.last, g.count), (w.t, w.min, w.max, w.last, w.count));
            assert!((g.mean - w.mean).abs() <= 1e-9 * w.mean.abs().max(1.0), "{g:?} against {w:?}");
        }
    }

    #[test]
    fn rolled_buckets_are_what_the_points_give() {
        let points = points();
        for width in [1000, MINUTE, 15 * MINUTE, HOUR] {
            assert_close(&roll(&points, width), &direct(&points, width));
        }
        let minutes = roll(&points, MINUTE);
        assert_eq!(minutes.iter().map(|b| u64::from(b.count)).sum::<u64>(), points.len() as u64);
    }

    #[test]
    fn buckets_start_on_multiples_of_their_width_and_hold_their_points() {
        let points = points();
        for width in [MINUTE, HOUR] {
            let buckets = roll(&points, width);
            assert!(buckets.iter().all(|b| b.t % width == 0));
            assert!(buckets.windows(2).all(|w| w[0].t < w[1].t));
            for p in &points {
                assert!(buckets.iter().any(|b| (b.t..b.t + width).contains(&p.t)), "{p:?}");
            }
        }
        let one = roll(&[Point { t: HOUR + 59_999, v: 1.0 }, Point { t: HOUR + 60_000, v: 2.0 }], MINUTE);
        assert_eq!(one.iter().map(|b| (b.t, b.count)).collect::<Vec<_>>(), [(HOUR, 1), (HOUR + MINUTE, 1)]);
    }

    #[test]
    fn empty_stretches_have_no_bucket() {
        let points = [Point { t: 0, v: 1.0 }, Point { t: 5 * MINUTE + 1, v: 2.0 }];
        assert_eq!(roll(&points, MINUTE).iter().map(|b| b.t).collect::<Vec<_>>(), [0, 5 * MINUTE]);
        let hole = START + HOUR + 10 * MINUTE;
        assert!(!roll(&self::points(), MINUTE).iter().any(|b| b.t == hole / MINUTE * MINUTE));
        assert_eq!(roll(&[], MINUTE), []);
        assert_eq!(merge(&[], HOUR), []);
        assert_eq!(combine(&[], 0), None);
    }

    #[test]
    fn minutes_merged_into_hours_equal_hours_rolled_from_points() {
        let points = points();
        assert_close(&merge(&roll(&points, MINUTE), HOUR), &roll(&points, HOUR));
        assert_close(&merge(&roll(&points, MINUTE), MINUTE), &roll(&points, MINUTE));
        let day = merge(&merge(&roll(&points, MINUTE), HOUR), 24 * HOUR);
        assert_close(&day, &roll(&points, 24 * HOUR));
    }

    #[test]
    fn the_mean_is_weighted_by_count_and_the_last_is_the_latest() {
        let a = Bucket { t: 0, min: 1.0, max: 3.0, mean: 2.0, last: 3.0, count: 3 };
        let b = Bucket { t: MINUTE, min: 10.0, max: 10.0, mean: 10.0, last: 10.0, count: 1 };
        let merged = merge(&[a, b], HOUR);
        assert_eq!(merged, [Bucket { t: 0, min: 1.0, max: 10.0, mean: 4.0, last: 10.0, count: 4 }]);
        let points = [Point { t: 10, v: 5.0 }, Point { t: 20, v: -1.0 }, Point { t: 30, v: 2.0 }];
        assert_eq!(roll(&points, MINUTE), [Bucket { t: 0, min: -1.0, max: 5.0, mean: 2.0, last: 2.0, count: 3 }]);
    }

    #[test]
    fn input_out_of_order_is_sorted_first() {
        let points = points();
        let mut shuffled = points.clone();
        shuffled.reverse();
        shuffled.swap(3, 400);
        assert_eq!(roll(&shuffled, MINUTE), roll(&points, MINUTE));
        let mut minutes = roll(&points, MINUTE);
        let hours = merge(&minutes, HOUR);
        minutes.reverse();
        assert_eq!(merge(&minutes, HOUR), hours);
        // Of two points at the same millisecond, the later in the slice is the latest.
        let same = [Point { t: 7, v: 1.0 }, Point { t: 3, v: 0.0 }, Point { t: 7, v: 2.0 }];
        assert_eq!(roll(&same, MINUTE)[0].last, 2.0);
    }

    #[test]
    fn a_width_of_zero_is_one_millisecond() {
        let points = [Point { t: 4, v: 1.0 }, Point { t: 4, v: 3.0 }, Point { t: 5, v: 2.0 }];
        assert_eq!(roll(&points, 0), roll(&points, 1));
        assert_eq!(roll(&points, 0).iter().map(|b| (b.t, b.mean)).collect::<Vec<_>>(), [(4, 2.0), (5, 2.0)]);
    }
}
