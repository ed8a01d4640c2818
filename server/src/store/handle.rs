//! The store as the rest of the server sees it: [`Store::offer`] hands a sample frame to the
//! writer without ever waiting (a full queue drops it, counted: the queue is bounded in bytes,
//! [`MAX_QUEUE_BYTES`], and in samples, [`StoreConfig::queue`]), [`Store::failing`] says whether
//! history is being saved, and reads run on connections of their own, off the async threads.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use tungstenite::Utf8Bytes;

pub use super::state::{Backlog, Job, MAX_QUEUE_BYTES, Queued, Shared, StoreConfig};
use super::writer;

/// The store's handle.
pub struct Store {
    config: StoreConfig,
    jobs: Sender<Job>,
    backlog: Arc<Backlog>,
    /// Counters and state.
    pub shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Store {
    /// Starts the writer for the store at `config.path` (made if needed). The file is opened by
    /// the writer: one that cannot be opened is reported as failing, and tried again.
    pub fn start(config: StoreConfig) -> Arc<Self> {
        // Unbounded as a channel: what bounds it is the backlog, counted in bytes.
        let (jobs, rx) = channel();
        let shared = Arc::new(Shared::default());
        let writer = {
            let (config, shared) = (config.clone(), shared.clone());
            std::thread::Builder::new()
                .name("history-writer".into())
                .spawn(move || writer::run(&config, &shared, &rx))
                .ok()
        };
        Arc::new(Self { config, jobs, backlog: Arc::default(), shared, writer: Mutex::new(writer) })
    }

    /// Its settings.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Hands a sample frame (shared, not copied) to the writer; never waits. Refused (counted)
    /// when the queue is full, in bytes or in samples, or the writer is gone.
    pub fn offer(&self, frame: Utf8Bytes) {
        let bytes = self.backlog.bytes.load(Ordering::Relaxed) + frame.len() + Queued::OVERHEAD;
        let full = bytes > MAX_QUEUE_BYTES || self.backlog.samples.load(Ordering::Relaxed) >= self.config.queue.max(1);
        if full || self.jobs.send(Job::Sample(Queued::new(frame, self.backlog.clone()))).is_err() {
            self.shared.samples_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands an alert's write to the writer; never waits (the alerts' writes are few: one per
    /// state change or silence, not bounded by bytes). Lost only when the writer is gone (logged).
    pub fn alert(&self, write: super::alerts::AlertWrite) {
        if self.jobs.send(Job::Alert(write)).is_err() {
            tracing::warn!("history store: the writer has stopped; an alert's change is not kept");
        }
    }

    /// Hands a login's write (session, token, second factor, audit record) to the writer; never
    /// waits. Lost only when the writer is gone (logged).
    pub fn auth(&self, write: super::auth::AuthWrite) {
        if self.jobs.send(Job::Auth(write)).is_err() {
            tracing::warn!("history store: the writer has stopped; a login's change is not kept");
        }
    }

    /// What waits for the writer now: bytes and samples.
    pub fn backlog(&self) -> (usize, usize) {
        (self.backlog.bytes.load(Ordering::Relaxed), self.backlog.samples.load(Ordering::Relaxed))
    }

    /// Whether the queue is over half full (in bytes or in samples): a producer that may wait
    /// (a backfill) should, so that nothing is refused.
    pub fn behind(&self) -> bool {
        let (bytes, samples) = self.backlog();
        bytes > MAX_QUEUE_BYTES / 2 || samples > self.config.queue.max(1) / 2
    }

    /// Waits until everything offered before is written (for tests and a clean stop).
    pub fn flush(&self) {
        let (done, wait) = std::sync::mpsc::channel();
        if self.jobs.send(Job::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(30));
        }
    }

    /// Writes what is queued and stops the writer (blocking: call from a blocking context).
    pub fn stop(&self) {
        let _ = self.jobs.send(Job::Stop);
        if let Some(handle) = self.writer.lock().take() {
            let _ = handle.join();
        }
    }

    /// Why history is not being saved, if it is not.
    pub fn failing(&self) -> Option<String> {
        self.shared.failing()
    }
}
