//! The fleet overview's vocabulary, shared by the server and the browser: a host's figures
//! ([`HostFigures`]), its status ([`HostStatus`], decided by [`host_status`]), and the row the
//! overview shows ([`HostRow`]) in a compact JSON form.
//!
//! The figures are the same columns whatever runs on the host (node_exporter, another livedash,
//! this machine); how each source's numbers become them is the server's `fleet` wing.
//!
//! A row on the wire (`HostRow`'s serde form) uses short keys and fixed-order figures:
//! `{"n":"web-1","t":{"env":"prod"},"s":"up","since":1765000000000,
//! "f":[12.3,40.1,73.4,0.52,12345,678,86400],"c":[3,5,12]}` where `f` holds `cpu_pct, mem_pct,
//! disk_pct, load1, net_in_bps, net_out_bps, uptime_s` in that order (`null` when unknown),
//! rounded to what a row shows (percentages to 0.1, load to 0.01, bytes per second and seconds to
//! whole numbers), and `c` is the CPU sparkline in whole percent (`null` for a gap).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The figures' names, in wire order: also the series names a fleet host's samples carry, and
/// what a `figure:NAME` subscription and the one-metric page name.
pub const FIGURES: [&str; 7] = ["cpu_pct", "mem_pct", "disk_pct", "load1", "net_in_bps", "net_out_bps", "uptime_s"];

/// How many points of CPU history a row carries for its sparkline.
pub const SPARK_POINTS: usize = 30;

/// One small set of figures per host, the same columns whatever the source. Each is `None` when
/// the source cannot tell it yet (a rate before its second reading, a metric the host lacks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFigures {
    /// CPU busy, 0..=100 % of all CPUs together.
    pub cpu_pct: Option<f64>,
    /// Memory used (not available to new work), 0..=100 %.
    pub mem_pct: Option<f64>,
    /// Root filesystem used, 0..=100 % of its size.
    pub disk_pct: Option<f64>,
    /// Load average over 1 minute.
    pub load1: Option<f64>,
    /// Network bytes received per second, all interfaces but loopback.
    pub net_in_bps: Option<f64>,
    /// Network bytes sent per second, all interfaces but loopback.
    pub net_out_bps: Option<f64>,
    /// Seconds since the host booted.
    pub uptime_s: Option<f64>,
}

impl HostFigures {
    /// The figures in wire order (see the module docs).
    pub fn columns(&self) -> [Option<f64>; 7] {
        [self.cpu_pct, self.mem_pct, self.disk_pct, self.load1, self.net_in_bps, self.net_out_bps, self.uptime_s]
    }

    /// The figures in wire order, rounded as a row shows them (see the module docs): what the
    /// summary compares to tell a change, and what a `points` frame carries.
    pub fn rounded(&self) -> [Option<f64>; 7] {
        let mut columns = self.columns();
        for (v, places) in columns.iter_mut().zip(COLUMN_PLACES) {
            *v = v.and_then(|v| round(v, places)).map(|r| r.0);
        }
        columns
    }

    /// Figures from wire-order columns; missing trailing columns are unknown, extra ones ignored.
    pub fn from_columns(columns: &[Option<f64>]) -> Self {
        let at = |i: usize| columns.get(i).copied().flatten().filter(|v| v.is_finite());
        Self {
            cpu_pct: at(0),
            mem_pct: at(1),
            disk_pct: at(2),
            load1: at(3),
            net_in_bps: at(4),
            net_out_bps: at(5),
            uptime_s: at(6),
        }
    }
}

/// Decimal places each wire column is rounded to.
const COLUMN_PLACES: [i32; 7] = [1, 1, 1, 2, 0, 0, 0];

/// Whether a host is delivering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostStatus {
    /// Its last fetch succeeded, recently.
    Up,
    /// Its data is not fresh: the last fetch failed, or none succeeded for a while, but for fewer
    /// than the missed intervals that make it down (or it has not been fetched yet).
    Stale,
    /// Nothing succeeded for the missed intervals, or a host never fetched well has failed.
    Down,
}

/// The status of a host from its fetches, all times in milliseconds on one **monotonic** clock
/// (e.g. elapsed since the server started; never the wall clock, which may jump):
///
/// - never fetched: `Stale` (no data yet); fetched but never successfully: `Down`;
/// - the last success older than `missed` intervals (at least 2): `Down`;
/// - else a later attempt failed, or the last success is older than 2 intervals (fetches stopped
///   arriving): `Stale`;
/// - else `Up`.
pub fn host_status(
    last_success_ms: Option<u64>,
    last_attempt_ms: Option<u64>,
    now_ms: u64,
    interval_ms: u64,
    missed: u32,
) -> HostStatus {
    let Some(success) = last_success_ms else {
        return if last_attempt_ms.is_some() { HostStatus::Down } else { HostStatus::Stale };
    };
    let age = now_ms.saturating_sub(success);
    let interval = interval_ms.max(1);
    if age > interval.saturating_mul(u64::from(missed.max(2))) {
        HostStatus::Down
    } else if last_attempt_ms.is_some_and(|attempt| attempt > success) || age > interval.saturating_mul(2) {
        HostStatus::Stale
    } else {
        HostStatus::Up
    }
}

/// A status with the wall time it started, for "down since 10:42".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSince {
    /// The current status.
    pub status: HostStatus,
    /// When it began, in milliseconds since the Unix epoch (a label only).
    pub since_ms: u64,
}

impl StatusSince {
    /// Records `status` seen at wall time `now_ms`; `since_ms` moves only when the status changes.
    /// Returns whether it changed.
    pub fn update(&mut self, status: HostStatus, now_ms: u64) -> bool {
        let changed = status != self.status;
        if changed {
            *self = Self { status, since_ms: now_ms };
        }
        changed
    }
}

/// One row of the fleet overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRow {
    /// The host's source name, which its dashboard and its history are found by (`?source=`):
    /// absent on the wire when it is the same as `name`. Read it with [`HostRow::id`].
    #[serde(rename = "i", default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The host's name (its `name` label, else its target).
    #[serde(rename = "n")]
    pub name: String,
    /// Its tags (the target's labels).
    #[serde(rename = "t", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Up, stale or down.
    #[serde(rename = "s")]
    pub status: HostStatus,
    /// Since when it has that status, in milliseconds since the Unix epoch.
    #[serde(rename = "since")]
    pub since_ms: u64,
    /// The latest figures.
    #[serde(rename = "f", with = "figure_columns")]
    pub figures: HostFigures,
    /// The last [`SPARK_POINTS`] CPU busy percentages, oldest first; NaN marks a gap.
    #[serde(rename = "c", default, with = "spark")]
    pub cpu_spark: Vec<f32>,
    /// How many of its alerts are firing.
    #[serde(rename = "a", default, skip_serializing_if = "is_zero")]
    pub alerting: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl HostRow {
    /// The host's source name: [`HostRow::source`], or its name when that is empty.
    pub fn id(&self) -> &str {
        if self.source.is_empty() { &self.name } else { &self.source }
    }

    /// Takes a changed row of a non-`full` [`crate::summary::FleetUpdate`] into this one, kept
    /// from before: everything as the change says, but its sparkline `c` holds only the points
    /// added since the update this reader last had, so they are appended to the kept ones (the
    /// last [`SPARK_POINTS`] stay), and its tags `t` are absent when they did not change (tags
    /// that become none come in a `full` update). A row of a `full` update replaces the kept one.
    pub fn take_change(&mut self, change: HostRow) {
        let mut spark = std::mem::take(&mut self.cpu_spark);
        spark.extend_from_slice(&change.cpu_spark);
        let extra = spark.len().saturating_sub(SPARK_POINTS);
        spark.drain(..extra);
        let tags = if change.tags.is_empty() { std::mem::take(&mut self.tags) } else { change.tags.clone() };
        *self = HostRow { cpu_spark: spark, tags, ..change };
    }

    /// Appends the newest CPU figure to the sparkline (`None` as a NaN gap), keeping the last
    /// [`SPARK_POINTS`].
    #[allow(clippy::cast_possible_truncation)] // a percentage fits an f32
    pub fn push_cpu(&mut self, cpu_pct: Option<f64>) {
        self.cpu_spark.push(cpu_pct.map_or(f32::NAN, |c| c as f32));
        let extra = self.cpu_spark.len().saturating_sub(SPARK_POINTS);
        self.cpu_spark.drain(..extra);
    }
}

/// A number rounded to `places`, written as an integer when it is whole.
struct Rounded(f64);

impl Serialize for Rounded {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        #[allow(clippy::cast_possible_truncation)] // whole and within +-2^53: exact
        if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

fn round(v: f64, places: i32) -> Option<Rounded> {
    let scale = 10f64.powi(places);
    v.is_finite().then(|| Rounded((v * scale).round() / scale + 0.0))
}

mod figure_columns {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{COLUMN_PLACES, HostFigures, round};

    pub fn serialize<S: Serializer>(f: &HostFigures, s: S) -> Result<S::Ok, S::Error> {
        let columns = f.columns();
        s.collect_seq(columns.iter().zip(COLUMN_PLACES).map(|(v, places)| v.and_then(|v| round(v, places))))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HostFigures, D::Error> {
        let columns = Vec::<Option<f64>>::deserialize(d)?;
        Ok(HostFigures::from_columns(&columns))
    }
}

mod spark {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::round;

    #[allow(clippy::ptr_arg)] // serde's `with` passes the field as it is
    pub fn serialize<S: Serializer>(points: &Vec<f32>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(points.iter().map(|&p| round(f64::from(p), 0)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        let points = Vec::<Option<f32>>::deserialize(d)?;
        Ok(points.into_iter().map(|p| p.unwrap_or(f32::NAN)).collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn row(spark: usize) -> HostRow {
        HostRow {
            source: String::new(),
            name: "web-prod-eu-017".into(),
            tags: [("env", "prod"), ("role", "web"), ("dc", "eu-west")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            status: HostStatus::Up,
            since_ms: 1_765_000_000_000,
            figures: HostFigures {
                cpu_pct: Some(37.4567),
                mem_pct: Some(61.04),
                disk_pct: Some(73.0),
                load1: Some(1.234),
                net_in_bps: Some(1_234_567.8),
                net_out_bps: Some(98_765.4),
                uptime_s: Some(8_640_000.7),
            },
            #[allow(clippy::cast_precision_loss)]
            cpu_spark: (0..spark).map(|i| (i * 37 % 100) as f32 + 0.4).collect(),
            alerting: 0,
        }
    }

    #[test]
    fn a_row_is_compact_and_reads_back() {
        let json = serde_json::to_string(&row(3)).unwrap();
        assert_eq!(
            json,
            r#"{"n":"web-prod-eu-017","t":{"dc":"eu-west","env":"prod","role":"web"},"s":"up","since":1765000000000,"f":[37.5,61,73,1.23,1234568,98765,8640001],"c":[0,37,74]}"#
        );
        let back: HostRow = serde_json::from_str(&json).unwrap();
        assert_eq!(back.figures.cpu_pct, Some(37.5));
        assert_eq!(back.cpu_spark, vec![0.0, 37.0, 74.0]);
        assert_eq!(back.tags, row(0).tags);
        assert_eq!(row(0).figures.rounded()[..4], [Some(37.5), Some(61.0), Some(73.0), Some(1.23)]);
    }

    #[test]
    fn unknown_figures_and_gaps_are_null() {
        let mut r = row(2);
        r.figures = HostFigures { mem_pct: Some(12.0), ..HostFigures::default() };
        r.cpu_spark[0] = f32::NAN;
        r.tags.clear();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""f":[null,12,null,null,null,null,null],"c":[null,37]"#), "{json}");
        assert!(!json.contains(r#""t""#), "{json}");
        let back: HostRow = serde_json::from_str(&json).unwrap();
        assert!(back.cpu_spark[0].is_nan() && back.figures.cpu_pct.is_none() && back.tags.is_empty());
    }

    #[test]
    fn two_hundred_full_rows_stay_small() {
        // The overview's summary frame of 200 hosts with a full sparkline each.
        let one = serde_json::to_string(&row(SPARK_POINTS)).unwrap().len();
        assert!(one < 260, "one row is {one} bytes");
        let all = serde_json::to_string(&vec![row(SPARK_POINTS); 200]).unwrap().len();
        assert!(all < 52_000, "200 rows are {all} bytes");
    }

    #[test]
    fn the_sparkline_keeps_the_newest_points() {
        let mut r = row(SPARK_POINTS);
        r.push_cpu(Some(99.0));
        r.push_cpu(None);
        assert_eq!(r.cpu_spark.len(), SPARK_POINTS);
        assert_eq!(r.cpu_spark[SPARK_POINTS - 2], 99.0);
        assert!(r.cpu_spark[SPARK_POINTS - 1].is_nan());
        assert_eq!(r.cpu_spark[0], row(SPARK_POINTS).cpu_spark[2], "the two oldest dropped");
    }

    #[test]
    fn a_change_appends_its_new_points_to_the_kept_sparkline() {
        let mut kept = row(SPARK_POINTS);
        let mut change = row(0);
        change.status = HostStatus::Down;
        change.cpu_spark = vec![1.0, 2.0];
        change.tags.clear();
        kept.take_change(change);
        assert_eq!(kept.tags, row(0).tags, "no tags in a change: the same tags");
        assert_eq!((kept.status, kept.cpu_spark.len()), (HostStatus::Down, SPARK_POINTS));
        assert_eq!(kept.cpu_spark[SPARK_POINTS - 2..], [1.0, 2.0]);
        assert_eq!(kept.cpu_spark[0], row(SPARK_POINTS).cpu_spark[2], "the two oldest dropped");
    }

    #[test]
    fn status_follows_fetches_on_a_monotonic_clock() {
        let (interval, n) = (1_000, 3);
        let status = |success, attempt, now| host_status(success, attempt, now, interval, n);
        assert_eq!(status(None, None, 5_000), HostStatus::Stale, "not fetched yet");
        assert_eq!(status(None, Some(4_000), 5_000), HostStatus::Down, "never fetched well");
        assert_eq!(status(Some(4_000), Some(4_000), 5_000), HostStatus::Up);
        assert_eq!(status(Some(4_000), Some(4_000), 6_000), HostStatus::Up, "two intervals of grace");
        assert_eq!(status(Some(4_000), Some(4_000), 6_001), HostStatus::Stale, "fetches stopped");
        assert_eq!(status(Some(4_000), Some(5_000), 5_100), HostStatus::Stale, "the last attempt failed");
        assert_eq!(status(Some(4_000), Some(7_000), 7_000), HostStatus::Stale);
        assert_eq!(status(Some(4_000), Some(7_000), 7_001), HostStatus::Down, "missed 3 intervals");
        // At least two intervals before down, whatever N says; a clock read before the success
        // (another thread's reading) is age 0, not a wrap.
        assert_eq!(host_status(Some(4_000), Some(5_000), 5_900, 1_000, 0), HostStatus::Stale);
        assert_eq!(host_status(Some(4_000), Some(4_000), 3_000, 1_000, 3), HostStatus::Up);
    }

    #[test]
    fn since_moves_only_on_a_change() {
        let mut s = StatusSince { status: HostStatus::Stale, since_ms: 10 };
        assert!(s.update(HostStatus::Up, 20));
        assert!(!s.update(HostStatus::Up, 30));
        assert_eq!(s, StatusSince { status: HostStatus::Up, since_ms: 20 });
        assert!(s.update(HostStatus::Down, 40));
        assert_eq!(s.since_ms, 40);
    }
}
