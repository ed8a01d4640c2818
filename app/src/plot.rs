//! Geometry shared by sparklines and charts: thinning a history to a few points per pixel column
//! (keeping each column's lowest and highest value, so a spike never disappears), breaking a line
//! where data is missing, SVG path data in whole user units (lines and min–max bands), round value
//! ticks, clock-aligned time ticks, and dates and times in the browser's time zone.

use livedash::series::{self, Style};

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

/// Maps time and value onto a box of `w × h` user units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plot {
    /// The time at the left and right edge (ms).
    pub t: (u64, u64),
    /// The value at the bottom and top edge.
    pub y: (f64, f64),
    /// The box's size.
    pub w: f64,
    /// The box's size.
    pub h: f64,
}

impl Plot {
    /// The x of time `t`.
    pub fn x(&self, t: u64) -> f64 {
        let span = self.t.1.saturating_sub(self.t.0).max(1) as f64;
        (t.saturating_sub(self.t.0) as f64 / span * self.w).min(self.w)
    }

    /// The y of value `v` (clamped to the box).
    pub fn y(&self, v: f64) -> f64 {
        let span = self.y.1 - self.y.0;
        let f = if span.abs() < f64::EPSILON { 0.5 } else { (v - self.y.0) / span };
        self.h - f.clamp(0.0, 1.0) * self.h
    }

    /// The time at `x` (the inverse of [`Plot::x`]).
    pub fn t_at(&self, x: f64) -> u64 {
        let span = self.t.1.saturating_sub(self.t.0) as f64;
        self.t.0 + ((x / self.w).clamp(0.0, 1.0) * span) as u64
    }

    /// SVG path data for the line through `points`, in whole units.
    pub fn line(&self, points: &[(u64, f64)]) -> String {
        let mut d = String::with_capacity(points.len() * 9);
        for (i, &(t, v)) in points.iter().enumerate() {
            d.push(if i == 0 { 'M' } else { 'L' });
            push_int(&mut d, self.x(t));
            d.push(',');
            push_int(&mut d, self.y(v));
        }
        d
    }

    /// SVG path data for a line through each run of `points` cut at `breaks` (one sub-path per
    /// run, so that nothing is drawn across a gap).
    pub fn lines(&self, points: &[(u64, f64)], breaks: &[usize]) -> String {
        let mut d = String::with_capacity(points.len() * 9);
        for run in runs(points, breaks) {
            d.push_str(&self.line(run));
        }
        d
    }

    /// SVG path data for a band between each bucket's `(t, min, max)`: along the highs, back
    /// along the lows, closed; one shape per run of `bands` cut at `breaks`. A lone bucket is a
    /// vertical stroke of no area (still drawn as a shape, so nothing is lost).
    pub fn band(&self, bands: &[(u64, f64, f64)], breaks: &[usize]) -> String {
        let mut d = String::with_capacity(bands.len() * 18);
        for run in runs(bands, breaks) {
            for (i, &(t, _, hi)) in run.iter().enumerate() {
                d.push(if i == 0 { 'M' } else { 'L' });
                push_int(&mut d, self.x(t));
                d.push(',');
                push_int(&mut d, self.y(hi));
            }
            for &(t, lo, _) in run.iter().rev() {
                d.push('L');
                push_int(&mut d, self.x(t));
                d.push(',');
                push_int(&mut d, self.y(lo));
            }
            d.push('Z');
        }
        d
    }

    /// The line through `points` closed down to the bottom edge: the area under it.
    pub fn area(&self, points: &[(u64, f64)], line: &str) -> String {
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return String::new();
        };
        let mut d = String::with_capacity(line.len() + 24);
        d.push_str(line);
        d.push('L');
        push_int(&mut d, self.x(last.0));
        d.push(',');
        push_int(&mut d, self.h);
        d.push('L');
        push_int(&mut d, self.x(first.0));
        d.push(',');
        push_int(&mut d, self.h);
        d.push('Z');
        d
    }
}

/// Writes `v` rounded to a whole number (integers format faster and shorter than floats).
fn push_int(out: &mut String, v: f64) {
    use std::fmt::Write;
    let _ = write!(out, "{}", v.round() as i64);
}

/// The lowest and highest of `values`, widened when they are equal; `None` when there are none.
pub fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return None;
    }
    if (hi - lo).abs() < f64::EPSILON {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return Some((lo - pad, hi + pad));
    }
    Some((lo, hi))
}

/// About `count` round ticks (1, 2 or 5 times a power of ten) covering `lo..=hi`, and the range
/// widened to the outer ticks.
pub fn value_ticks(lo: f64, hi: f64, count: usize) -> (Vec<f64>, (f64, f64)) {
    let raw = (hi - lo) / count.max(1) as f64;
    if !raw.is_finite() || raw <= 0.0 {
        return (vec![lo], (lo, hi));
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil() * step;
    let n = ((last - first) / step).round() as usize;
    let ticks = (0..=n).map(|i| first + step * i as f64).collect();
    (ticks, (first, last))
}

/// A minute, an hour and a day in ms.
pub const MINUTE_MS: u64 = 60_000;
/// See [`MINUTE_MS`].
pub const HOUR_MS: u64 = 60 * MINUTE_MS;
/// See [`MINUTE_MS`].
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// Steps a time axis may take, in ms.
const TIME_STEPS: &[u64] = &[
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    MINUTE_MS,
    2 * MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
    28 * DAY_MS,
];

/// Ticks between `from` and `to` (ms) on the local clock (`offset_min` east of UTC: a 1-hour step
/// falls on the local hour, a day on local midnight), at most `count` of them, and their step.
pub fn time_ticks(from: u64, to: u64, count: usize, offset_min: i32) -> (Vec<u64>, u64) {
    let span = to.saturating_sub(from);
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|s| span / s <= count.max(1) as u64)
        .unwrap_or(TIME_STEPS[TIME_STEPS.len() - 1]);
    let off = i64::from(offset_min) * 60_000;
    let (from_local, step_i) = (from as i64 + off, step as i64);
    let first = (from_local.div_euclid(step_i) + i64::from(from_local.rem_euclid(step_i) != 0)) * step_i - off;
    let ticks = (0..).map(|i| first + i * step_i).take_while(|t| *t <= to as i64).filter_map(|t| u64::try_from(t).ok());
    (ticks.collect(), step)
}

/// A time axis label for tick `t` of a `step` over a `span` (ms): the date at a day's step or at
/// local midnight on a span of more than six hours, else the clock (with seconds on a span under
/// five minutes).
pub fn time_label(t: u64, step: u64, span: u64, offset_min: i32) -> String {
    let midnight = local_ms(t, offset_min).rem_euclid(DAY_MS as i64) == 0;
    if step >= DAY_MS || (midnight && span > 6 * HOUR_MS) {
        date(t, offset_min)
    } else {
        clock(t, offset_min, span < 5 * MINUTE_MS)
    }
}

fn local_ms(t_ms: u64, offset_min: i32) -> i64 {
    t_ms as i64 + i64::from(offset_min) * 60_000
}

/// The calendar date `(year, month 1–12, day 1–31)` of a count of days since 1970-01-01
/// (proleptic Gregorian: 400-year eras of 146097 days, years counted from March so that the leap
/// day comes last).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1
    let mp = (5 * doy + 2) / 153; // 0 = March .. 11 = February
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The count of days since 1970-01-01 of a calendar date (the inverse of [`civil`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `24 Nov` of `t_ms` in the browser's time zone (`offset_min` east of UTC).
pub fn date(t_ms: u64, offset_min: i32) -> String {
    let (_, m, d) = civil(local_ms(t_ms, offset_min).div_euclid(DAY_MS as i64));
    format!("{d} {}", MONTHS[(m as usize - 1) % 12])
}

/// `24 Nov 14:05:03`.
pub fn date_time(t_ms: u64, offset_min: i32) -> String {
    format!("{} {}", date(t_ms, offset_min), clock(t_ms, offset_min, true))
}

/// Whether `a` and `b` fall on the same local day.
pub fn same_day(a: u64, b: u64, offset_min: i32) -> bool {
    let day = |t| local_ms(t, offset_min).div_euclid(DAY_MS as i64);
    day(a) == day(b)
}

/// `2026-11-24T14:05`: the value of an `<input type="datetime-local">` showing `t_ms`.
pub fn local_input(t_ms: u64, offset_min: i32) -> String {
    let local = local_ms(t_ms, offset_min);
    let (y, m, d) = civil(local.div_euclid(DAY_MS as i64));
    format!("{y:04}-{m:02}-{d:02}T{}", clock(t_ms, offset_min, false))
}

/// The time (ms since the epoch) of an `<input type="datetime-local">` value,
/// `YYYY-MM-DDTHH:MM[:SS]`, read in a zone `offset_min` east of UTC; `None` if it is not one.
pub fn parse_local_input(value: &str, offset_min: i32) -> Option<u64> {
    let (date, time) = value.trim().split_once('T')?;
    let mut d = date.splitn(3, '-').map(str::parse::<u32>);
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut c = time.split(':');
    let (h, min) = (c.next()?.parse::<u32>().ok()?, c.next()?.parse::<u32>().ok()?);
    // Whole seconds: a float parser would cost the browser bundle more than it is worth.
    let s = c.next().map_or(Some(0), |s| s.split('.').next().and_then(|s| s.parse::<u32>().ok()))?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, day);
    let local = days * DAY_MS as i64 + i64::from(h * 3600 + min * 60 + s) * 1000;
    u64::try_from(local - i64::from(offset_min) * 60_000).ok()
}

/// `HH:MM:SS` (or `HH:MM` when `seconds` is false) of `t_ms`, shifted by `offset_min` minutes
/// east of UTC (the browser's time zone).
pub fn clock(t_ms: u64, offset_min: i32, seconds: bool) -> String {
    let local = t_ms as i64 / 1000 + i64::from(offset_min) * 60;
    let day = local.rem_euclid(86_400);
    let (h, m, s) = (day / 3600, day / 60 % 60, day % 60);
    if seconds { format!("{h:02}:{m:02}:{s:02}") } else { format!("{h:02}:{m:02}") }
}

/// A tick value written for an axis.
pub fn tick_label(v: f64, style: Style<'_>) -> String {
    series::format_as(v, style).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use livedash::series::Unit;

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
    fn frames_map_into_the_box_in_whole_units() {
        let f = Plot { t: (1000, 2000), y: (0.0, 100.0), w: 100.0, h: 28.0 };
        let line = f.line(&[(1000, 0.0), (1500, 50.0), (2000, 100.0)]);
        assert_eq!(line, "M0,28L50,14L100,0");
        assert_eq!(f.area(&[(1000, 0.0), (2000, 100.0)], "M0,28L100,0"), "M0,28L100,0L100,28L0,28Z");
        assert_eq!(f.y(500.0), 0.0, "clamped to the box");
        assert_eq!(f.t_at(25.0), 1250);
    }

    #[test]
    fn value_ticks_are_round() {
        let (ticks, range) = value_ticks(3.0, 97.0, 5);
        assert_eq!(ticks, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(range, (0.0, 100.0));
        let (ticks, _) = value_ticks(0.12, 0.58, 4);
        assert_eq!(ticks.len(), 4, "{ticks:?}");
        assert!((ticks[1] - 0.2).abs() < 1e-9);
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

    #[test]
    fn bands_go_along_the_highs_and_back_along_the_lows() {
        let f = Plot { t: (0, 100), y: (0.0, 10.0), w: 100.0, h: 10.0 };
        let bands = [(0, 2.0, 8.0), (50, 4.0, 6.0), (100, 0.0, 10.0)];
        assert_eq!(f.band(&bands, &[]), "M0,2L50,4L100,0L100,10L50,6L0,8Z");
        assert_eq!(f.band(&bands, &[2]), "M0,2L50,4L50,6L0,8ZM100,0L100,10Z", "one shape per run");
        assert_eq!(f.band(&[], &[]), "");
    }

    #[test]
    fn dates_are_read_in_the_local_zone() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(19_782), (2024, 2, 29), "a leap day");
        assert_eq!(days_from_civil(2024, 3, 1), 19_783);
        for days in [-800_000, -1, 0, 59, 10_957, 20_416, 2_000_000] {
            let (y, m, d) = civil(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        let t = days_from_civil(2026, 11, 24) as u64 * DAY_MS + 23 * HOUR_MS + 30 * MINUTE_MS;
        assert_eq!(date(t, 0), "24 Nov");
        assert_eq!(date(t, 60), "25 Nov", "an hour east, it is past midnight");
        assert_eq!(date_time(t, 0), "24 Nov 23:30:00");
        assert!(same_day(t, t - HOUR_MS, 0) && !same_day(t, t - HOUR_MS, 60));
        assert_eq!(local_input(t, 60), "2026-11-25T00:30");
        assert_eq!(parse_local_input("2026-11-25T00:30", 60), Some(t));
        assert_eq!(parse_local_input("2026-11-24T23:30:00", 0), Some(t));
        for bad in ["", "2026-11-24", "2026-13-01T00:00", "2026-11-24T24:00", "x-y-zT1:2"] {
            assert_eq!(parse_local_input(bad, 0), None, "{bad}");
        }
    }

    #[test]
    fn time_ticks_fall_on_the_clock() {
        assert_eq!(time_ticks(61_500, 125_000, 4, 0).0, [75_000, 90_000, 105_000, 120_000]);
        assert_eq!(time_ticks(0, 600_000, 6, 0).0, [0, 120_000, 240_000, 360_000, 480_000, 600_000]);
        // Hours on the local hour in a zone half an hour off UTC, days on local midnight.
        let (ticks, step) = time_ticks(0, 6 * HOUR_MS, 6, 330);
        assert_eq!((ticks[0], step), (30 * MINUTE_MS, HOUR_MS));
        assert_eq!(clock(ticks[0], 330, false), "06:00");
        let (days, step) = time_ticks(HOUR_MS, 30 * DAY_MS, 8, -300);
        assert_eq!(step, 7 * DAY_MS);
        assert!(days.iter().all(|t| clock(*t, -300, false) == "00:00"));
        assert_eq!(time_label(days[0], step, 30 * DAY_MS, -300), date(days[0], -300));
        assert_eq!(time_label(HOUR_MS, HOUR_MS, DAY_MS, 0), "01:00");
        assert_eq!(time_label(DAY_MS, HOUR_MS, DAY_MS, 0), "2 Jan", "midnight on a day-long axis");
        assert_eq!(clock(3_723_000, 0, true), "01:02:03");
        assert_eq!(clock(3_723_000, 60, false), "02:02");
        assert_eq!(clock(1_000, -60, true), "23:00:01");
    }

    #[test]
    fn extents_widen_a_flat_line() {
        assert_eq!(extent([2.0, 2.0].into_iter()), Some((1.8, 2.2)));
        assert_eq!(extent(std::iter::empty()), None);
        assert_eq!(tick_label(50.0, Unit::Percent.into()), "50 %");
    }
}
