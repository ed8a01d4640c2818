//! What a chart draws for one state of its data, width and legend, as plain values and SVG
//! markup (axes, threshold lines, bands, lines broken at gaps, the crosshair and a selection):
//! written as strings, this costs the browser bundle far less than a view per element.

use livedash::alerts::Severity;
use livedash::series;
use livedash::settings::Threshold;

use super::data::ChartData;
use crate::plot::{Plot, clock, extent, thin_span, tick_label, time_label, time_ticks, value_ticks};

/// Space around the plot for the axes' labels, in CSS pixels: left, right, top, bottom.
pub const MARGIN: (f64, f64, f64, f64) = (64.0, 16.0, 12.0, 28.0);
/// The chart's height in CSS pixels, and its width until the browser has measured it.
pub const HEIGHT: f64 = 360.0;
/// See [`HEIGHT`].
pub const DEFAULT_WIDTH: f64 = 1000.0;
/// Distinct line colours (CSS classes `s0`..`s7`).
pub const COLOURS: usize = 8;

/// Everything drawn for one state of data, size and legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    pub plot: Plot,
    pub y_ticks: Vec<(f64, String)>,
    pub x_ticks: Vec<(f64, String)>,
    pub thresholds: Vec<(f64, &'static str, String)>,
    pub gaps: Vec<(f64, f64)>,
    pub bands: Vec<(usize, String)>,
    pub lines: Vec<(usize, String)>,
    /// Firing spans: `(x from, x to, severity, rule)`.
    pub alerts: Vec<(f64, f64, &'static str, String)>,
    /// State changes: `(x, new state, what happened)`.
    pub marks: Vec<(f64, &'static str, String)>,
}

/// What the chart asks of its page: zoom to a span (from a drag), or by a factor around a time
/// (below 1: in).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zoom {
    /// The span between two times.
    Select(u64, u64),
    /// By a factor, around a time.
    By(f64, u64),
}

pub fn draw(data: &ChartData, width: f64, shown: &[bool], tz: i32) -> Drawing {
    let alerts = &data.alerts;
    let (w, h) = ((width - MARGIN.0 - MARGIN.1).max(40.0), HEIGHT - MARGIN.2 - MARGIN.3);
    let visible = || data.lines.iter().enumerate().filter(|(i, _)| shown.get(*i).copied().unwrap_or(true));
    let percent = data.settings.unit == series::Unit::Percent;
    let marks: Vec<f64> =
        [data.settings.warn, data.settings.critical].into_iter().flatten().map(Threshold::value).collect();
    let values = visible()
        .flat_map(|(_, l)| l.points.iter().map(|p| p.1).chain(l.bands.iter().flat_map(|b| [b.1, b.2])))
        .chain(marks.iter().copied());
    let (lo, hi) = extent(values.chain(percent.then_some(0.0))).unwrap_or((0.0, 1.0));
    let (lo, hi) = if percent { (lo.min(0.0), hi.max(100.0)) } else { (lo, hi) };
    let (ticks, y) = value_ticks(lo, hi, 5);
    let plot = Plot { t: data.t, y, w, h };
    let style = data.settings.style();
    let span = data.t.1 - data.t.0;
    let count = (w / 90.0) as usize;
    let (times, step) = time_ticks(data.t.0, data.t.1, count, tz);
    let columns = (w / 2.0) as usize;
    Drawing {
        plot,
        y_ticks: ticks.iter().map(|&v| (plot.y(v), tick_label(v, style))).collect(),
        // A label centred on a tick too near the right edge would be cut off: such ticks go.
        x_ticks: times
            .into_iter()
            .map(|t| (plot.x(t), time_label(t, step, span, tz)))
            .filter(|(x, _)| *x <= w - 30.0)
            .collect(),
        thresholds: [(data.settings.warn, "warn", "warning"), (data.settings.critical, "critical", "critical")]
            .into_iter()
            .filter_map(|(t, class, word)| {
                t.map(|t| (plot.y(t.value()), class, format!("{word} {}", tick_label(t.value(), style))))
            })
            .collect(),
        gaps: data.gaps.iter().map(|&(a, b)| (plot.x(a), plot.x(b))).filter(|(a, b)| b - a >= 1.0).collect(),
        bands: visible()
            .filter(|(_, l)| !l.bands.is_empty())
            .map(|(i, l)| {
                let times: Vec<u64> = l.bands.iter().map(|b| b.0).collect();
                (i % COLOURS, plot.band(&l.bands, &plot.breaks(&times, &data.gaps)))
            })
            .collect(),
        lines: visible()
            .map(|(i, l)| {
                let points = thin_span(&l.points, data.t, columns);
                let times: Vec<u64> = points.iter().map(|p| p.0).collect();
                (i % COLOURS, plot.lines(&points, &plot.breaks(&times, &data.gaps)))
            })
            .collect(),
        alerts: alerts
            .spans
            .iter()
            .map(|s| (plot.x(s.from), plot.x(s.to), severity_class(s.severity), s.rule.to_string()))
            .collect(),
        marks: alerts
            .marks
            .iter()
            .map(|(t, rule, to)| {
                (plot.x(*t), to.as_str(), format!("{rule}: {} at {}", to.as_str(), clock(*t, tz, true)))
            })
            .collect(),
    }
}

/// The CSS class (and word) of a severity.
pub fn severity_class(s: Severity) -> &'static str {
    if s == Severity::Critical { "critical" } else { "warn" }
}

/// The value of `points` at or just before `t`.
pub fn value_at(points: &[(u64, f64)], t: u64) -> Option<(u64, f64)> {
    let i = points.partition_point(|p| p.0 <= t);
    points.get(i.checked_sub(1)?).copied()
}

/// Text for SVG markup: `&`, `<` and `>` escaped.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The axes, threshold lines and lines of a drawing as SVG markup: written as one string, this
/// costs the browser bundle far less than a view per element, and the whole of it changes with
/// every sample anyway.
pub fn markup(g: &Drawing) -> String {
    use std::fmt::Write;
    let (w, h) = (g.plot.w.round(), g.plot.h.round());
    let mut out = String::with_capacity(4096);
    for (y, text) in &g.y_ticks {
        let _ = write!(
            out,
            r#"<line class="grid" x1="0" x2="{w}" y1="{y:.0}" y2="{y:.0}"/><text class="tick y" x="-8" y="{:.0}">{}</text>"#,
            y + 4.0,
            esc(text)
        );
    }
    for (x, text) in &g.x_ticks {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.0}" x2="{x:.0}" y1="0" y2="{h}"/><text class="tick x" x="{x:.0}" y="{:.0}">{}</text>"#,
            h + 18.0,
            esc(text)
        );
    }
    // Firing spans behind everything but the grid, each state change a thin line with its words.
    for (a, b, class, _) in &g.alerts {
        let _ = write!(
            out,
            r#"<rect class="alert-band {class}" x="{a:.0}" y="0" width="{:.0}" height="{h}"/>"#,
            (b - a).max(2.0)
        );
    }
    for (x, state, title) in &g.marks {
        let _ = write!(
            out,
            r#"<line class="alert-mark {state}" x1="{x:.0}" x2="{x:.0}" y1="0" y2="{h}"><title>{}</title></line>"#,
            esc(title)
        );
    }
    for (y, class, _) in &g.thresholds {
        let _ = write!(out, r#"<line class="threshold {class}" x1="0" x2="{w}" y1="{y:.0}" y2="{y:.0}"/>"#);
    }
    for (a, b) in &g.gaps {
        let _ = write!(out, r#"<rect class="gap" x="{a:.0}" y="0" width="{:.0}" height="{h}"/>"#, b - a);
    }
    for (c, d) in &g.bands {
        let _ = write!(out, r#"<path class="band s{c}" d="{d}"/>"#);
    }
    for (c, d) in &g.lines {
        let _ = write!(out, r#"<path class="line s{c}" d="{d}"/>"#);
    }
    // Each span's rule, marked ! or !! as the cards are (colour is never alone), then the
    // thresholds' words: last, over the lines (with a halo in the page's CSS), always readable.
    // A label that would run past the plot's right edge is moved left (about 7 px a character).
    for (a, _, class, rule) in &g.alerts {
        let bang = if *class == "critical" { "!!" } else { "!" };
        let x = (a + 4.0).min(g.plot.w - 7.0 * (rule.chars().count() + 3) as f64).max(0.0);
        let _ = write!(out, r#"<text class="alert-label {class}" x="{x:.0}" y="14">{bang} {}</text>"#, esc(rule));
    }
    for (y, class, text) in &g.thresholds {
        let _ = write!(
            out,
            r#"<text class="threshold-label {class}" x="{:.0}" y="{:.0}">{}</text>"#,
            w - 4.0,
            y - 4.0,
            esc(text)
        );
    }
    out
}

/// The span being selected, the crosshair at `x` and a dot on each line, as SVG markup.
pub fn cross_markup(x: Option<f64>, dots: Vec<(usize, f64, f64)>, selection: Option<(f64, f64)>) -> String {
    use std::fmt::Write;
    let h = HEIGHT - MARGIN.2 - MARGIN.3;
    let mut out = String::new();
    if let Some((a, b)) = selection {
        let _ = write!(
            out,
            r#"<rect class="selection" data-testid="selection" x="{:.0}" y="0" width="{:.0}" height="{h:.0}"/>"#,
            a.min(b),
            (a - b).abs()
        );
    }
    let Some(x) = x else { return out };
    let _ = write!(out, r#"<line class="crosshair" x1="{x:.0}" x2="{x:.0}" y1="0" y2="{h:.0}"/>"#);
    for (c, cx, cy) in dots {
        let _ = write!(out, r#"<circle class="dot s{c}" cx="{cx:.0}" cy="{cy:.0}" r="4"/>"#);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_drawn_with_bands_under_lines_broken_at_gaps() {
        use super::super::data::{ChartData, Line};
        use std::sync::Arc;
        let settings = Arc::new(livedash::settings::SeriesSettings::resolve(&[], "x"));
        let minute = 60_000;
        let points: Vec<(u64, f64)> = (0..10).chain(20..30).map(|m| (m * minute, 5.0)).collect();
        let bands = points.iter().map(|&(t, v)| (t, v - 1.0, v + 1.0)).collect();
        let line = Line { label: "x".into(), settings: settings.clone(), points, bands };
        let data = ChartData {
            label: "X".into(),
            settings,
            lines: vec![line],
            t: (0, 30 * minute),
            gaps: vec![(9 * minute + 1, 20 * minute - 1)],
            alerts: Default::default(),
        };
        let g = draw(&data, 600.0, &[], 0);
        let svg = markup(&g);
        let band = svg.find(r#"<path class="band s0""#).expect("a band");
        let line = svg.find(r#"<path class="line s0""#).expect("a line");
        assert!(band < line, "the band is under the line");
        assert_eq!(g.lines[0].1.matches('M').count(), 2, "the line breaks at the gap");
        assert_eq!(g.bands[0].1.matches('Z').count(), 2, "so does the band");
        assert_eq!(svg.matches(r#"<rect class="gap""#).count(), 1);
        assert_eq!(g.x_ticks.get(1).map(|t| t.1.as_str()), Some("00:10"), "no seconds over half an hour");
    }

    #[test]
    fn threshold_words_are_drawn_over_the_lines() {
        use super::super::data::{ChartData, Line};
        use livedash::settings::{SeriesRule, SeriesSettings};
        use std::sync::Arc;
        let rule = SeriesRule { pattern: "x".into(), critical_above: Some(90.0), ..SeriesRule::default() };
        let settings = Arc::new(SeriesSettings::resolve(&[rule], "x"));
        let points = vec![(0, 95.0), (1000, 85.0), (2000, 95.0)];
        let line = Line { label: "x".into(), settings: settings.clone(), points, bands: vec![] };
        let data = ChartData {
            label: "X".into(),
            settings,
            lines: vec![line],
            t: (0, 2000),
            gaps: vec![],
            alerts: Default::default(),
        };
        let svg = markup(&draw(&data, 600.0, &[], 0));
        let threshold = svg.find(r#"<line class="threshold critical""#).expect("a threshold line");
        let line = svg.find(r#"<path class="line s0""#).expect("a line");
        let words = svg.find(r#"<text class="threshold-label critical""#).expect("its words");
        assert!(threshold < line, "the dashed line under the data");
        assert!(line < words, "the words over it (SVG paints in document order)");
    }

    #[test]
    fn firing_spans_are_bands_under_the_lines_named_in_words() {
        use super::super::alerts::{ChartAlerts, Firing};
        use super::super::data::{ChartData, Line};
        use std::sync::Arc;
        let settings = Arc::new(livedash::settings::SeriesSettings::resolve(&[], "x"));
        let line =
            Line { label: "x".into(), settings: settings.clone(), points: vec![(0, 1.0), (1000, 2.0)], bands: vec![] };
        let span =
            |from, to, severity| Firing { rule: "busy".into(), series: "x".into(), severity, from, to, ongoing: false };
        let alerts = ChartAlerts {
            spans: vec![span(100, 500, Severity::Critical), span(900, 910, Severity::Warning)],
            marks: vec![(100, "busy".into(), livedash::alerts::AlertState::Firing)],
        };
        let data = ChartData { label: "X".into(), settings, lines: vec![line], t: (0, 1000), gaps: vec![], alerts };
        let g = draw(&data, 600.0, &[], 0);
        let svg = markup(&g);
        let band = svg.find(r#"<rect class="alert-band critical" x="52" y="0" width="208""#).expect("a band");
        let line = svg.find(r#"<path class="line s0""#).expect("a line");
        let label = svg.find(r#"<text class="alert-label critical" x="56" y="14">!! busy</text>"#).expect("its rule");
        assert!(band < line && line < label, "band under the line, its words over it");
        let last = r#"<text class="alert-label warn" x="471" y="14">! busy</text>"#;
        assert!(svg.contains(last), "words near the right edge moved left to fit: {svg}");
        assert!(
            svg.contains(r#"<line class="alert-mark firing" x1="52""#)
                && svg.contains("<title>busy: firing at 00:00:00</title>")
        );
    }

    #[test]
    fn values_are_read_at_or_before_the_cursor() {
        let pts = [(10, 1.0), (20, 2.0), (30, 3.0)];
        assert_eq!(value_at(&pts, 25), Some((20, 2.0)));
        assert_eq!(value_at(&pts, 30), Some((30, 3.0)));
        assert_eq!(value_at(&pts, 5), None);
    }
}
