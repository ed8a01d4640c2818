//! The fleet's summary streams on the wire, shared by the server and the browser.
//!
//! - [`FleetUpdate`] (`{"type":"fleet",..}`): the overview's stream. At most once a second, the
//!   rows that changed since the last update and the names of hosts that went away; `full` when it
//!   holds every row (the first one a socket gets, or a resume that cannot be told as changes).
//! - [`FigurePoints`] (`{"type":"points",..}`): one figure of every host, for the one-metric page,
//!   made at the same tick from the same rows.
//!
//! Both count on one summary sequence `seq` (per server life): a socket that saw update `K`
//! resumes with `fleet_since=K` and gets exactly what changed after it (or a `full` update).
//! A changed row carries only its new sparkline points, and its tags only when they changed
//! ([`HostRow::take_change`]): a row is then about 100 bytes instead of 230, when 200 hosts
//! changing every second would otherwise cost about as much as every sample of every host.

use serde::{Deserialize, Serialize};

use crate::fleet::HostRow;

/// How many hosts are in each state, for the overview's header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetCounts {
    /// Hosts up.
    pub up: u32,
    /// Hosts stale.
    pub stale: u32,
    /// Hosts down.
    pub down: u32,
    /// Hosts with at least one alert firing.
    pub alerting: u32,
}

/// One update of the overview's stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetUpdate {
    /// The summary sequence number of this update.
    pub seq: u64,
    /// Whether `rows` is every host (the reader then drops rows it has that are not in it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
    /// The rows that changed (or every row, when `full`). In an update that is not `full`, a
    /// row's sparkline (`c`) holds only the points added since the update the reader had before
    /// (the previous one, or the `fleet_since` it resumed from), and its tags only when they
    /// changed since: take such a row into the kept one with [`HostRow::take_change`]; a row the
    /// reader does not have yet is taken as it is.
    #[serde(default)]
    pub rows: Vec<HostRow>,
    /// Hosts removed since the last update (by [`HostRow::id`]); empty when `full`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gone: Vec<String>,
    /// The whole fleet's counts after this update.
    pub counts: FleetCounts,
    /// Why the targets file on disk is not used (the last good set of hosts runs on), in every
    /// update while it lasts: absent when the file is good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One figure of every host whose value changed at one summary tick.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FigurePoints {
    /// The summary sequence number of the tick.
    pub seq: u64,
    /// The tick's wall time, in milliseconds since the Unix epoch (a label only).
    pub ts_ms: u64,
    /// The figure: one of [`crate::fleet::FIGURES`].
    pub figure: String,
    /// Whether `points` holds every host (the first one a socket gets, or after a removal).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
    /// `[host id, value]` pairs; `null` when the host cannot tell the figure now.
    pub points: Vec<(String, Option<f64>)>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::protocol::Frame;

    #[test]
    fn fleet_and_points_frames_read_back() {
        let update = FleetUpdate {
            seq: 9,
            full: false,
            rows: Vec::new(),
            gone: vec!["web-2".into()],
            counts: FleetCounts { up: 3, stale: 1, down: 0, alerting: 1 },
            problem: None,
        };
        let json = Frame::Fleet(update.clone()).to_json();
        assert_eq!(
            json,
            r#"{"type":"fleet","seq":9,"rows":[],"gone":["web-2"],"counts":{"up":3,"stale":1,"down":0,"alerting":1}}"#
        );
        assert!(matches!(Frame::from_json(&json).unwrap(), Frame::Fleet(back) if back == update));
        let points = FigurePoints {
            seq: 9,
            ts_ms: 5,
            figure: "cpu_pct".into(),
            full: true,
            points: vec![("a".into(), Some(1.5)), ("b".into(), None)],
        };
        let json = Frame::Points(points.clone()).to_json();
        assert!(json.starts_with(r#"{"type":"points","seq":9,"#), "{json}");
        assert!(json.ends_with(r#""points":[["a",1.5],["b",null]]}"#), "{json}");
        assert!(matches!(Frame::from_json(&json).unwrap(), Frame::Points(back) if back == points));
    }
}
