//! What a large chart shows, derived from the model: one line per visible member of a card (a
//! single series, a group's members, or a share in percent), within the chosen window.

use std::sync::Arc;

use livedash::series;
use livedash::settings::SeriesSettings;

use crate::card::{members, share_points};
use crate::model::Model;

/// The windows a chart offers, as `(query value, label, ms)`.
pub const WINDOWS: &[(&str, &str, u64)] =
    &[("1m", "1 min", 60_000), ("5m", "5 min", 300_000), ("10m", "10 min", 600_000)];

/// The window a query value names (5 minutes when it names none).
pub fn window_ms(value: Option<&str>) -> (&'static str, u64) {
    WINDOWS.iter().find(|w| Some(w.0) == value).or(WINDOWS.get(1)).map_or(("5m", 300_000), |w| (w.0, w.2))
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Its label in the legend (the card's label for a single series).
    pub label: String,
    /// Its settings (style, thresholds).
    pub settings: Arc<SeriesSettings>,
    /// Its points within the window, oldest first.
    pub points: Vec<(u64, f64)>,
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
    /// The window's start and end (ms): the end is the source's last sample.
    pub t: (u64, u64),
}

impl Model {
    /// The chart of card `key` of `source` over the last `window` ms of its data.
    pub fn chart(&self, source: &str, key: &str, window: u64) -> Option<ChartData> {
        let src = self.sources.get(source)?;
        let settings = src.settings_of(key);
        let members = members(src, key);
        let end = src.last_ts_ms;
        let start = end.saturating_sub(window);
        let within = |pts: Vec<(u64, f64)>| pts.into_iter().filter(|p| p.0 >= start).collect::<Vec<_>>();
        let single = members.len() == 1;
        let lines = members
            .iter()
            .filter_map(|(s, name, pts)| {
                let points = match s.of.as_deref() {
                    Some(whole) => share_points(pts, src.series.get(whole)?, usize::MAX),
                    None => pts.iter().copied().collect(),
                };
                let index = series::group_of(name).map(|(_, i)| i.to_string());
                let label = match (single, &s.label, index) {
                    (true, _, _) => settings.label.clone().unwrap_or_else(|| series::label(key)),
                    (false, Some(l), _) => l.clone(),
                    (false, None, Some(i)) => i,
                    (false, None, None) => (*name).to_owned(),
                };
                Some(Line { label, settings: s.clone(), points: within(points) })
            })
            .collect::<Vec<_>>();
        if lines.is_empty() {
            return None;
        }
        let label = settings.label.clone().unwrap_or_else(|| series::label(key));
        Some(ChartData { label, settings, lines, t: (start, end.max(start + 1)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{hello, sample};

    #[test]
    fn a_chart_holds_the_window_and_every_member() {
        let history = (1..=400).map(|seq| sample(seq, "s", r#"{"load_avg": [1, 2, 3], "x": 5}"#)).collect();
        let model = Model::from_hello(hello(history));
        let chart = model.chart("s", "load_avg", 60_000).expect("chart");
        assert_eq!(chart.lines.len(), 3);
        assert_eq!(chart.lines[1].label, "1");
        assert_eq!(chart.t, (340_000, 400_000));
        assert_eq!(chart.lines[0].points.len(), 61, "one a second over a minute, both ends in");
        let x = model.chart("s", "x", 600_000).expect("chart");
        assert_eq!((x.lines.len(), x.lines[0].label.as_str()), (1, "X"));
        assert!(model.chart("s", "nope", 1).is_none());
        assert_eq!(window_ms(Some("10m")), ("10m", 600_000));
        assert_eq!(window_ms(Some("bogus")), ("5m", 300_000));
    }
}
