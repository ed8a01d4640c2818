//! What the store's handle and its writer share: the settings, the jobs on the queue between
//! them, and the counters and last failure that the rest of the server reads.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tungstenite::Utf8Bytes;

use super::error::StoreError;

/// The most bytes of sample frames that may wait for the writer; past it a sample is refused
/// (counted), as it is past [`StoreConfig::queue`] samples.
pub const MAX_QUEUE_BYTES: usize = 64 << 20;

/// What the store is told at start.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The SQLite file.
    pub path: PathBuf,
    /// The most bytes its data may take; the oldest goes first.
    pub max_bytes: u64,
    /// How long full resolution is kept.
    pub raw_for: Duration,
    /// How long 1-minute roll-ups are kept.
    pub minute_for: Duration,
    /// How long 1-hour roll-ups are kept.
    pub hour_for: Duration,
    /// How many samples may wait for the writer (beside the bound in bytes, [`MAX_QUEUE_BYTES`]).
    pub queue: usize,
    /// How many history reads may run at once (more are refused: `503`).
    pub max_reads: usize,
}

#[cfg(test)]
impl StoreConfig {
    /// Settings for a test's own file (`livedash-NAME-PID` in the temporary directory, emptied):
    /// the default retention, a 1 GiB budget.
    pub fn temporary(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("livedash-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self {
            path: dir.join("history.db"),
            max_bytes: 1 << 30,
            raw_for: Duration::from_secs(24 * 3600),
            minute_for: Duration::from_secs(30 * 86_400),
            hour_for: Duration::from_secs(365 * 86_400),
            queue: 16,
            max_reads: 4,
        }
    }
}

/// What the writer is asked to do.
pub enum Job {
    /// Keep this sample frame's numeric series.
    Sample(Queued),
    /// Keep this about the alerts (an event, an instance's state, a silence).
    Alert(super::alerts::AlertWrite),
    /// Keep this about logins (a session, a token, a second factor, an audit record).
    Auth(super::auth::AuthWrite),
    /// Say when everything before this is written.
    Flush(std::sync::mpsc::Sender<()>),
    /// Write what is queued, then stop.
    Stop,
}

/// What waits in the queue, in bytes and in samples: what bounds it.
#[derive(Debug, Default)]
pub struct Backlog {
    /// The queued frames' bytes (each counted with [`Queued::OVERHEAD`]).
    pub bytes: AtomicUsize,
    /// The queued frames.
    pub samples: AtomicUsize,
}

/// A sample frame in the queue: counted in the [`Backlog`] until it is dropped (parsed by the
/// writer, or refused). Reads as its text.
#[derive(Debug)]
pub struct Queued {
    text: Utf8Bytes,
    backlog: Arc<Backlog>,
}

impl Queued {
    /// What a queued frame costs beside its text: its place in the queue and its handle.
    pub const OVERHEAD: usize = 64;

    /// Counts `text` in `backlog`; it is counted out when dropped.
    pub fn new(text: Utf8Bytes, backlog: Arc<Backlog>) -> Self {
        backlog.bytes.fetch_add(text.len() + Self::OVERHEAD, Ordering::Relaxed);
        backlog.samples.fetch_add(1, Ordering::Relaxed);
        Self { text, backlog }
    }
}

impl std::ops::Deref for Queued {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.backlog.bytes.fetch_sub(self.text.len() + Self::OVERHEAD, Ordering::Relaxed);
        self.backlog.samples.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What the writer and the rest of the server share: counters and the last failure.
#[derive(Debug, Default)]
pub struct Shared {
    /// Points written.
    pub points_written: AtomicU64,
    /// Points lost: a full queue, or a failed write.
    pub points_dropped: AtomicU64,
    /// Samples refused because the queue was full.
    pub samples_dropped: AtomicU64,
    /// Bytes the file's data takes, as last measured.
    pub bytes: AtomicU64,
    /// Chunks deleted to keep within the byte budget.
    pub evicted_chunks: AtomicU64,
    /// Chunks that did not decode, set aside (table `damaged`).
    pub chunks_damaged: AtomicU64,
    /// The wall clock minus the store's trusted clock, in ms, as last read.
    pub clock_skew_ms: AtomicI64,
    /// Times the wall clock was found off the trusted one by more than the bound.
    pub clock_jumps: AtomicU64,
    /// Maintenance steps that failed (each is tried again later, the others go on).
    pub maintenance_failures: AtomicU64,
    /// History reads running now.
    pub reads_running: AtomicUsize,
    /// History reads refused because as many as allowed were running.
    pub reads_refused: AtomicU64,
    /// History reads stopped because their client went away.
    pub reads_cancelled: AtomicU64,
    /// Damaged chunks that reads skipped.
    pub read_chunks_skipped: AtomicU64,
    /// Bumped each time the writer adds rows to the notifications' outbox (the delivery tasks
    /// watch it).
    pub outbox: tokio::sync::watch::Sender<u64>,
    /// Why the last write failed, while it keeps failing.
    failing: Mutex<Option<String>>,
    /// Why a maintenance step last failed, while it keeps failing: (step, reason).
    maintenance: Mutex<Option<(&'static str, String)>>,
}

impl Shared {
    /// Writing works (again).
    pub fn set_ok(&self) {
        let mut failing = self.failing.lock();
        if let Some(reason) = failing.take() {
            tracing::info!(was = %reason, "history store: writing again");
        }
    }

    /// Writing failed with `e`.
    pub fn set_failing(&self, e: &StoreError) {
        let reason = e.to_string();
        let mut failing = self.failing.lock();
        if failing.as_deref() != Some(reason.as_str()) {
            tracing::warn!(error = %reason, "history store: not saving history");
        }
        *failing = Some(reason);
    }

    /// Why history is not being saved, if it is not.
    pub fn failing(&self) -> Option<String> {
        self.failing.lock().clone()
    }

    /// Maintenance `step` failed with `e` (logged once per distinct reason).
    pub fn set_maintenance_failing(&self, step: &'static str, e: &StoreError) {
        self.maintenance_failures.fetch_add(1, Ordering::Relaxed);
        let reason = e.to_string();
        let mut last = self.maintenance.lock();
        if last.as_ref().is_none_or(|(s, r)| *s != step || *r != reason) {
            tracing::warn!(step, error = %reason, "history store: a maintenance step failed; the others go on");
        }
        *last = Some((step, reason));
    }

    /// Maintenance `step` worked.
    pub fn set_maintenance_ok(&self, step: &'static str) {
        let mut last = self.maintenance.lock();
        if last.as_ref().is_some_and(|(s, _)| *s == step) {
            tracing::info!(step, "history store: the maintenance step works again");
            *last = None;
        }
    }

    /// The store's clock and maintenance, for `/api/health`: `{"clock_skew_ms", "clock_jumped",
    /// "clock_jumps", "maintenance_error", "chunks_damaged", "bytes"}`.
    pub fn health(&self) -> serde_json::Value {
        let skew = self.clock_skew_ms.load(Ordering::Relaxed);
        serde_json::json!({
            "clock_skew_ms": skew,
            "clock_jumped": skew.unsigned_abs() > super::clock::SKEW_BOUND_MS,
            "clock_jumps": self.clock_jumps.load(Ordering::Relaxed),
            "maintenance_error": self.maintenance_failing(),
            "chunks_damaged": self.chunks_damaged.load(Ordering::Relaxed),
            "bytes": self.bytes.load(Ordering::Relaxed),
        })
    }

    /// The maintenance step failing now and why, if one is.
    pub fn maintenance_failing(&self) -> Option<String> {
        self.maintenance.lock().as_ref().map(|(step, reason)| format!("{step}: {reason}"))
    }
}
