//! Hand readers over `serde_json::Value`, for what the browser decodes: a derived decoder per
//! struct (its field names, its enums, each `Option`, for the page's one JSON reader) costs the
//! browser bundle several KiB of gzipped WebAssembly, where reading a `Value`, which the page
//! decodes anyway, costs a few hundred bytes. As strict as a derived decoder on what matters: a
//! required field missing or of the wrong type, or an unknown word, makes the whole read `None`.

use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::protocol::{ClusterStatus, SourceState, SourceStatus, StoreStatus};

/// `T` from any deserializer, through a `Value` and `read`; `what` names it in the error.
pub(crate) fn via_value<'de, D: Deserializer<'de>, T>(
    d: D,
    read: fn(&Value) -> Option<T>,
    what: &str,
) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    read(&v).ok_or_else(|| serde::de::Error::custom(format_args!("malformed {what}")))
}

/// A required string field.
pub(crate) fn text(v: &Value, key: &str) -> Option<Arc<str>> {
    v.get(key)?.as_str().map(Arc::from)
}

/// A required whole number field.
pub(crate) fn int(v: &Value, key: &str) -> Option<u64> {
    v.get(key)?.as_u64()
}

/// A required number field.
pub(crate) fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key)?.as_f64()
}

/// An optional field: absent or null is `Some(None)`, present but unreadable is `None`.
pub(crate) fn opt<T>(v: &Value, key: &str, f: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
    match v.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(x) => f(x).map(Some),
    }
}

/// An optional string field.
pub(crate) fn opt_string(v: &Value, key: &str) -> Option<Option<String>> {
    opt(v, key, |s| s.as_str().map(str::to_owned))
}

/// A required field holding one of `words`.
pub(crate) fn word<T: Copy>(v: &Value, key: &str, words: &[(&str, T)]) -> Option<T> {
    let w = v.get(key)?.as_str()?;
    words.iter().find(|(name, _)| *name == w).map(|(_, t)| *t)
}

impl<'de> Deserialize<'de> for SourceStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, source_status, "source status")
    }
}

fn source_state(w: &str) -> Option<SourceState> {
    match w {
        "ok" => Some(SourceState::Ok),
        "failing" => Some(SourceState::Failing),
        "stale" => Some(SourceState::Stale),
        "gone" => Some(SourceState::Gone),
        _ => None,
    }
}

fn source_status(v: &Value) -> Option<SourceStatus> {
    Some(SourceStatus {
        source: text(v, "source")?,
        state: source_state(v.get("state")?.as_str()?)?,
        error: opt_string(v, "error")?,
        since_ms: int(v, "since_ms")?,
    })
}

impl<'de> Deserialize<'de> for StoreStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(
            d,
            |v| Some(StoreStatus { saving: v.get("saving")?.as_bool()?, error: opt_string(v, "error")? }),
            "store status",
        )
    }
}

impl<'de> Deserialize<'de> for ClusterStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let read = |v: &Value| {
            Some(ClusterStatus {
                shared: v.get("shared")?.as_bool()?,
                epoch: v.get("epoch")?.as_str()?.to_owned(),
                error: opt_string(v, "error")?,
                since_ms: int(v, "since_ms")?,
            })
        };
        via_value(d, read, "cluster status")
    }
}

impl<'de> Deserialize<'de> for SourceState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_value(d, |v| source_state(v.as_str()?), "source state")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_as_they_were_written() {
        let source =
            SourceStatus { source: "up".into(), state: SourceState::Stale, error: Some("x".into()), since_ms: 5 };
        let store = StoreStatus { saving: false, error: None };
        let cluster = ClusterStatus { shared: true, epoch: "e1".into(), error: None, since_ms: 9 };
        let json = serde_json::to_string(&(&source, &store, &cluster)).expect("json");
        let back: (SourceStatus, StoreStatus, ClusterStatus) = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, (source, store, cluster));
        assert_eq!(serde_json::from_str::<SourceState>(r#""failing""#).expect("a state"), SourceState::Failing);
        for bad in [r#"{"source":"up","state":"asleep","since_ms":1}"#, r#"{"source":"up","state":"ok"}"#] {
            assert!(serde_json::from_str::<SourceStatus>(bad).is_err(), "{bad}");
        }
    }
}
