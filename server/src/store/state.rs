//! What the store's handle and its writer share: the settings, the jobs on the queue between
//! them, and the counters and last failure that the rest of the server reads.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Duration;

use parking_lot::Mutex;
use tungstenite::Utf8Bytes;

use super::error::StoreError;

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
    /// How many samples may wait for the writer.
    pub queue: usize,
    /// How many history reads may run at once (more are refused: `503`).
    pub max_reads: usize,
}

/// What the writer is asked to do.
pub enum Job {
    /// Keep this sample frame's numeric series.
    Sample(Utf8Bytes),
    /// Say when everything before this is written.
    Flush(std::sync::mpsc::Sender<()>),
    /// Write what is queued, then stop.
    Stop,
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
    /// History reads running now.
    pub reads_running: AtomicUsize,
    /// History reads refused because as many as allowed were running.
    pub reads_refused: AtomicU64,
    /// History reads stopped because their client went away.
    pub reads_cancelled: AtomicU64,
    /// Damaged chunks that reads skipped.
    pub read_chunks_skipped: AtomicU64,
    /// Why the last write failed, while it keeps failing.
    failing: Mutex<Option<String>>,
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
}
