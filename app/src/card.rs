//! What one card shows, derived from the model: its label, level, value (or its members' values,
//! or a row of bars) and sparkline, all as ready-to-render text, so that a card whose text did not
//! change is not touched.

use livedash::series::{self, Formatted, Level, Unit};
use livedash::settings::SeriesSettings;

use crate::model::{Model, Points, SourceModel};
use crate::plot::{Plot, extent, thin};

/// The sparkline's box in SVG user units (drawn stretched to the card's width).
pub const SPARK_W: f64 = 600.0;
/// See [`SPARK_W`].
pub const SPARK_H: f64 = 100.0;
/// The most recent points a sparkline draws (a card stays cheap however long the history is).
pub const SPARK_POINTS: usize = 300;
/// Pixel columns a sparkline keeps two points for.
const SPARK_COLUMNS: usize = 60;

/// One member of a group card.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberView {
    /// Its label (`1 m`) or index.
    pub label: String,
    /// Its latest value.
    pub value: Formatted,
    /// Its level.
    pub level: Level,
}

/// What one card shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CardView {
    /// The card's label.
    pub label: String,
    /// The most alarming member's level.
    pub level: Level,
    /// The headline value (a single series, a share, or a percentage group's mean).
    pub value: Option<Formatted>,
    /// A line under the value ("5.2 GiB of 16 GiB", "mean of 8").
    pub caption: Option<String>,
    /// A group's members (empty for a single series).
    pub members: Vec<MemberView>,
    /// A percentage group's bars: height 0–100, level, title.
    pub bars: Vec<(f64, Level, String)>,
    /// The sparkline's line and area path data; `None` when the settings turn it off.
    pub spark: Option<(String, String)>,
    /// Its alert that fires or is pending, in words (`Firing: cpu busy`); empty when none.
    pub alert: String,
}

/// The members of card `key`: `(settings, name, points)` in index order, hidden ones left out.
pub fn members<'a>(src: &'a SourceModel, key: &str) -> Vec<(std::sync::Arc<SeriesSettings>, &'a str, &'a Points)> {
    // Every member's name starts with the key: a range of the sorted map, not a scan of all.
    let mut found: Vec<(usize, &String, &Points)> = src
        .series
        .range::<str, _>((std::ops::Bound::Included(key), std::ops::Bound::Unbounded))
        .take_while(|(name, _)| name.starts_with(key))
        .filter_map(|(name, pts)| match series::group_of(name) {
            Some((base, i)) if base == key => Some((i, name, pts)),
            None if name == key => Some((0, name, pts)),
            _ => None,
        })
        .collect();
    found.sort_by_key(|(i, _, _)| *i);
    found
        .into_iter()
        .map(|(_, name, pts)| (src.settings_of(name), name.as_str(), pts))
        .filter(|(s, _, _)| !s.hidden)
        .collect()
}

/// The last `limit` points of `points`.
fn recent(points: &Points, limit: usize) -> impl Iterator<Item = &(u64, f64)> {
    points.range(points.len().saturating_sub(limit)..)
}

/// The points of a share (`of`): `100 × part / whole` at every time both have, over the last
/// `limit` points of `part`.
pub fn share_points(part: &Points, whole: &Points, limit: usize) -> Vec<(u64, f64)> {
    let mut out = Vec::with_capacity(part.len().min(limit));
    let first = part.len().saturating_sub(limit);
    let skip = part.get(first).map_or(whole.len(), |&(t, _)| whole.partition_point(|p| p.0 < t));
    let mut w = whole.range(skip..).peekable();
    for &(t, x) in recent(part, limit) {
        while w.next_if(|p| p.0 < t).is_some() {}
        if let Some(&&(tw, total)) = w.peek()
            && tw == t
            && total != 0.0
        {
            out.push((t, 100.0 * x / total));
        }
    }
    out
}

/// The mean of the members at each time any of them has, over their last `limit` points.
fn mean_points(members: &[&Points], limit: usize) -> Vec<(u64, f64)> {
    let mut sums: std::collections::BTreeMap<u64, (f64, u32)> = std::collections::BTreeMap::new();
    for pts in members {
        for &(t, x) in recent(pts, limit) {
            let e = sums.entry(t).or_insert((0.0, 0));
            e.0 += x;
            e.1 += 1;
        }
    }
    sums.into_iter().map(|(t, (sum, n))| (t, sum / f64::from(n))).collect()
}

/// Sparkline paths for `points`; percentages on a fixed 0–100 scale, others on their own range.
pub fn spark(points: &[(u64, f64)], unit: Unit) -> (String, String) {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (String::new(), String::new());
    };
    let y = if unit == Unit::Percent { Some((0.0, 100.0)) } else { extent(points.iter().map(|p| p.1)) };
    let plot = Plot { t: (first.0, last.0.max(first.0 + 1)), y: y.unwrap_or((0.0, 1.0)), w: SPARK_W, h: SPARK_H };
    let points = thin(points, SPARK_COLUMNS);
    // Broken where the large chart breaks (a restart, a source down): never joined across.
    let times: Vec<u64> = points.iter().map(|p| p.0).collect();
    let breaks = plot.breaks(&times, &[]);
    (plot.lines(&points, &breaks), plot.areas(&points, &breaks))
}

impl Model {
    /// The label and level of card `key` of `source` from its latest values only (cheaper than
    /// [`Model::card`]: no sparkline), for the page's threshold summary.
    pub fn card_level(&self, source: &str, key: &str) -> Option<(String, Level)> {
        let src = self.sources.get(source)?;
        let card = src.settings_of(key);
        let label = card.label.clone().unwrap_or_else(|| series::label(key));
        let mut level = Level::Normal;
        for (s, _, pts) in members(src, key) {
            let &(_, x) = pts.back()?;
            // A share is read as the card reads it: the latest part with its whole at that time.
            let x = match s.of.as_deref() {
                Some(whole) => match src.series.get(whole).and_then(|w| share_points(pts, w, 1).pop()) {
                    Some((_, share)) => share,
                    None => continue,
                },
                None => x,
            };
            level = level.max(s.level(x));
        }
        Some((label, level))
    }

    /// What the card `key` of `source` shows, if the source has such series.
    pub fn card(&self, source: &str, key: &str) -> Option<CardView> {
        let src = self.sources.get(source)?;
        let card = src.settings_of(key);
        let members = members(src, key);
        let label = card.label.clone().unwrap_or_else(|| series::label(key));
        let mut view = CardView {
            label,
            level: Level::Normal,
            value: None,
            caption: None,
            members: vec![],
            bars: vec![],
            spark: None,
            alert: self.card_alert(source, key).map_or_else(String::new, |i| {
                let word = if i.state == livedash::alerts::AlertState::Firing { "Firing" } else { "Pending" };
                format!("{word}: {}", i.rule)
            }),
        };
        let points: Vec<(u64, f64)> = match members.as_slice() {
            [] => return None,
            [(s, _, pts)] if s.of.is_some() => {
                let whole_name = s.of.as_deref().unwrap_or_default();
                let whole = src.series.get(whole_name)?;
                let points = share_points(pts, whole, SPARK_POINTS);
                let &(_, share) = points.last()?;
                // Both in the whole's unit (the part's own is now the share's percent).
                let whole_settings = src.settings_of(whole_name);
                let style = whole_settings.style();
                let (part, total) = (pts.back()?.1, whole.back()?.1);
                view.caption =
                    Some(format!("{} of {}", series::format_as(part, style), series::format_as(total, style)));
                view.value = Some(series::format_as(share, s.style()));
                view.level = s.level(share);
                points
            }
            [(s, _, pts)] => {
                let &(_, x) = pts.back()?;
                view.value = Some(series::format_as(x, s.style()));
                view.level = s.level(x);
                recent(pts, SPARK_POINTS).copied().collect()
            }
            many => {
                for (i, (s, name, pts)) in many.iter().enumerate() {
                    let Some(&(_, x)) = pts.back() else { continue };
                    let index = series::group_of(name).map_or(i, |(_, i)| i);
                    let level = s.level(x);
                    view.level = view.level.max(level);
                    if card.unit == Unit::Percent {
                        view.bars.push((x.clamp(0.0, 100.0), level, series::format_as(x, s.style()).to_string()));
                    }
                    let label = s.label.clone().unwrap_or_else(|| index.to_string());
                    view.members.push(MemberView { label, value: series::format_as(x, s.style()), level });
                }
                if card.unit == Unit::Percent {
                    let all: Vec<&Points> = many.iter().map(|m| m.2).collect();
                    let mean = mean_points(&all, SPARK_POINTS);
                    let &(_, m) = mean.last()?;
                    view.value = Some(series::format_as(m, card.style()));
                    view.caption = Some(format!("mean of {}", many.len()));
                    view.members.clear();
                    mean
                } else {
                    recent(many[0].2, SPARK_POINTS).copied().collect()
                }
            }
        };
        if card.sparkline {
            view.spark = Some(spark(&points, card.unit));
        }
        Some(view)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use livedash::settings::{SeriesRule, local_defaults};

    use super::*;
    use crate::model::tests::{hello, sample};

    #[test]
    fn cards_group_indexed_series() {
        let model = Model::from_hello(hello(vec![sample(
            1,
            "s",
            r#"{"load_avg": [3, 1, 2], "core_pct": [10, 95], "seq": 9, "gen_ts_ns": 1}"#,
        )]));
        assert_eq!(model.card_keys("s"), ["load_avg", "core_pct"], "data order; meta series get no card");
        let load = model.card("s", "load_avg").expect("card");
        assert_eq!(load.label, "Load average");
        let values: Vec<String> = load.members.iter().map(|m| m.value.value.clone()).collect();
        assert_eq!(values, ["3", "1", "2"]);
        assert_eq!(load.members[2].label, "2");
        let cores = model.card("s", "core_pct").expect("card");
        assert_eq!(cores.level, Level::Critical, "one core at 95 % makes the card critical");
        assert_eq!(cores.value.expect("mean").to_string(), "52.5 %");
        assert_eq!(cores.bars.len(), 2);
        assert!(model.card("s", "nope").is_none());
        assert!(model.card("nope", "load_avg").is_none());
    }

    #[test]
    fn local_defaults_make_load_memory_and_uptime_read_well() {
        let mut h = hello(vec![sample(
            1,
            "local",
            r#"{"load_avg": [0.5, 0.25, 1], "mem_used_bytes": 4294967296, "mem_total_bytes": 17179869184,
                "mem_pct": 25, "uptime_s": 4000}"#,
        )]);
        h.settings.insert("local".into(), local_defaults());
        let model = Model::from_hello(h);
        assert_eq!(model.card_keys("local"), ["load_avg", "mem_used_bytes", "uptime_s"]);
        let load = model.card("local", "load_avg").expect("card");
        assert_eq!(load.label, "Load");
        assert_eq!(load.members.iter().map(|m| m.label.as_str()).collect::<Vec<_>>(), ["1 m", "5 m", "15 m"]);
        let mem = model.card("local", "mem_used_bytes").expect("card");
        assert_eq!((mem.label.as_str(), mem.value.expect("value").to_string()), ("Memory", "25 %".to_owned()));
        assert_eq!(mem.caption.as_deref(), Some("4 GiB of 16 GiB"));
        assert!(model.card("local", "uptime_s").expect("card").spark.is_none(), "no sparkline for uptime");
    }

    #[test]
    fn configured_thresholds_decimals_and_suffix_show() {
        let mut h = hello(vec![sample(1, "api", r#"{"latency": 250.456, "free": 3}"#)]);
        let rule = |p: &str| SeriesRule { pattern: p.into(), ..SeriesRule::default() };
        h.settings.insert(
            "api".into(),
            vec![
                SeriesRule {
                    label: Some("p99".into()),
                    suffix: Some("ms".into()),
                    decimals: Some(1),
                    warn_above: Some(100.0),
                    critical_above: Some(500.0),
                    ..rule("latency")
                },
                SeriesRule { critical_below: Some(5.0), ..rule("free") },
            ],
        );
        let model = Model::from_hello(h);
        let latency = model.card("api", "latency").expect("card");
        assert_eq!((latency.label.as_str(), latency.level), ("p99", Level::Warn));
        assert_eq!(latency.value.expect("value").to_string(), "250.5 ms");
        assert_eq!(model.card("api", "free").expect("card").level, Level::Critical);
    }

    #[test]
    fn shares_pair_points_by_time() {
        let part = VecDeque::from([(1, 1.0), (2, 2.0), (3, 3.0)]);
        let whole = VecDeque::from([(2, 4.0), (3, 0.0)]);
        assert_eq!(share_points(&part, &whole, 10), [(2, 50.0)], "no whole at 1, a zero whole at 3");
        assert!(share_points(&part, &whole, 1).is_empty(), "only the last point of the part: its whole is 0");
    }

    #[test]
    fn sparklines_span_the_box() {
        let (line, area) = spark(&[(0, 0.0), (500, 50.0), (1000, 100.0)], Unit::Percent);
        assert_eq!(line, "M0,100L300,50L600,0");
        assert!(area.starts_with(&line) && area.ends_with('Z'));
        assert_eq!(spark(&[], Unit::Plain), (String::new(), String::new()));
    }

    #[test]
    fn sparklines_break_where_the_chart_breaks() {
        // A sample a second, a restart that lost 40 s, a sample a second again.
        let points: Vec<(u64, f64)> = (0..60).chain(100..160).map(|s| (s * 1000, 50.0)).collect();
        let (line, area) = spark(&points, Unit::Percent);
        assert_eq!(line.matches('M').count(), 2, "two runs, not joined across the gap: {line}");
        assert_eq!(area.matches('Z').count(), 2, "an area under each run");
        let plot = Plot { t: (0, 159_000), y: (0.0, 100.0), w: SPARK_W, h: SPARK_H };
        let times: Vec<u64> = points.iter().map(|p| p.0).collect();
        assert_eq!(plot.breaks(&times, &[]), [60], "the rule the large chart uses");
    }
}
