//! Geometry shared by sparklines and charts: thinning a history to a few points per pixel column
//! (keeping each column's lowest and highest value, so a spike never disappears), SVG path data in
//! whole user units, round value ticks and clock-aligned time ticks.

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

/// Steps a time axis may take, in ms.
const TIME_STEPS: &[u64] = &[1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000];

/// Clock-aligned ticks between `from` and `to` (ms), at most `count` of them.
pub fn time_ticks(from: u64, to: u64, count: usize) -> Vec<u64> {
    let span = to.saturating_sub(from);
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|s| span / s <= count.max(1) as u64)
        .unwrap_or(TIME_STEPS[TIME_STEPS.len() - 1]);
    let first = from.div_ceil(step) * step;
    (0..).map(|i| first + i * step).take_while(|t| *t <= to).collect()
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
    fn time_ticks_fall_on_the_clock() {
        assert_eq!(time_ticks(61_500, 125_000, 4), [75_000, 90_000, 105_000, 120_000]);
        assert_eq!(time_ticks(0, 600_000, 6), [0, 120_000, 240_000, 360_000, 480_000, 600_000]);
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
