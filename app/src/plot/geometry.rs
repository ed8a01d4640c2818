//! Mapping time and value onto a box ([`Plot`]): SVG path data in whole user units for lines and
//! min–max bands, the extent of values, round value ticks and their labels.

use livedash::series::{self, Style};

use super::thin::{breaks, runs};

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

    /// Where a line at `times` (ascending) on this plot breaks: the one rule for every line and
    /// band, the large chart's and the sparklines' alike. It breaks inside each of `gaps` (the
    /// server's down times) and across holes much wider than the usual spacing and wider than a
    /// two-hundredth of the plot's span (see [`breaks`]).
    pub fn breaks(&self, times: &[u64], gaps: &[(u64, u64)]) -> Vec<usize> {
        breaks(times, gaps, self.t.1.saturating_sub(self.t.0) / 200)
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

    /// The areas under each run of `points` cut at `breaks`.
    pub fn areas(&self, points: &[(u64, f64)], breaks: &[usize]) -> String {
        runs(points, breaks).map(|run| self.area(run, &self.line(run))).collect()
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
    // The power of ten at or below `raw`, by steps: `powf` and `log10` would cost the browser
    // bundle about 1 KiB for this one line.
    let mut magnitude = 1.0;
    while magnitude * 10.0 <= raw {
        magnitude *= 10.0;
    }
    while magnitude > raw {
        magnitude /= 10.0;
    }
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil() * step;
    let n = ((last - first) / step).round() as usize;
    let ticks = (0..=n).map(|i| first + step * i as f64).collect();
    (ticks, (first, last))
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
    fn bands_go_along_the_highs_and_back_along_the_lows() {
        let f = Plot { t: (0, 100), y: (0.0, 10.0), w: 100.0, h: 10.0 };
        let bands = [(0, 2.0, 8.0), (50, 4.0, 6.0), (100, 0.0, 10.0)];
        assert_eq!(f.band(&bands, &[]), "M0,2L50,4L100,0L100,10L50,6L0,8Z");
        assert_eq!(f.band(&bands, &[2]), "M0,2L50,4L50,6L0,8ZM100,0L100,10Z", "one shape per run");
        assert_eq!(f.band(&[], &[]), "");
    }

    #[test]
    fn extents_widen_a_flat_line() {
        assert_eq!(extent([2.0, 2.0].into_iter()), Some((1.8, 2.2)));
        assert_eq!(extent(std::iter::empty()), None);
        assert_eq!(tick_label(50.0, Unit::Percent.into()), "50 %");
    }
}
