//! What the summary board keeps of each host and of the samples it was told: the tap the hub
//! tells under its lock (a few field updates: the sample's entry is kept, not read), a host's row
//! with its fetch times on the monotonic clock and the summary `seq` each part last changed at,
//! and the figures read from a kept sample's text (outside the hub's lock, at the tick).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use livedash::fleet::{HostFigures, HostRow, HostStatus, SPARK_POINTS, StatusSince, host_status};
use livedash::summary::FleetCounts;
use livedash::{SourceState, SourceStatus};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::directory::{HostEntry, HostKind};
use super::figures::local_figures_json;
use crate::clock::millis;
use crate::live::history::Entry;
use crate::live::tap::Tap;

/// Missed intervals after which a host is down.
pub const MISSED: u32 = 3;

/// What the tap gathered since the last tick.
#[derive(Default)]
pub struct Gathered {
    /// Each source's samples (at most [`SPARK_POINTS`]), with when they came (monotonic ms).
    pub samples: HashMap<Arc<str>, Vec<(u64, Arc<Entry>)>>,
    /// Sources whose fetch failed, with when it was told (monotonic ms).
    pub failed: HashMap<Arc<str>, u64>,
}

/// The hub's tap of the board: gathers, under the hub's lock, what the tick reads.
pub struct Gatherer {
    gathered: Mutex<Gathered>,
    started: Instant,
}

impl Gatherer {
    /// An empty one whose monotonic clock starts at `started`.
    pub fn new(started: Instant) -> Self {
        Self { gathered: Mutex::default(), started }
    }

    /// What was gathered since the last call.
    pub fn take(&self) -> Gathered {
        std::mem::take(&mut *self.gathered.lock())
    }

    fn now(&self) -> u64 {
        millis(self.started.elapsed())
    }
}

impl Tap for Gatherer {
    fn accepted(&self, source: &Arc<str>, entry: &Arc<Entry>) {
        let now = self.now();
        let mut gathered = self.gathered.lock();
        let kept = match gathered.samples.get_mut(source) {
            Some(kept) => kept,
            None => gathered.samples.entry(source.clone()).or_default(),
        };
        if kept.len() >= SPARK_POINTS {
            kept.remove(0);
        }
        kept.push((now, entry.clone()));
    }

    fn status(&self, status: &SourceStatus) {
        if status.state == SourceState::Failing {
            let now = self.now();
            self.gathered.lock().failed.insert(status.source.clone(), now);
        }
    }
}

/// One host as the board keeps it.
pub struct Host {
    /// The row the overview shows.
    pub row: HostRow,
    /// How its samples carry the figures.
    pub kind: HostKind,
    /// Its interval, in ms.
    pub interval_ms: u64,
    /// When a sample last came, and a fetch last failed (monotonic ms).
    pub last_success: Option<u64>,
    /// See `last_success`.
    pub last_attempt: Option<u64>,
    /// Its status and since when.
    pub status: StatusSince,
    /// The summary `seq` the row last changed at.
    pub changed_at: u64,
    /// The summary `seq` each figure (rounded) last changed at.
    pub figure_at: [u64; 7],
    /// The figures as last sent (rounded).
    pub sent: [Option<f64>; 7],
    /// The summary `seq` each sparkline point was added at, oldest first (beside `row.cpu_spark`).
    pub spark_at: Vec<u64>,
    /// The summary `seq` its tags last changed at.
    pub tags_at: u64,
}

impl Host {
    /// A host not fetched yet (stale), seen at wall time `wall`.
    pub fn new(source: &str, entry: &HostEntry, wall: u64, seq: u64) -> Self {
        let status = StatusSince { status: HostStatus::Stale, since_ms: wall };
        let row = HostRow {
            source: if source == entry.name { String::new() } else { source.to_owned() },
            name: entry.name.clone(),
            tags: entry.tags.clone(),
            status: status.status,
            since_ms: status.since_ms,
            figures: HostFigures::default(),
            cpu_spark: Vec::new(),
            alerting: 0,
        };
        Self {
            row,
            kind: entry.kind,
            interval_ms: millis(entry.interval),
            last_success: None,
            last_attempt: None,
            status,
            changed_at: seq,
            figure_at: [seq; 7],
            sent: [None; 7],
            spark_at: Vec::new(),
            tags_at: seq,
        }
    }

    /// Takes what the directory says of it now, at summary `seq`; returns whether the row
    /// changed.
    pub fn relabel(&mut self, source: &str, entry: &HostEntry, seq: u64) -> bool {
        self.kind = entry.kind;
        self.interval_ms = millis(entry.interval);
        let id = if source == entry.name { String::new() } else { source.to_owned() };
        if self.row.tags != entry.tags {
            self.tags_at = seq;
        }
        let changed = self.row.name != entry.name || self.row.tags != entry.tags || self.row.source != id;
        if changed {
            self.row.name = entry.name.clone();
            self.row.tags = entry.tags.clone();
            self.row.source = id;
        }
        changed
    }

    /// Takes its samples (oldest first) at summary `seq`: one sparkline point each, the last
    /// one's figures.
    pub fn sampled(&mut self, samples: &[(u64, Arc<Entry>)], seq: u64) {
        for (at, entry) in samples {
            let figures = figures_of(self.kind, entry).unwrap_or_default();
            self.row.push_cpu(figures.cpu_pct);
            self.spark_at.push(seq);
            let extra = self.spark_at.len().saturating_sub(self.row.cpu_spark.len());
            self.spark_at.drain(..extra);
            self.row.figures = figures;
            self.last_success = Some(*at);
        }
    }

    /// Its status at `now` (monotonic ms), told at wall time `wall`, and its alert count;
    /// returns whether either changed.
    pub fn judge(&mut self, now: u64, wall: u64, alerting: u32) -> bool {
        let status = host_status(self.last_success, self.last_attempt, now, self.interval_ms, MISSED);
        let changed = self.status.update(status, wall) || alerting != self.row.alerting;
        self.row.status = self.status.status;
        self.row.since_ms = self.status.since_ms;
        self.row.alerting = alerting;
        changed
    }

    /// Its row as a change after summary `seq` `after`: the sparkline points added since, the
    /// tags only if they changed since (see [`HostRow::take_change`]).
    pub fn change_after(&self, after: u64) -> HostRow {
        let new = self.spark_at.iter().filter(|&&at| at > after).count();
        let spark = &self.row.cpu_spark;
        let tags = if self.tags_at > after { self.row.tags.clone() } else { Default::default() };
        HostRow {
            source: self.row.source.clone(),
            name: self.row.name.clone(),
            tags,
            cpu_spark: spark[spark.len().saturating_sub(new)..].to_vec(),
            ..self.row
        }
    }

    /// Marks the row changed at `seq`, and each figure whose rounded value moved.
    pub fn changed(&mut self, seq: u64) {
        self.changed_at = seq;
        let now = self.row.figures.rounded();
        for (i, v) in now.iter().enumerate() {
            if *v != self.sent[i] {
                self.figure_at[i] = seq;
            }
        }
        self.sent = now;
    }
}

/// The figures of a kept sample, read from its frame's text.
fn figures_of(kind: HostKind, entry: &Entry) -> Option<HostFigures> {
    #[derive(Deserialize)]
    struct Sample<'a> {
        #[serde(borrow)]
        data: &'a RawValue,
    }
    let sample: Sample<'_> = serde_json::from_str(entry.frame.text.as_str()).ok()?;
    match kind {
        HostKind::Figures => serde_json::from_str(sample.data.get()).ok(),
        HostKind::Local => local_figures_json(sample.data.get()).ok(),
    }
}

/// How many hosts are in each state.
pub fn counts<'a>(hosts: impl Iterator<Item = &'a Host>) -> FleetCounts {
    let mut counts = FleetCounts::default();
    for host in hosts {
        match host.row.status {
            HostStatus::Up => counts.up += 1,
            HostStatus::Stale => counts.stale += 1,
            HostStatus::Down => counts.down += 1,
        }
        counts.alerting += u32::from(host.row.alerting > 0);
    }
    counts
}
