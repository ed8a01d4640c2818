//! What the dashboard shows, built from protocol frames: per source, its status, its host name, its
//! per-series settings and a bounded history of every numeric series, grouped into cards.
//!
//! Pure Rust with no reactive types, so that it renders identically on the server and in the
//! browser (hydration needs both to agree) and is tested without either. What one card or chart
//! shows is derived in [`crate::view`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use indexmap::IndexMap;
use livedash::series;
use livedash::settings::{SeriesRule, SeriesSettings};
use livedash::{ClusterStatus, Frame, Hello, Sample, SourceStatus, StoreStatus, flatten};
use serde_json::Value;

/// The most points each series keeps (ten minutes at 6 samples a second).
pub const MAX_POINTS: usize = 3600;
/// The longest time span each series keeps, in ms: the widest chart window.
pub const MAX_SPAN_MS: u64 = 10 * 60 * 1000;

/// A series' history: `(receive time in ms, scaled value)`, oldest first.
pub type Points = VecDeque<(u64, f64)>;

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
    /// Card keys (series or group names) in the order they first appeared in the data; hidden
    /// ones are left out.
    pub cards: Vec<String>,
    /// Its settings rules, from the `hello`.
    pub rules: Arc<[SeriesRule]>,
    /// The settings of every series and card key seen, resolved once.
    pub settings: BTreeMap<String, Arc<SeriesSettings>>,
}

impl SourceModel {
    /// The settings of a series or card key (resolved now if it was never seen).
    pub fn settings_of(&self, name: &str) -> Arc<SeriesSettings> {
        self.settings.get(name).cloned().unwrap_or_else(|| Arc::new(SeriesSettings::resolve(&self.rules, name)))
    }

    fn remember(&mut self, name: &str) -> Arc<SeriesSettings> {
        if let Some(s) = self.settings.get(name) {
            return s.clone();
        }
        let s = Arc::new(SeriesSettings::resolve(&self.rules, name));
        self.settings.insert(name.to_owned(), s.clone());
        s
    }
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
    /// Each source's settings rules.
    pub rules: BTreeMap<String, Arc<[SeriesRule]>>,
    /// Whether the server is saving history to disk (`None`: it keeps it in memory only).
    pub store: Option<StoreStatus>,
    /// Whether the sources are fetched once for several servers (`None`: this server alone).
    pub cluster: Option<ClusterStatus>,
    /// The alert instances that are not ok (absent: the server has no rules).
    pub alerts: Option<livedash::alerts::AlertsStatus>,
    /// The epoch `last_seq` was read in: a resume names both.
    pub last_epoch: Option<String>,
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
            Frame::Store(s) => self.store = Some(s),
            Frame::Cluster(c) => self.cluster = Some(c),
            Frame::Alerts(a) => self.alerts = Some(a),
            // The fleet's summary streams are read by the fleet pages, not the dashboard's model.
            Frame::Fleet(_) | Frame::Points(_) => {}
        }
    }

    /// The alert of card `key` of `source` (its series or one of its members) that matters most,
    /// if one is firing or pending.
    pub fn card_alert(&self, source: &str, key: &str) -> Option<&livedash::alerts::AlertInstance> {
        use livedash::alerts::AlertState::{Firing, Pending};
        self.alerts.as_ref()?.instances.iter().find(|i| {
            let card = i.series.as_deref().map(|s| series::group_of(s).map_or(s, |(base, _)| base));
            matches!(i.state, Firing | Pending) && &*i.source == source && card == Some(key)
        })
    }

    /// Replaces everything with the content of `hello`.
    pub fn apply_hello(&mut self, hello: Hello) {
        let rules = hello.settings.into_iter().map(|(k, v)| (k, Arc::from(v))).collect();
        *self = Self {
            interval_ms: hello.interval_ms,
            server_time_ms: hello.server_time_ms,
            rules,
            store: hello.store,
            last_epoch: hello.cluster.as_ref().map(|c| c.epoch.clone()),
            cluster: hello.cluster,
            alerts: hello.alerts,
            ..Self::default()
        };
        for status in hello.sources {
            self.apply_status(status);
        }
        for sample in &hello.history {
            self.apply_sample(sample);
        }
    }

    /// The source `name`, made with its rules when it is new.
    fn source_mut(&mut self, name: &Arc<str>) -> &mut SourceModel {
        let rules = &self.rules;
        self.sources.entry(name.clone()).or_insert_with(|| SourceModel {
            rules: rules.get(&**name).cloned().unwrap_or_else(|| Arc::from([])),
            ..SourceModel::default()
        })
    }

    /// Records a source's status.
    pub fn apply_status(&mut self, status: SourceStatus) {
        let source = status.source.clone();
        if status.state == livedash::SourceState::Gone {
            // Removed at run time (a fleet host out of the targets file): no card of it stays.
            self.sources.shift_remove(&source);
            return;
        }
        self.source_mut(&source).status = Some(status);
    }

    /// Adds a sample's numeric series; a sample already applied (same or lower `seq`) is ignored,
    /// so a resume that overlaps what the page has changes nothing.
    pub fn apply_sample(&mut self, sample: &Sample) {
        if sample.seq <= self.last_seq {
            return;
        }
        self.last_seq = sample.seq;
        if let Some(cluster) = &self.cluster
            && self.last_epoch.as_deref() != Some(&cluster.epoch)
        {
            self.last_epoch = Some(cluster.epoch.clone());
        }
        let source = self.source_mut(&sample.source);
        source.last_ts_ms = source.last_ts_ms.max(sample.ts_ms);
        // The data was valid JSON when the server stored it; anything else is skipped, not fatal.
        let Ok(value) = serde_json::from_str::<Value>(sample.data.get()) else {
            return;
        };
        source.host = value.get("host").and_then(Value::as_str).map(str::to_owned);
        let oldest = sample.ts_ms.saturating_sub(MAX_SPAN_MS);
        for (name, x) in flatten(&value) {
            if series::is_meta(&name) {
                continue;
            }
            let card = series::group_of(&name).map_or(name.as_str(), |(base, _)| base);
            if !source.settings.contains_key(card) && !source.remember(card).hidden {
                // First seen now: cards keep the order in which the data first had them.
                source.cards.push(card.to_owned());
            }
            let settings = source.remember(&name);
            let points = source.series.entry(name).or_default();
            points.push_back((sample.ts_ms, x * settings.scale));
            while points.len() > MAX_POINTS || points.front().is_some_and(|&(t, _)| t < oldest) {
                points.pop_front();
            }
        }
    }

    /// The card keys of a source, in the order the source's data first had them.
    pub fn card_keys(&self, source: &str) -> Vec<String> {
        self.sources.get(source).map(|s| s.cards.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use livedash::{PROTOCOL_VERSION, SourceState};
    use serde_json::value::RawValue;

    pub(crate) fn sample(seq: u64, source: &str, data: &str) -> Sample {
        Sample {
            seq,
            source: Arc::from(source),
            ts_ms: 1000 * seq,
            data: Arc::from(RawValue::from_string(data.to_owned()).expect("json")),
        }
    }

    pub(crate) fn hello(history: Vec<Sample>) -> Hello {
        Hello {
            v: PROTOCOL_VERSION,
            server_time_ms: 42,
            interval_ms: BTreeMap::new(),
            history,
            sources: vec![],
            settings: BTreeMap::new(),
            store: None,
            cluster: None,
            alerts: None,
            fleet: None,
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
    fn settings_scale_values_and_hide_cards() {
        let mut h = hello(vec![sample(1, "up", r#"{"latency_us": 1500, "secret": 1, "net": {"rx": 1, "tx": 2}}"#)]);
        let rule = |pattern: &str| SeriesRule { pattern: pattern.into(), ..SeriesRule::default() };
        h.settings.insert(
            "up".into(),
            vec![
                SeriesRule { scale: Some(0.001), ..rule("latency_us") },
                SeriesRule { hidden: Some(true), ..rule("secret") },
                SeriesRule { hidden: Some(true), ..rule("net.tx") },
            ],
        );
        let model = Model::from_hello(h);
        assert_eq!(model.sources["up"].series["latency_us"][0].1, 1.5);
        assert_eq!(model.card_keys("up"), ["latency_us", "net.rx"], "hidden series get no card");
        assert!(model.sources["up"].series.contains_key("secret"), "a hidden series is still kept");
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
    fn history_per_series_is_bounded_in_time() {
        let mut model = Model::default();
        for seq in 1..=700 {
            model.apply_sample(&sample(seq, "a", r#"{"x": 1}"#));
        }
        let points = &model.sources["a"].series["x"];
        assert_eq!(points.front().map(|p| p.0), Some(700_000 - MAX_SPAN_MS), "ten minutes are kept");
        assert!(points.len() <= MAX_POINTS);
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

    #[test]
    fn the_resume_point_names_the_epoch_its_sample_was_read_in() {
        let cluster = |epoch: &str, shared| ClusterStatus { shared, epoch: epoch.into(), error: None, since_ms: 0 };
        let mut h = hello(vec![sample(5, "up", r#"{"x": 1}"#)]);
        h.cluster = Some(cluster("a", true));
        let mut model = Model::from_hello(h);
        assert_eq!((model.last_seq, model.last_epoch.as_deref()), (5, Some("a")));
        // The epoch changes before any sample of it: the resume point is still a sample of a.
        model.apply(Frame::Cluster(cluster("local-1", false)));
        assert_eq!((model.last_seq, model.last_epoch.as_deref()), (5, Some("a")));
        model.apply(Frame::Sample(sample(6, "up", r#"{"x": 2}"#)));
        assert_eq!((model.last_seq, model.last_epoch.as_deref()), (6, Some("local-1")));
        assert!(model.cluster.as_ref().is_some_and(|c| !c.shared));
        assert_eq!(Model::from_hello(hello(vec![])).last_epoch, None, "a server alone has no epoch");
    }
}
