//! Thinning a history to a few points per pixel column (each column's lowest and highest kept,
//! so a spike never disappears), and where a line breaks: at the server's gaps and wherever
//! neighbours are much farther apart than the series' usual spacing.

/// At most `2 × columns` points of `points` (time-ordered): each column's first point, lowest and
/// highest, in time order. Fewer points than columns come back as they are.
pub fn thin(points: &[(u64, f64)], columns: usize) -> Vec<(u64, f64)> {
    let columns = columns.max(1);
    if points.len() <= columns * 2 {
        return points.to_vec();
    }
    let per = points.len().div_ceil(columns);
    let mut out = Vec::with_capacity(columns * 2 + 1);
    for chunk in points.chunks(per) {
        let lo = chunk.iter().copied().fold(chunk[0], |a, p| if p.1 < a.1 { p } else { a });
        let hi = chunk.iter().copied().fold(chunk[0], |a, p| if p.1 > a.1 { p } else { a });
        if lo.0 <= hi.0 {
            out.extend([lo, hi]);
        } else {
            out.extend([hi, lo]);
        }
        if lo.0 == hi.0 {
            out.pop();
        }
    }
    out
}

/// At most two points of `points` (time-ordered) per column of `[from, to]` cut into `columns`
/// equal slices of time: each slice's lowest and highest, in time order. Unlike [`thin`], a dense
/// run (live samples appended to history) cannot crowd out a sparse one.
pub fn thin_span(points: &[(u64, f64)], (from, to): (u64, u64), columns: usize) -> Vec<(u64, f64)> {
    let columns = columns.max(1) as u64;
    if points.len() as u64 <= columns * 2 {
        return points.to_vec();
    }
    let span = to.saturating_sub(from).max(1);
    let column = |t: u64| t.saturating_sub(from).saturating_mul(columns) / span;
    let mut out = Vec::with_capacity(columns as usize * 2 + 2);
    for run in points.chunk_by(|a, b| column(a.0) == column(b.0)) {
        let lo = run.iter().copied().fold(run[0], |a, p| if p.1 < a.1 { p } else { a });
        let hi = run.iter().copied().fold(run[0], |a, p| if p.1 > a.1 { p } else { a });
        match lo.0.cmp(&hi.0) {
            std::cmp::Ordering::Less => out.extend([lo, hi]),
            std::cmp::Ordering::Greater => out.extend([hi, lo]),
            std::cmp::Ordering::Equal => out.push(lo),
        }
    }
    out
}

/// How many times a series' usual spacing two neighbours must be apart to be drawn unjoined.
pub const GAP_FACTOR: u64 = 5;

/// Where a line through points at `times` (ascending) breaks: the indices that start a new run.
/// It breaks inside each of `gaps` (times the server was down: at the first point past the gap's
/// middle), and wherever two neighbours are more than [`GAP_FACTOR`] times the usual spacing
/// apart and more than `floor` ms (so that a few uneven points never break). The usual spacing is
/// the mean of the spacings no more than twice the mean of all: a few long holes do not count.
pub fn breaks(times: &[u64], gaps: &[(u64, u64)], floor: u64) -> Vec<usize> {
    let mut start = vec![false; times.len()];
    let diffs = || times.windows(2).map(|w| w[1].saturating_sub(w[0]));
    let n = times.len().saturating_sub(1) as u64;
    if n >= 4 {
        let mean = diffs().sum::<u64>() / n;
        let (sum, count) = diffs().filter(|d| *d <= 2 * mean).fold((0, 0), |(s, c), d| (s + d, c + 1));
        let limit = (sum / count.max(1) * GAP_FACTOR).max(floor);
        for (i, d) in diffs().enumerate() {
            start[i + 1] |= d > limit;
        }
    }
    for &(down, up) in gaps {
        let middle = down + up.saturating_sub(down) / 2;
        let i = times.partition_point(|t| *t < middle);
        if i > 0 && i < times.len() {
            start[i] = true;
        }
    }
    (0..times.len()).filter(|&i| start[i]).collect()
}

/// `items` cut at `breaks` (indices that start a new run, ascending), empty runs left out.
pub fn runs<'a, T>(items: &'a [T], breaks: &[usize]) -> impl Iterator<Item = &'a [T]> {
    let mut starts = Vec::with_capacity(breaks.len() + 2);
    starts.push(0);
    starts.extend(breaks.iter().copied().filter(|&b| b < items.len()));
    starts.push(items.len());
    (0..starts.len() - 1).map(move |i| &items[starts[i]..starts[i + 1]]).filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::geometry::Plot;
    use crate::plot::time::{HOUR_MS, MINUTE_MS};

    #[test]
    fn thinning_keeps_spikes_and_order() {
        let mut points: Vec<(u64, f64)> = (0..1000).map(|i| (i, 1.0)).collect();
        points[500].1 = 99.0;
        points[501].1 = -5.0;
        let thin = thin(&points, 50);
        assert!(thin.len() <= 100);
        assert!(thin.iter().any(|p| p.1 == 99.0) && thin.iter().any(|p| p.1 == -5.0));
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0), "time order");
        assert_eq!(super::thin(&points[..10], 50).len(), 10);
    }

    #[test]
    fn thinning_by_time_keeps_a_sparse_run_beside_a_dense_one() {
        // An hour of history at one point a minute, then a minute of live samples at 10 Hz.
        let mut points: Vec<(u64, f64)> = (0..60).map(|i| (i * MINUTE_MS, 1.0)).collect();
        points.extend((0..600).map(|i| (HOUR_MS + i * 100, if i == 300 { 9.0 } else { 2.0 })));
        let thin = thin_span(&points, (0, HOUR_MS + MINUTE_MS), 100);
        assert!(thin.len() <= 200);
        assert_eq!(thin.iter().filter(|p| p.0 < HOUR_MS).count(), 60, "the sparse hour is kept whole");
        assert!(thin.iter().any(|p| p.1 == 9.0), "a spike in the dense minute survives");
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0), "time order");
    }

    #[test]
    fn lines_break_at_gaps_and_at_unusual_spacing() {
        // One a second, a 30 s hole (a restart), one a second again.
        let times: Vec<u64> = (0..10).chain(40..50).map(|s| s * 1000).collect();
        assert_eq!(breaks(&times, &[], 0), [10], "the hole is five times the usual spacing");
        assert_eq!(breaks(&times, &[], 60_000), Vec::<usize>::new(), "but not over the floor");
        assert_eq!(breaks(&times[..3], &[], 0), Vec::<usize>::new(), "too few points to tell");
        // The server's gaps break even where the spacing looks usual (buckets a minute apart).
        let minutes: Vec<u64> = (0..10).map(|m| m * MINUTE_MS).collect();
        assert_eq!(breaks(&minutes, &[(150_000, 250_000)], 0), [4], "after the gap's middle, 200 s");
        assert_eq!(breaks(&minutes, &[(900_000, 2_000_000)], 0), Vec::<usize>::new(), "a gap past the end");
        let runs: Vec<&[u64]> = runs(&times, &[10]).collect();
        assert_eq!((runs.len(), runs[0].len(), runs[1][0]), (2, 10, 40_000));
        let f = Plot { t: (0, 4), y: (0.0, 10.0), w: 4.0, h: 10.0 };
        assert_eq!(f.lines(&[(0, 0.0), (1, 10.0), (3, 0.0), (4, 10.0)], &[2]), "M0,10L1,0M3,10L4,0");
    }
}
