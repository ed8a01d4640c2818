//! The wire protocol: JSON text frames, one object per WebSocket message, told apart by `"type"`.
//!
//! The server sends a [`Hello`] first, then a [`Sample`] for every sample of every source and a
//! [`SourceStatus`] whenever a source changes state. The client sends nothing but control frames.
//!
//! A sample's `data` is kept as raw JSON ([`RawValue`]) so that what an upstream returned reaches
//! the browser byte for byte (a field such as `gen_ts_ns` is never rounded through an `f64`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::alerts::AlertsStatus;
use crate::settings::SeriesRule;
use crate::summary::{FigurePoints, FleetUpdate};

/// The version carried in every [`Hello`]; bumped on any incompatible change of the frames.
pub const PROTOCOL_VERSION: u32 = 1;

/// One sample of one source, stamped by the server's hub.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// Global sequence number: strictly increasing across all sources of one server.
    pub seq: u64,
    /// The name of the source that produced it (`local`, or a configured name).
    pub source: Arc<str>,
    /// When the server received it, in milliseconds since the Unix epoch.
    pub ts_ms: u64,
    /// What the source produced, verbatim.
    pub data: Arc<RawValue>,
}

/// Whether a source is currently delivering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceState {
    /// The last fetch succeeded.
    Ok,
    /// The last fetch failed; `error` says why.
    Failing,
    /// No good sample for several intervals.
    Stale,
    /// Removed at run time (a fleet host taken out of the targets file): the source's last status
    /// frame; a reader drops the source. A later `hello` simply leaves it out.
    Gone,
}

/// The state of one source, sent in [`Hello`] and as a `status` frame on every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    /// The source's name.
    pub source: Arc<str>,
    /// Its state.
    pub state: SourceState,
    /// A readable reason when failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Since when it has been in this state, in milliseconds since the Unix epoch.
    pub since_ms: u64,
}

/// Whether the server is saving history to disk: in the `hello` and, on every change, as a
/// `store` frame. Absent when the server keeps history in memory only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreStatus {
    /// Every sample is being written.
    pub saving: bool,
    /// Why not, when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How this server shares its sources with other instances through Redis: in the `hello` and, on
/// every change, as a `cluster` frame. Absent when the server runs alone (no Redis configured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterStatus {
    /// Samples come from the one shared fetch (false: Redis is unreachable and this server fetches
    /// every source by itself).
    pub shared: bool,
    /// The stream the `seq`s belong to: a resume (`?since=N&epoch=E`) is exact only within one
    /// epoch; the samples after a change of epoch are counted anew.
    pub epoch: String,
    /// Why not shared, when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Since when it has been in this state, in milliseconds since the Unix epoch.
    pub since_ms: u64,
}

/// The first frame on every connection, and the body of `GET /api/snapshot`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`].
    pub v: u32,
    /// The server's clock, in milliseconds since the Unix epoch, when the frame was built.
    pub server_time_ms: u64,
    /// The fetch interval of each source, in milliseconds.
    pub interval_ms: BTreeMap<String, u64>,
    /// The samples still in the history, oldest first.
    pub history: Vec<Sample>,
    /// The current state of every source.
    pub sources: Vec<SourceStatus>,
    /// Each source's per-series settings, in the order they apply (sources without any are left out).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, Vec<SeriesRule>>,
    /// Whether history is being saved to disk (absent: memory only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreStatus>,
    /// Whether the sources are fetched once for several instances (absent: this server alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterStatus>,
    /// The alert instances that are not ok (absent: no rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<AlertsStatus>,
    /// The fleet overview's rows, when the socket subscribed to it (a `full` update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<Box<FleetUpdate>>,
}

impl Hello {
    /// The highest sequence number in the history (0 when it is empty).
    pub fn last_seq(&self) -> u64 {
        self.history.iter().map(|s| s.seq).max().unwrap_or(0)
    }
}

/// `value` as raw JSON for a sample's `data`.
pub fn raw_json(value: &serde_json::Value) -> Arc<RawValue> {
    // A Value always serializes to valid JSON; the fallbacks are never taken.
    let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    Arc::from(RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned()))
}

/// Any frame the server sends.
#[derive(Debug, Clone)]
pub enum Frame {
    /// See [`Hello`].
    Hello(Hello),
    /// See [`Sample`].
    Sample(Sample),
    /// See [`SourceStatus`].
    Status(SourceStatus),
    /// See [`StoreStatus`].
    Store(StoreStatus),
    /// See [`ClusterStatus`].
    Cluster(ClusterStatus),
    /// See [`AlertsStatus`].
    Alerts(AlertsStatus),
    /// See [`FleetUpdate`].
    Fleet(FleetUpdate),
    /// See [`FigurePoints`].
    Points(FigurePoints),
}

/// Why a text could not be read as a [`Frame`].
#[derive(Debug)]
pub enum FrameError {
    /// Not JSON, or not the shape of the frame its `type` names.
    Json(serde_json::Error),
    /// A hello of a protocol version this build does not speak.
    Version(u32),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Json(e) => write!(f, "malformed frame: {e}"),
            Self::Version(v) => write!(f, "unsupported protocol version {v} (this client speaks {PROTOCOL_VERSION})"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<serde_json::Error> for FrameError {
    fn from(e: serde_json::Error) -> Self {
        Self::Json(e)
    }
}

/// Serialization view: serde's internally tagged enums add `"type"` when writing, but cannot read
/// a [`RawValue`] back (they buffer the content), so reading goes through [`Frame::from_json`].
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum FrameRef<'a> {
    Hello(&'a Hello),
    Sample(&'a Sample),
    Status(&'a SourceStatus),
    Store(&'a StoreStatus),
    Cluster(&'a ClusterStatus),
    Alerts(&'a AlertsStatus),
    Fleet(&'a FleetUpdate),
    Points(&'a FigurePoints),
}

/// A frame's `type`: read from the text's start, where every frame of this protocol has it
/// (`{"type":"sample",..`), else from the whole frame read as a `Value`. Not a derived decoder,
/// which would cost the browser bundle more than this.
fn frame_type(text: &str) -> Result<std::borrow::Cow<'_, str>, serde_json::Error> {
    if let Some(rest) = text.trim_start().strip_prefix(r#"{"type":""#)
        && let Some(kind) = rest.split('"').next()
        && !kind.contains('\\')
    {
        return Ok(kind.into());
    }
    let v: serde_json::Value = serde_json::from_str(text)?;
    match v.get("type").and_then(serde_json::Value::as_str) {
        Some(kind) => Ok(kind.to_owned().into()),
        None => Err(<serde_json::Error as serde::de::Error>::missing_field("type")),
    }
}

impl Frame {
    /// The frame as one JSON text, `"type"` first.
    pub fn to_json(&self) -> String {
        let view = match self {
            Self::Hello(h) => FrameRef::Hello(h),
            Self::Sample(s) => FrameRef::Sample(s),
            Self::Status(s) => FrameRef::Status(s),
            Self::Store(s) => FrameRef::Store(s),
            Self::Cluster(c) => FrameRef::Cluster(c),
            Self::Alerts(a) => FrameRef::Alerts(a),
            Self::Fleet(f) => FrameRef::Fleet(f),
            Self::Points(p) => FrameRef::Points(p),
        };
        // Room for a sample's data at once, so that a large one is not copied while the buffer grows.
        let data = match self {
            Self::Sample(s) => s.data.get().len(),
            Self::Hello(_)
            | Self::Status(_)
            | Self::Store(_)
            | Self::Cluster(_)
            | Self::Alerts(_)
            | Self::Fleet(_)
            | Self::Points(_) => 0,
        };
        let mut out = Vec::with_capacity(data + 160);
        // A frame is plain data (strings, numbers, raw JSON that was valid when stored): writing
        // it has no failure mode, and what serde_json writes is UTF-8.
        if serde_json::to_writer(&mut out, &view).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }

    /// Reads one frame; fails on malformed JSON, an unknown `type` or a foreign protocol version.
    pub fn from_json(text: &str) -> Result<Self, FrameError> {
        Ok(match &*frame_type(text)? {
            "hello" => {
                let hello: Hello = serde_json::from_str(text)?;
                if hello.v != PROTOCOL_VERSION {
                    return Err(FrameError::Version(hello.v));
                }
                Self::Hello(hello)
            }
            "sample" => Self::Sample(serde_json::from_str(text)?),
            "status" => Self::Status(serde_json::from_str(text)?),
            "store" => Self::Store(serde_json::from_str(text)?),
            "cluster" => Self::Cluster(serde_json::from_str(text)?),
            "alerts" => Self::Alerts(serde_json::from_str(text)?),
            "fleet" => Self::Fleet(serde_json::from_str(text)?),
            "points" => Self::Points(serde_json::from_str(text)?),
            other => {
                let e = <serde_json::Error as serde::de::Error>::custom(format_args!("unknown frame type `{other}`"));
                return Err(FrameError::Json(e));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Arc<RawValue> {
        Arc::from(RawValue::from_string(s.to_owned()).expect("valid json"))
    }

    fn sample(seq: u64, data: &str) -> Sample {
        Sample { seq, source: Arc::from("up"), ts_ms: 1_700_000_000_000 + seq, data: raw(data) }
    }

    #[test]
    fn sample_frame_is_flat_and_tagged_first() {
        let json = Frame::Sample(sample(7, r#"{"cpu":1.5}"#)).to_json();
        assert!(json.starts_with(r#"{"type":"sample","seq":7,"source":"up","#), "{json}");
        assert!(json.ends_with(r#""data":{"cpu":1.5}}"#), "{json}");
    }

    #[test]
    fn upstream_json_travels_byte_for_byte() {
        // A nanosecond timestamp is above 2^53: it must not pass through an f64.
        let body = r#"{"gen_ts_ns":1795480294498238375,"cpu":43.510,"z":1,"a":[1.0e3]}"#;
        let json = Frame::Sample(sample(1, body)).to_json();
        assert!(json.contains(body), "{json}");
        let Frame::Sample(back) = Frame::from_json(&json).expect("parses") else { panic!("not a sample") };
        assert_eq!(back.data.get(), body);
    }

    #[test]
    fn hello_round_trips_with_history_and_sources() {
        let hello = Hello {
            v: PROTOCOL_VERSION,
            server_time_ms: 5,
            interval_ms: BTreeMap::from([("up".to_owned(), 1000)]),
            history: vec![sample(1, "{}"), sample(2, r#"{"x":2}"#)],
            sources: vec![SourceStatus {
                source: Arc::from("up"),
                state: SourceState::Failing,
                error: Some("connection refused".into()),
                since_ms: 3,
            }],
            settings: BTreeMap::new(),
            store: Some(StoreStatus { saving: false, error: Some("disk full".into()) }),
            cluster: Some(ClusterStatus { shared: true, epoch: "e1".into(), error: None, since_ms: 4 }),
            alerts: None,
            fleet: None,
        };
        let json = Frame::Hello(hello).to_json();
        assert!(json.starts_with(r#"{"type":"hello","v":1,"#), "{json}");
        let Frame::Hello(back) = Frame::from_json(&json).expect("parses") else { panic!("not a hello") };
        assert_eq!(back.history.len(), 2);
        assert_eq!(back.last_seq(), 2);
        assert_eq!(back.history[1].data.get(), r#"{"x":2}"#);
        assert_eq!(back.sources[0].state, SourceState::Failing);
        assert_eq!(back.interval_ms["up"], 1000);
        assert_eq!(back.store.and_then(|s| s.error).as_deref(), Some("disk full"));
        let store = Frame::Store(StoreStatus { saving: true, error: None }).to_json();
        assert_eq!(store, r#"{"type":"store","saving":true}"#);
        assert!(matches!(Frame::from_json(&store), Ok(Frame::Store(StoreStatus { saving: true, error: None }))));
        let cluster =
            ClusterStatus { shared: false, epoch: "local-1".into(), error: Some("refused".into()), since_ms: 9 };
        let text = Frame::Cluster(cluster.clone()).to_json();
        assert!(text.starts_with(r#"{"type":"cluster","shared":false,"#), "{text}");
        assert!(matches!(Frame::from_json(&text), Ok(Frame::Cluster(c)) if c == cluster));
    }

    #[test]
    fn values_become_raw_json() {
        assert_eq!(raw_json(&serde_json::json!({"a": [1, 2.5]})).get(), r#"{"a":[1,2.5]}"#);
    }

    #[test]
    fn status_without_error_omits_the_field() {
        let status = SourceStatus { source: Arc::from("a"), state: SourceState::Ok, error: None, since_ms: 9 };
        let json = Frame::Status(status.clone()).to_json();
        assert_eq!(json, r#"{"type":"status","source":"a","state":"ok","since_ms":9}"#);
        let Frame::Status(back) = Frame::from_json(&json).expect("parses") else { panic!("not a status") };
        assert_eq!(back, status);
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        for text in [
            "",
            "null",
            "[]",
            r#"{"type":"nope"}"#,
            r#"{"seq":1}"#,
            r#"{"type":"sample","seq":"x"}"#,
            r#"{"type":"sample","seq":1,"source":"a","ts_ms":1}"#,
            "{\"type\":\"sample\"",
        ] {
            assert!(Frame::from_json(text).is_err(), "accepted {text:?}");
        }
        // The type need not come first, nor be written plainly.
        for text in [r#"{"saving":true,"type":"store"}"#, r#" {"type":"st\u006fre","saving":true}"#] {
            assert!(matches!(Frame::from_json(text), Ok(Frame::Store(_))), "{text}");
        }
    }

    #[test]
    fn foreign_protocol_version_is_refused() {
        let text = r#"{"type":"hello","v":2,"server_time_ms":0,"interval_ms":{},"history":[],"sources":[]}"#;
        assert!(matches!(Frame::from_json(text), Err(FrameError::Version(2))));
    }
}
