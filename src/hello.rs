//! A `hello` frame's JSON put together from `sample` frames the server already serialized (as it
//! keeps them), without reading or writing any sample again: what a server sends every new client,
//! shared by the clients that arrive at the same state. The browser only reads hellos
//! ([`crate::Frame::from_json`]).

use std::collections::BTreeMap;

use crate::alerts::AlertsStatus;
use crate::protocol::{ClusterStatus, PROTOCOL_VERSION, SourceStatus, StoreStatus};
use crate::settings::SeriesRule;

/// What a `hello` carries beside the sources, each absent when not in use: whether history is
/// saved, whether the sources are shared, the alerts that are not ok.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageStates<'a> {
    /// The history store's state.
    pub store: Option<&'a StoreStatus>,
    /// The cluster's state.
    pub cluster: Option<&'a ClusterStatus>,
    /// The alerts' state.
    pub alerts: Option<&'a AlertsStatus>,
    /// The fleet overview's rows, for a socket subscribed to it: a full `fleet` frame's JSON as
    /// the server already serialized it (its `"type"` field is ignored by readers of
    /// [`crate::summary::FleetUpdate`]), put in as it is.
    pub fleet: Option<&'a str>,
}

/// A `hello` frame's JSON made from `sample` frames that are already serialized (as the server keeps
/// them), oldest first, without reading or writing any sample again. Each history item is then a
/// whole sample frame: readers of [`Hello`] ignore its `"type"` field.
pub fn hello_json<'a>(
    server_time_ms: u64,
    interval_ms: &BTreeMap<String, u64>,
    sample_frames: impl IntoIterator<Item = &'a str> + Clone,
    sources: &[SourceStatus],
    settings: &BTreeMap<String, Vec<SeriesRule>>,
    page: PageStates<'_>,
) -> String {
    let PageStates { store, cluster, alerts, fleet } = page;
    let history: usize = sample_frames.clone().into_iter().map(|f| f.len() + 1).sum();
    let mut out = String::with_capacity(history + 256);
    out.push_str(&format!(
        r#"{{"type":"hello","v":{PROTOCOL_VERSION},"server_time_ms":{server_time_ms},"interval_ms":"#
    ));
    // Maps of strings to numbers and plain structs: writing them cannot fail.
    out.push_str(&serde_json::to_string(interval_ms).unwrap_or_default());
    out.push_str(r#","history":["#);
    for (i, frame) in sample_frames.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(frame);
    }
    out.push_str(r#"],"sources":"#);
    out.push_str(&serde_json::to_string(sources).unwrap_or_default());
    if !settings.is_empty() {
        out.push_str(r#","settings":"#);
        out.push_str(&serde_json::to_string(settings).unwrap_or_default());
    }
    if let Some(store) = store {
        out.push_str(r#","store":"#);
        out.push_str(&serde_json::to_string(store).unwrap_or_default());
    }
    if let Some(cluster) = cluster {
        out.push_str(r#","cluster":"#);
        out.push_str(&serde_json::to_string(cluster).unwrap_or_default());
    }
    if let Some(alerts) = alerts {
        out.push_str(r#","alerts":"#);
        out.push_str(&serde_json::to_string(alerts).unwrap_or_default());
    }
    if let Some(fleet) = fleet {
        out.push_str(r#","fleet":"#);
        out.push_str(fleet);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::value::RawValue;

    use super::*;
    use crate::protocol::{Frame, Sample, SourceState};

    fn sample(seq: u64, data: &str) -> Sample {
        let data = Arc::from(RawValue::from_string(data.to_owned()).expect("valid json"));
        Sample { seq, source: Arc::from("up"), ts_ms: 1_700_000_000_000 + seq, data }
    }

    #[test]
    fn a_hello_made_of_sample_frames_reads_as_a_hello() {
        let frames: Vec<String> = [sample(1, "{}"), sample(2, r#"{"gen_ts_ns":1795480294498238375}"#)]
            .map(|s| Frame::Sample(s).to_json())
            .into();
        let sources = [SourceStatus { source: Arc::from("up"), state: SourceState::Ok, error: None, since_ms: 3 }];
        let intervals = BTreeMap::from([("up".to_owned(), 1000)]);
        let rule = SeriesRule { pattern: "x*".into(), label: Some("X".into()), ..SeriesRule::default() };
        let settings = BTreeMap::from([("up".to_owned(), vec![rule])]);
        let json =
            hello_json(5, &intervals, frames.iter().map(String::as_str), &sources, &settings, PageStates::default());
        assert!(json.starts_with(r#"{"type":"hello","v":1,"server_time_ms":5,"#), "{json}");
        let Frame::Hello(back) = Frame::from_json(&json).expect("parses") else { panic!("not a hello") };
        assert_eq!(back.history.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(back.history[1].data.get(), r#"{"gen_ts_ns":1795480294498238375}"#);
        assert_eq!((back.sources, back.interval_ms, back.server_time_ms), (sources.to_vec(), intervals, 5));
        assert_eq!(back.settings, settings);
        let empty = hello_json(0, &BTreeMap::new(), std::iter::empty(), &[], &BTreeMap::new(), PageStates::default());
        assert!(!empty.contains("settings"), "no settings, no field: {empty}");
        assert!(matches!(Frame::from_json(&empty), Ok(Frame::Hello(h)) if h.history.is_empty() && h.fleet.is_none()));
        let update = crate::summary::FleetUpdate { seq: 4, full: true, ..Default::default() };
        let fleet = Frame::Fleet(update.clone()).to_json();
        let page = PageStates { fleet: Some(&fleet), ..PageStates::default() };
        let with_fleet = hello_json(0, &BTreeMap::new(), std::iter::empty(), &[], &BTreeMap::new(), page);
        assert!(matches!(Frame::from_json(&with_fleet), Ok(Frame::Hello(h)) if h.fleet.as_deref() == Some(&update)));
    }
}
