//! What a large chart shows, derived from the model and whatever history was fetched: one line
//! per visible member of a card (a single series, a group's members, or a share in percent) over
//! the chosen range, with each roll-up bucket's min–max band and the times the server was down.
//!
//! History comes first; the page's own samples newer than its last point follow, so a range
//! ending now keeps moving without fetching again.

use std::sync::Arc;

use livedash::series;
use livedash::settings::SeriesSettings;

use super::alerts::ChartAlerts;
use super::history::{Answer, Fetched};
use super::range::Range;
use crate::card::{members, share_points};
use crate::model::Model;

/// A roll-up bucket's `(t, min, max)`.
pub type Band = (u64, f64, f64);

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Its label in the legend (the card's label for a single series).
    pub label: String,
    /// Its settings (style, thresholds).
    pub settings: Arc<SeriesSettings>,
    /// Its points within the range, oldest first.
    pub points: Vec<(u64, f64)>,
    /// Its roll-up buckets' `(t, min, max)` within the range (none for raw data).
    pub bands: Vec<Band>,
}

/// Everything a chart draws.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    /// The card's label.
    pub label: String,
    /// The card's settings (unit, thresholds of the whole).
    pub settings: Arc<SeriesSettings>,
    /// The lines, in member order.
    pub lines: Vec<Line>,
    /// The range's start and end (ms): for a range ending now, the end is the newest data.
    pub t: (u64, u64),
    /// When the server was down within the range, `(from, to)`.
    pub gaps: Vec<(u64, u64)>,
    /// The alerts on its series within the range.
    pub alerts: ChartAlerts,
}

/// The value of `whole` (time-ordered) at or else just after `t`.
fn whole_at(whole: &[(u64, f64)], t: u64) -> Option<f64> {
    let i = whole.partition_point(|p| p.0 <= t);
    whole.get(i.saturating_sub(1)).map(|p| p.1)
}

/// A stored series' points and bands, scaled by `scale`; as a share in percent of `whole` (its
/// points, scaled by `whole_scale`) when it is one. A roll-up's buckets pair by start time, but
/// thinned raw points of two series fall at different times: the whole at or before each counts.
fn stored(answer: &Answer, scale: f64, whole: Option<(&Answer, f64)>) -> (Vec<(u64, f64)>, Vec<Band>) {
    let Some((whole, ws)) = whole else {
        let points = answer.points.iter().map(|&(t, v)| (t, v * scale)).collect();
        let bands = answer.bands.iter().map(|&(t, lo, hi)| (t, lo * scale, hi * scale)).collect();
        return (points, bands);
    };
    let total = |t| whole_at(&whole.points, t).map(|w| w * ws).filter(|w| *w != 0.0);
    let share = |v: f64, w: f64| 100.0 * v * scale / w;
    let points = answer.points.iter().filter_map(|&(t, v)| Some((t, share(v, total(t)?)))).collect();
    let bands =
        answer.bands.iter().filter_map(|&(t, lo, hi)| total(t).map(|w| (t, share(lo, w), share(hi, w)))).collect();
    (points, bands)
}

impl Model {
    /// The chart of card `key` of `source` over `range`, from `fetched` history (if any) and the
    /// page's own samples after it.
    pub fn chart(&self, source: &str, key: &str, range: Range, fetched: Option<&Fetched>) -> Option<ChartData> {
        let src = self.sources.get(source)?;
        let settings = src.settings_of(key);
        let members = members(src, key);
        let empty = Fetched::default();
        let fetched = fetched.unwrap_or(&empty);
        let (start, end) = range.times(src.last_ts_ms.max(fetched.t.1));
        let inside = |t: u64| t >= start && t <= end;
        let single = members.len() == 1;
        let lines = members
            .iter()
            .filter_map(|(s, name, pts)| {
                let (old, bands) = match (fetched.series.get(*name), s.of.as_deref()) {
                    (None, _) => (Vec::new(), Vec::new()),
                    (Some(a), None) => stored(a, s.scale, None),
                    (Some(a), Some(whole)) => match fetched.series.get(whole) {
                        Some(w) => stored(a, s.scale, Some((w, src.settings_of(whole).scale))),
                        None => (Vec::new(), Vec::new()),
                    },
                };
                let recent = match s.of.as_deref() {
                    Some(whole) => share_points(pts, src.series.get(whole)?, usize::MAX),
                    None => pts.iter().copied().collect(),
                };
                let after = old.last().map_or(0, |p| p.0 + 1);
                let mut points: Vec<(u64, f64)> = old.into_iter().filter(|p| inside(p.0)).collect();
                points.extend(recent.into_iter().filter(|p| p.0 >= after && inside(p.0)));
                let index = series::group_of(name).map(|(_, i)| i.to_string());
                let label = match (single, &s.label, index) {
                    (true, _, _) => settings.label.clone().unwrap_or_else(|| series::label(key)),
                    (false, Some(l), _) => l.clone(),
                    (false, None, Some(i)) => i,
                    (false, None, None) => (*name).to_owned(),
                };
                let bands = bands.into_iter().filter(|b| inside(b.0)).collect();
                Some(Line { label, settings: s.clone(), points, bands })
            })
            .collect::<Vec<_>>();
        if lines.is_empty() {
            return None;
        }
        let label = settings.label.clone().unwrap_or_else(|| series::label(key));
        let gaps = fetched.gaps().iter().copied().filter(|g| g.1 >= start && g.0 <= end).collect();
        Some(ChartData { label, settings, lines, t: (start, end.max(start + 1)), gaps, alerts: ChartAlerts::default() })
    }

    /// The names of the series the chart of card `key` of `source` draws from: its visible
    /// members, and the whole of each that is a share.
    pub fn chart_series(&self, source: &str, key: &str) -> Vec<String> {
        let Some(src) = self.sources.get(source) else { return Vec::new() };
        let mut names = Vec::new();
        for (s, name, _) in members(src, key) {
            names.push(name.to_owned());
            if let Some(whole) = s.of.as_deref()
                && !names.iter().any(|n| n == whole)
            {
                names.push(whole.to_owned());
            }
        }
        names
    }

    /// The time of the oldest sample the page holds of card `key` of `source`.
    pub fn oldest(&self, source: &str, key: &str) -> Option<u64> {
        let src = self.sources.get(source)?;
        members(src, key).iter().filter_map(|(_, _, pts)| pts.front().map(|p| p.0)).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{hello, sample};

    fn last(value: &str) -> Range {
        Range::from_query(&format!("range={value}"))
    }

    #[test]
    fn a_chart_holds_the_range_and_every_member() {
        let history = (1..=400).map(|seq| sample(seq, "s", r#"{"load_avg": [1, 2, 3], "x": 5}"#)).collect();
        let model = Model::from_hello(hello(history));
        let chart = model.chart("s", "load_avg", last("1m"), None).expect("chart");
        assert_eq!(chart.lines.len(), 3);
        assert_eq!(chart.lines[1].label, "1");
        assert_eq!(chart.t, (340_000, 400_000));
        assert_eq!(chart.lines[0].points.len(), 61, "one a second over a minute, both ends in");
        let x = model.chart("s", "x", last("10m"), None).expect("chart");
        assert_eq!((x.lines.len(), x.lines[0].label.as_str()), (1, "X"));
        assert!(model.chart("s", "nope", last("1m"), None).is_none());
        let span = Range::Span { from: 100_000, to: 110_000, base: None };
        assert_eq!(model.chart("s", "x", span, None).expect("chart").lines[0].points.len(), 11);
        assert_eq!(model.chart_series("s", "load_avg"), ["load_avg.0", "load_avg.1", "load_avg.2"]);
        assert_eq!(model.oldest("s", "x"), Some(1000));
    }

    #[test]
    fn history_comes_first_then_the_pages_newer_samples() {
        // The page holds 301..=400 s; the store answered up to 350 s, in 1-minute buckets.
        let history = (301..=400).map(|seq| sample(seq, "s", r#"{"x": 5}"#)).collect();
        let mut h = hello(history);
        let rule = livedash::settings::SeriesRule { pattern: "x".into(), scale: Some(2.0), ..Default::default() };
        h.settings.insert("s".into(), vec![rule]);
        let model = Model::from_hello(h);
        let answer = Answer {
            tier: "1m".into(),
            from: 0,
            to: 350_000,
            points: vec![(0, 1.0), (60_000, 2.0), (300_000, 3.0)],
            bands: vec![(0, 0.5, 1.5), (60_000, 1.0, 4.0), (300_000, 3.0, 3.0)],
            gaps: vec![(70_000, 290_000), (900_000, 990_000)],
        };
        let fetched = Fetched { series: [("x".to_owned(), answer)].into(), t: (0, 350_000) };
        let span = Range::Span { from: 0, to: 400_000, base: None };
        let chart = model.chart("s", "x", span, Some(&fetched)).expect("chart");
        let line = &chart.lines[0];
        assert_eq!(&line.points[..3], [(0, 2.0), (60_000, 4.0), (300_000, 6.0)], "stored values scaled");
        assert_eq!(line.points[3], (301_000, 10.0), "then the page's samples after the last stored point");
        assert_eq!(line.points.len(), 3 + 100);
        assert_eq!(line.bands[1], (60_000, 2.0, 8.0));
        assert_eq!(chart.gaps, [(70_000, 290_000)], "gaps outside the range are left out");
    }

    #[test]
    fn a_stored_share_pairs_each_point_with_the_whole_before_it() {
        let part = Answer { points: vec![(10, 1.0), (25, 3.0)], bands: vec![(10, 1.0, 2.0)], ..Answer::default() };
        let whole = Answer { points: vec![(5, 4.0), (20, 6.0)], ..Answer::default() };
        let (points, bands) = stored(&part, 1.0, Some((&whole, 1.0)));
        assert_eq!(points, [(10, 25.0), (25, 50.0)]);
        assert_eq!(bands, [(10, 25.0, 50.0)]);
        let (points, _) = stored(&part, 1.0, Some((&Answer { points: vec![(5, 0.0)], ..Answer::default() }, 1.0)));
        assert!(points.is_empty(), "no share of a zero whole");
    }
}
