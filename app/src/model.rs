//! What the dashboard shows, built from protocol frames: per source, its status, its host name and
//! a bounded history of every numeric series, grouped into cards.
//!
//! Pure Rust with no reactive types, so that it renders identically on the server and in the
//! browser (hydration needs both to agree) and is tested without either.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use indexmap::IndexMap;
use livedash::series::{self, Level, Unit};
use livedash::{Frame, Hello, Sample, SourceStatus, flatten};
use serde_json::Value;

/// How many points each series keeps for its sparkline.
pub const MAX_POINTS: usize = 600;

/// A series' history: `(receive time in ms, value)`, oldest first.
pub type Points = VecDeque<(u64, f64)>;

/// One series of a card: its index in the group (0 for a single series), name and history.
type Member<'a> = (usize, &'a String, &'a Points);

/// One source as the page knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceModel {
    /// Its last reported status, if any.
    pub status: Option<SourceStatus>,
    /// The `host` string of its last sample, if it has one.
    pub host: Option<String>,
    /// Receive time of its last sample (ms since the epoch).
    pub last_ts_ms: u64,
    /// Every numeric series, by name.
    pub series: BTreeMap<String, Points>,
    /// Card keys (series or group names) in the order they first appeared in the data.
    pub cards: Vec<String>,
}

/// Everything the page shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// Sources by name, in the server's order (the configured one).
    pub sources: IndexMap<Arc<str>, SourceModel>,
    /// The highest sequence number applied: the `since` for a resume.
    pub last_seq: u64,
    /// The fetch interval of each source (ms).
    pub interval_ms: BTreeMap<String, u64>,
    /// The server's clock when the last `hello` was built (ms since the epoch).
    pub server_time_ms: u64,
}

/// What one card shows: a single series, or a group of indexed series (`load_avg.0..2`).
#[derive(Debug, Clone, PartialEq)]
pub struct CardView {
    /// The series or group name.
    pub key: String,
    /// A human label.
    pub label: String,
    /// The unit of every member.
    pub unit: Unit,
    /// The latest value of each member: `(member name, value)`; one entry for a single series.
    pub latest: Vec<(String, f64)>,
    /// The sparkline's points (the first member's history, or the members' mean for a group).
    pub points: Vec<(u64, f64)>,
    /// The most alarming member's level.
    pub level: Level,
}

impl Model {
    /// A model holding exactly what `hello` carries.
    pub fn from_hello(hello: Hello) -> Self {
        let mut model = Self::default();
        model.apply_hello(hello);
        model
    }

    /// Applies any frame.
    pub fn apply(&mut self, frame: Frame) {
        match frame {
            Frame::Hello(h) => self.apply_hello(h),
            Frame::Sample(s) => self.apply_sample(&s),
            Frame::Status(s) => self.apply_status(s),
        }
    }

    /// Replaces everything with the content of `hello`.
    pub fn apply_hello(&mut self, hello: Hello) {
        *self = Self { interval_ms: hello.interval_ms, server_time_ms: hello.server_time_ms, ..Self::default() };
        for status in hello.sources {
            self.apply_status(status);
        }
        for sample in &hello.history {
            self.apply_sample(sample);
        }
    }

    /// Records a source's status.
    pub fn apply_status(&mut self, status: SourceStatus) {
        let source = status.source.clone();
        self.sources.entry(source).or_default().status = Some(status);
    }

    /// Adds a sample's numeric series; a sample already applied (same or lower `seq`) is ignored,
    /// so a resume that overlaps what the page has changes nothing.
    pub fn apply_sample(&mut self, sample: &Sample) {
        if sample.seq <= self.last_seq {
            return;
        }
        self.last_seq = sample.seq;
        let source = self.sources.entry(sample.source.clone()).or_default();
        source.last_ts_ms = source.last_ts_ms.max(sample.ts_ms);
        // The data was valid JSON when the server stored it; anything else is skipped, not fatal.
        let Ok(value) = serde_json::from_str::<Value>(sample.data.get()) else {
            return;
        };
        source.host = value.get("host").and_then(Value::as_str).map(str::to_owned);
        for (name, x) in flatten(&value) {
            if series::is_meta(&name) {
                continue;
            }
            let card = series::group_of(&name).map_or(name.as_str(), |(base, _)| base);
            if !source.cards.iter().any(|c| c == card) {
                source.cards.push(card.to_owned());
            }
            let points = source.series.entry(name).or_default();
            points.push_back((sample.ts_ms, x));
            if points.len() > MAX_POINTS {
                points.pop_front();
            }
        }
    }

    /// The card keys of a source, in the order the source's data first had them.
    pub fn card_keys(&self, source: &str) -> Vec<String> {
        self.sources.get(source).map(|s| s.cards.clone()).unwrap_or_default()
    }

    /// What the card `key` of `source` shows, if the source has such series.
    pub fn card(&self, source: &str, key: &str) -> Option<CardView> {
        let src = self.sources.get(source)?;
        let mut members: Vec<Member<'_>> = src
            .series
            .iter()
            .filter_map(|(name, pts)| match series::group_of(name) {
                Some((base, i)) if base == key => Some((i, name, pts)),
                None if name == key => Some((0, name, pts)),
                _ => None,
            })
            .collect();
        if members.is_empty() {
            return None;
        }
        members.sort_by_key(|(i, _, _)| *i);
        let unit = Unit::of(members[0].1);
        let latest: Vec<(String, f64)> =
            members.iter().filter_map(|(_, name, pts)| pts.back().map(|&(_, x)| ((*name).clone(), x))).collect();
        let level = latest.iter().map(|&(_, x)| Level::of(x, unit)).max_by_key(|l| *l as u8).unwrap_or(Level::Normal);
        let points = if members.len() == 1 { members[0].2.iter().copied().collect() } else { mean_points(&members) };
        Some(CardView { key: key.to_owned(), label: series::label(key), unit, latest, points, level })
    }
}

/// The mean of the members at each time stamp the first member has.
fn mean_points(members: &[Member<'_>]) -> Vec<(u64, f64)> {
    let mut sums: BTreeMap<u64, (f64, u32)> = BTreeMap::new();
    for (_, _, pts) in members {
        for &(t, x) in *pts {
            let e = sums.entry(t).or_insert((0.0, 0));
            e.0 += x;
            e.1 += 1;
        }
    }
    sums.into_iter().map(|(t, (sum, n))| (t, sum / f64::from(n))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use livedash::{PROTOCOL_VERSION, SourceState};
    use serde_json::value::RawValue;

    fn sample(seq: u64, source: &str, data: &str) -> Sample {
        Sample {
            seq,
            source: Arc::from(source),
            ts_ms: 1000 * seq,
            data: Arc::from(RawValue::from_string(data.to_owned()).expect("json")),
        }
    }

    fn hello(history: Vec<Sample>) -> Hello {
        Hello {
            v: PROTOCOL_VERSION,
            server_time_ms: 42,
            interval_ms: BTreeMap::new(),
            history,
            sources: vec![],
            settings: BTreeMap::new(),
        }
    }

    #[test]
    fn hello_history_becomes_series() {
        let model = Model::from_hello(hello(vec![
            sample(1, "local", r#"{"cpu_pct": 10, "host": "box", "load_avg": [1, 2, 3]}"#),
            sample(2, "local", r#"{"cpu_pct": 20, "host": "box", "load_avg": [2, 2, 2]}"#),
        ]));
        assert_eq!(model.last_seq, 2);
        assert_eq!(model.server_time_ms, 42);
        let src = &model.sources["local"];
        assert_eq!(src.host.as_deref(), Some("box"));
        assert_eq!(src.series["cpu_pct"], VecDeque::from([(1000, 10.0), (2000, 20.0)]));
        assert_eq!(model.card_keys("local"), ["cpu_pct", "load_avg"]);
    }

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
        assert_eq!(load.latest.iter().map(|(_, x)| *x).collect::<Vec<_>>(), [3.0, 1.0, 2.0]);
        assert_eq!(load.points, [(1000, 2.0)], "a group's sparkline is the members' mean");
        let cores = model.card("s", "core_pct").expect("card");
        assert_eq!(cores.unit, Unit::Percent);
        assert_eq!(cores.level, Level::Critical, "one core at 95 % makes the card critical");
        assert!(model.card("s", "nope").is_none());
        assert!(model.card("nope", "load_avg").is_none());
    }

    #[test]
    fn duplicate_and_old_samples_are_ignored() {
        let mut model = Model::default();
        model.apply(Frame::Sample(sample(5, "a", r#"{"x": 1}"#)));
        model.apply(Frame::Sample(sample(5, "a", r#"{"x": 2}"#)));
        model.apply(Frame::Sample(sample(3, "a", r#"{"x": 3}"#)));
        model.apply(Frame::Sample(sample(6, "a", r#"{"x": 4}"#)));
        let xs: Vec<f64> = model.sources["a"].series["x"].iter().map(|p| p.1).collect();
        assert_eq!(xs, [1.0, 4.0]);
    }

    #[test]
    fn history_per_series_is_bounded() {
        let mut model = Model::default();
        for seq in 1..=(MAX_POINTS as u64 + 10) {
            model.apply_sample(&sample(seq, "a", r#"{"x": 1}"#));
        }
        assert_eq!(model.sources["a"].series["x"].len(), MAX_POINTS);
    }

    #[test]
    fn status_frames_are_kept_per_source() {
        let mut model = Model::default();
        let status = SourceStatus {
            source: Arc::from("up"),
            state: SourceState::Failing,
            error: Some("timeout".into()),
            since_ms: 1,
        };
        model.apply(Frame::Status(status.clone()));
        assert_eq!(model.sources["up"].status, Some(status));
        assert!(model.card_keys("up").is_empty());
    }

    #[test]
    fn sources_keep_the_servers_order() {
        let status =
            |name: &str| SourceStatus { source: Arc::from(name), state: SourceState::Ok, error: None, since_ms: 0 };
        let mut h = hello(vec![]);
        h.sources = vec![status("zeta"), status("alpha"), status("mid")];
        let model = Model::from_hello(h);
        assert_eq!(model.sources.keys().map(|k| k.to_string()).collect::<Vec<_>>(), ["zeta", "alpha", "mid"]);
    }

    #[test]
    fn a_new_hello_replaces_everything() {
        let mut model = Model::from_hello(hello(vec![sample(9, "old", r#"{"x": 1}"#)]));
        model.apply(Frame::Hello(hello(vec![sample(3, "new", r#"{"y": 1}"#)])));
        assert!(!model.sources.contains_key("old"));
        assert_eq!(model.last_seq, 3, "a hello resets the resume point");
    }
}
