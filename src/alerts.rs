//! What the server and the page agree on about alerts: an instance's state (one per rule and
//! matching series, or per rule and source for the source rules), the event of a state change,
//! and the `alerts` frame the page is sent on every change (and inside the `hello`).
//!
//! The rules themselves, their evaluation and their events on disk are the server's (its
//! `alerts/` folder); here are only the shapes that cross the wire and the API.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Where an alert instance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition does not hold.
    Ok,
    /// The condition holds, for less than the rule's `for`.
    Pending,
    /// The condition has held for the rule's `for` (or it ended less than `keep_firing_for` ago).
    Firing,
    /// It was firing and the condition has ended (a state change, then the instance is ok).
    Resolved,
    /// The series has no value to judge (absent from the source's samples): not a value of 0.
    NoData,
    /// The source is failing or stale: its value rules are suppressed while the source alert
    /// speaks for it.
    Error,
}

impl AlertState {
    /// The word used on the page, the API and in `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Pending => "pending",
            Self::Firing => "firing",
            Self::Resolved => "resolved",
            Self::NoData => "no_data",
            Self::Error => "error",
        }
    }
}

/// How bad a firing alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Somebody should look.
    #[default]
    Warning,
    /// Somebody should act.
    Critical,
}

/// A silence or an acknowledgement: who, until when, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hush {
    /// The user who made it.
    pub by: String,
    /// When it lifts, in milliseconds since the Unix epoch (an acknowledgement without an end
    /// lasts until the instance resolves: `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
    /// The user's words.
    #[serde(default)]
    pub comment: String,
    /// When it was made, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// One alert instance: a rule and what it watches (a series of a source, or the source itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertInstance {
    /// The rule's `name`.
    pub rule: Arc<str>,
    /// The source.
    pub source: Arc<str>,
    /// The series key; absent for a rule about the source (`when = "failing"` or `"stale"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Arc<str>>,
    /// Its state.
    pub state: AlertState,
    /// The rule's severity.
    pub severity: Severity,
    /// Since when it is in this state (for firing: since it first fired, kept across restarts),
    /// in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// The series' value now (absent for a source rule, or with no data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The worst value seen since it went pending (highest for `above`, lowest for `below`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak: Option<f64>,
    /// The threshold it compares with, and the side: `"above"` or `"below"` (absent for a source
    /// rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
    /// Why, in words (a source's error, "no sample for 5 intervals", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Notifications are held until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silenced: Option<Hush>,
    /// Somebody is on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked: Option<Hush>,
}

/// A value rule's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// `"above"` or `"below"`.
    pub side: Side,
    /// The value it fires past.
    pub value: f64,
    /// The value it resolves at (hysteresis; the same as `value` when no `clear` is set).
    pub clear: f64,
}

/// Which side of its threshold a value rule fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Fires when the value is greater than the threshold.
    Above,
    /// Fires when the value is less than the threshold.
    Below,
}

/// A state change, as kept in the history store and listed by `GET /api/alerts/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Its number in the store (increasing).
    pub id: i64,
    /// The rule's `name`.
    pub rule: Arc<str>,
    /// The source.
    pub source: Arc<str>,
    /// The series (absent for a source rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Arc<str>>,
    /// The state it left.
    pub from: AlertState,
    /// The state it entered.
    pub to: AlertState,
    /// The value at the change (for `resolved`: the value that resolved it, never the last
    /// firing one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The worst value of the episode so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak: Option<f64>,
    /// When, in milliseconds since the Unix epoch (the time of the sample that caused it).
    pub ts_ms: u64,
    /// The rule's severity.
    pub severity: Severity,
    /// The fencing token of the instance that wrote it (0 when not in a cluster).
    #[serde(default)]
    pub token: u64,
}

/// The `alerts` frame: every instance that is not ok (firing and pending first), sent in the
/// `hello` and again whenever one of them changes. Small: ok instances are left out. Read by hand
/// ([`read::status`]), not by a derived decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct AlertsStatus {
    /// How many instances fire.
    pub firing: u32,
    /// How many are pending.
    pub pending: u32,
    /// The instances that are not ok: firing, then pending, then no data and error.
    pub instances: Vec<AlertInstance>,
}

impl AlertsStatus {
    /// `instances` in the order the page lists them, with the counts.
    pub fn new(mut instances: Vec<AlertInstance>) -> Self {
        let rank = |s: AlertState| match s {
            AlertState::Firing => 0,
            AlertState::Pending => 1,
            AlertState::Error => 2,
            AlertState::NoData => 3,
            AlertState::Resolved | AlertState::Ok => 4,
        };
        instances.retain(|i| !matches!(i.state, AlertState::Ok | AlertState::Resolved));
        instances.sort_by(|a, b| {
            (rank(a.state), std::cmp::Reverse(a.severity), a.since_ms, &a.rule, &a.source, &a.series).cmp(&(
                rank(b.state),
                std::cmp::Reverse(b.severity),
                b.since_ms,
                &b.rule,
                &b.source,
                &b.series,
            ))
        });
        let count = |s| u32::try_from(instances.iter().filter(|i| i.state == s).count()).unwrap_or(u32::MAX);
        Self { firing: count(AlertState::Firing), pending: count(AlertState::Pending), instances }
    }

    /// The instance of `source`'s `series` that matters most (firing before pending), if any.
    pub fn for_series(&self, source: &str, series: &str) -> Option<&AlertInstance> {
        self.instances.iter().find(|i| &*i.source == source && i.series.as_deref() == Some(series))
    }
}

impl<'de> Deserialize<'de> for AlertsStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::read::via_value(d, read::status, "alerts status")
    }
}

/// The page's readers of the alerts frame and of the event log, by hand through
/// `serde_json::Value` (see [`crate::read`]): derived decoders for these nested structs and their
/// enums cost the browser bundle about 3 KiB of gzipped WebAssembly.
pub mod read {
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::read::{int, num, opt, opt_string, text, word};

    fn state(v: &Value, key: &str) -> Option<AlertState> {
        use AlertState::*;
        let all = [Ok, Pending, Firing, Resolved, NoData, Error];
        let w = v.get(key)?.as_str()?;
        all.into_iter().find(|s| s.as_str() == w)
    }

    fn severity(v: &Value) -> Option<Severity> {
        word(v, "severity", &[("warning", Severity::Warning), ("critical", Severity::Critical)])
    }

    fn hush(v: &Value) -> Option<Hush> {
        Some(Hush {
            by: v.get("by")?.as_str()?.to_owned(),
            until_ms: opt(v, "until_ms", Value::as_u64)?,
            comment: opt_string(v, "comment")?.unwrap_or_default(),
            at_ms: int(v, "at_ms")?,
        })
    }

    fn threshold(v: &Value) -> Option<Threshold> {
        Some(Threshold {
            side: word(v, "side", &[("above", Side::Above), ("below", Side::Below)])?,
            value: num(v, "value")?,
            clear: num(v, "clear")?,
        })
    }

    fn instance(v: &Value) -> Option<AlertInstance> {
        Some(AlertInstance {
            rule: text(v, "rule")?,
            source: text(v, "source")?,
            series: opt(v, "series", |s| s.as_str().map(Arc::from))?,
            state: state(v, "state")?,
            severity: severity(v)?,
            since_ms: int(v, "since_ms")?,
            value: opt(v, "value", Value::as_f64)?,
            peak: opt(v, "peak", Value::as_f64)?,
            threshold: opt(v, "threshold", threshold)?,
            reason: opt_string(v, "reason")?,
            silenced: opt(v, "silenced", hush)?,
            acked: opt(v, "acked", hush)?,
        })
    }

    /// An [`AlertsStatus`] from its JSON.
    pub fn status(v: &Value) -> Option<AlertsStatus> {
        let count = |key| int(v, key).and_then(|n| u32::try_from(n).ok());
        let instances = v.get("instances")?.as_array()?.iter().map(instance).collect::<Option<_>>()?;
        Some(AlertsStatus { firing: count("firing")?, pending: count("pending")?, instances })
    }

    /// An [`AlertEvent`] from its JSON (one item of `GET /api/alerts/events`).
    pub fn event(v: &Value) -> Option<AlertEvent> {
        Some(AlertEvent {
            id: v.get("id")?.as_i64()?,
            rule: text(v, "rule")?,
            source: text(v, "source")?,
            series: opt(v, "series", |s| s.as_str().map(Arc::from))?,
            from: state(v, "from")?,
            to: state(v, "to")?,
            value: opt(v, "value", Value::as_f64)?,
            peak: opt(v, "peak", Value::as_f64)?,
            ts_ms: int(v, "ts_ms")?,
            severity: severity(v)?,
            token: opt(v, "token", Value::as_u64)?.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(rule: &str, state: AlertState, severity: Severity, since_ms: u64) -> AlertInstance {
        AlertInstance {
            rule: Arc::from(rule),
            source: Arc::from("local"),
            series: Some(Arc::from("cpu_pct")),
            state,
            severity,
            since_ms,
            value: Some(95.0),
            peak: Some(97.0),
            threshold: Some(Threshold { side: Side::Above, value: 90.0, clear: 80.0 }),
            reason: None,
            silenced: None,
            acked: None,
        }
    }

    #[test]
    fn status_lists_firing_first_and_leaves_ok_out() {
        let status = AlertsStatus::new(vec![
            instance("a", AlertState::Pending, Severity::Critical, 1),
            instance("b", AlertState::Ok, Severity::Critical, 1),
            instance("c", AlertState::Firing, Severity::Warning, 5),
            instance("d", AlertState::Firing, Severity::Critical, 9),
        ]);
        let order: Vec<&str> = status.instances.iter().map(|i| &*i.rule).collect();
        assert_eq!(order, ["d", "c", "a"]);
        assert_eq!((status.firing, status.pending), (2, 1));
        assert_eq!(status.for_series("local", "cpu_pct").map(|i| &*i.rule), Some("d"));
    }

    #[test]
    fn the_hand_readers_read_what_the_server_writes() {
        let mut full = instance("a", AlertState::Firing, Severity::Critical, 7);
        let hush = Hush { by: "ann".into(), until_ms: Some(9), comment: "on it".into(), at_ms: 8 };
        (full.silenced, full.acked, full.reason) = (Some(hush.clone()), Some(hush), Some("why".into()));
        let mut bare = instance("b", AlertState::NoData, Severity::Warning, 1);
        (bare.series, bare.value, bare.peak, bare.threshold) = (None, None, None, None);
        let status = AlertsStatus::new(vec![full, bare]);
        let json = serde_json::to_string(&status).expect("json");
        assert_eq!(serde_json::from_str::<AlertsStatus>(&json).expect("reads back"), status);
        for bad in [r#"{"firing":1}"#, r#"{"firing":0,"pending":0,"instances":[{"rule":"a"}]}"#, "[]"] {
            assert!(serde_json::from_str::<AlertsStatus>(bad).is_err(), "{bad}");
        }
        let wrong = json.replace(r#""state":"no_data""#, r#""state":"asleep""#);
        assert!(serde_json::from_str::<AlertsStatus>(&wrong).is_err(), "an unknown state");
        let event = AlertEvent {
            id: 3,
            rule: "a".into(),
            source: "local".into(),
            series: Some("cpu_pct".into()),
            from: AlertState::Pending,
            to: AlertState::Firing,
            value: Some(95.0),
            peak: None,
            ts_ms: 1000,
            severity: Severity::Warning,
            token: 2,
        };
        let v = serde_json::to_value(&event).expect("json");
        assert_eq!(read::event(&v), Some(event));
    }

    #[test]
    fn states_read_as_their_words() {
        let json = serde_json::to_string(&instance("a", AlertState::NoData, Severity::Warning, 1)).expect("json");
        assert!(json.contains(r#""state":"no_data""#) && json.contains(r#""severity":"warning""#), "{json}");
        let back: AlertInstance = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back.state, AlertState::NoData);
    }
}
