//! The store as the rest of the server sees it: [`Store::offer`] hands a sample frame to the
//! writer without ever waiting (a full queue drops it, counted), [`Store::status`] says whether
//! history is being saved, and reads run on connections of their own, off the async threads.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use tungstenite::Utf8Bytes;

pub use super::state::{Job, Shared, StoreConfig};
use super::writer;

/// The store's handle.
pub struct Store {
    config: StoreConfig,
    jobs: SyncSender<Job>,
    /// Counters and state.
    pub shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Store {
    /// Starts the writer for the store at `config.path` (made if needed). The file is opened by
    /// the writer: one that cannot be opened is reported as failing, and tried again.
    pub fn start(config: StoreConfig) -> Arc<Self> {
        let (jobs, rx) = sync_channel(config.queue.max(1));
        let shared = Arc::new(Shared::default());
        let writer = {
            let (config, shared) = (config.clone(), shared.clone());
            std::thread::Builder::new()
                .name("history-writer".into())
                .spawn(move || writer::run(&config, &shared, &rx))
                .ok()
        };
        Arc::new(Self { config, jobs, shared, writer: Mutex::new(writer) })
    }

    /// Its settings.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Hands a sample frame to the writer; never waits.
    pub fn offer(&self, frame: Utf8Bytes) {
        match self.jobs.try_send(Job::Sample(frame)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared.samples_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
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
