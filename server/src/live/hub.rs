//! The hub: accepts stamped samples (from [`super::stamp::Stamper`], or later from another
//! instance), keeps each in its source's history, and broadcasts its frame, serialized once, to
//! every socket. It also holds every source's status and tells clients when it changes.
//!
//! A sample is accepted only with a `seq` above every one before it, and frames reach the
//! channel in that order. Subscribing takes the receiver and collects the first frames under one
//! lock, so a client sees every sample exactly once: those before in its `hello` (or resume),
//! those after on its receiver. The first frames are serialized after the lock is released, so a
//! new client's `hello` (up to a megabyte) never holds up publishing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indexmap::IndexMap;
use livedash::{Frame, Hello, Sample, SourceState};
use parking_lot::Mutex;
use tokio::sync::broadcast;

use super::history::{Entry, HistoryLimits, SourceLog};
use super::outgoing::Outgoing;
use super::start::{self, Start};
use crate::clock::now_ms;

/// How many frames a socket may fall behind before it skips ahead (and the skip is counted).
const CHANNEL_CAPACITY: usize = 256;
/// A source with no good sample for this many intervals is reported stale.
pub const STALE_AFTER_INTERVALS: u32 = 3;

struct Inner {
    /// The highest `seq` accepted.
    seq: u64,
    /// The `seq` this hub started from: a `since` below it is from another server's life.
    first_seq: u64,
    /// In the order they were configured: the page shows them so.
    sources: IndexMap<Arc<str>, SourceLog>,
}

/// Counters the hub keeps for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct HubStats {
    /// Frames handed to the broadcast channel.
    pub published: AtomicU64,
    /// Frames skipped by sockets that fell behind.
    pub skipped: AtomicU64,
    /// Connections that resumed from `?since=` without a full `hello`.
    pub resumed: AtomicU64,
    /// Source ticks skipped because a fetch took longer than the interval.
    pub missed_ticks: AtomicU64,
}

/// A source's health for `/healthz`: no data values.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    /// Its name.
    pub source: Arc<str>,
    /// `ok`, `failing` or `stale`.
    pub state: SourceState,
    /// Milliseconds since its last good sample (`None`: none yet).
    pub last_good_age_ms: Option<u64>,
}

/// The fan-out point between sources and sockets.
pub struct Hub {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Outgoing>,
    limits: HistoryLimits,
    /// Counters.
    pub stats: HubStats,
}

impl Hub {
    /// An empty hub whose sequence numbers continue from the current time in microseconds, so
    /// that they keep increasing across restarts.
    pub fn new(limits: HistoryLimits) -> Self {
        Self::with_first_seq(limits, now_ms().saturating_mul(1000))
    }

    /// An empty hub whose first sample must come after `first_seq`.
    pub fn with_first_seq(limits: HistoryLimits, first_seq: u64) -> Self {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self {
            inner: Mutex::new(Inner { seq: first_seq, first_seq, sources: IndexMap::new() }),
            tx,
            limits,
            stats: HubStats::default(),
        }
    }

    /// Declares a source so that it appears (with its interval) before its first sample.
    pub fn register_source(&self, name: &Arc<str>, interval: Duration) {
        let log = SourceLog::new(name, interval, &self.limits, now_ms());
        self.inner.lock().sources.entry(name.clone()).or_insert(log);
    }

    /// Keeps and broadcasts a stamped sample of a registered source; its source turns `ok`.
    /// Returns false (and does nothing) for an unknown source or a `seq` not above every earlier
    /// one.
    pub fn accept(&self, sample: Sample) -> bool {
        let frame = Outgoing::sample(Frame::Sample(sample.clone()).to_json());
        let now = now_ms();
        let mut inner = self.inner.lock();
        let Inner { seq, sources, .. } = &mut *inner;
        let Some(log) = sources.get_mut(&sample.source).filter(|_| sample.seq > *seq) else {
            tracing::debug!(source = %sample.source, seq = sample.seq, last = *seq, "sample not accepted");
            return false;
        };
        *seq = sample.seq;
        log.ring.push(Arc::new(Entry { sample, frame: frame.clone() }), now);
        log.last_good_ms = Some(now);
        if let Some(status) = log.set_status(SourceState::Ok, None, now) {
            self.broadcast(status);
        }
        self.broadcast(frame);
        true
    }

    /// Marks `source` as failing with a readable `reason` and tells every client (once per
    /// distinct reason).
    pub fn set_failing(&self, source: &Arc<str>, reason: String) {
        let mut inner = self.inner.lock();
        let Some(log) = inner.sources.get_mut(source) else { return };
        if let Some(frame) = log.set_status(SourceState::Failing, Some(reason), now_ms()) {
            self.broadcast(frame);
        }
    }

    /// Marks every source stale that has had no good sample for [`STALE_AFTER_INTERVALS`]
    /// intervals and is not already failing (a failing source says more). Call periodically.
    pub fn mark_stale(&self, now: u64) {
        let mut inner = self.inner.lock();
        for log in inner.sources.values_mut() {
            let Some(since) = log.quiet_since(now, STALE_AFTER_INTERVALS) else { continue };
            let age_s = now.saturating_sub(since) / 1000;
            if let Some(frame) = log.set_status(SourceState::Stale, Some(format!("no data for {age_s} s")), now) {
                self.broadcast(frame);
            }
        }
    }

    /// Sends under the lock so that frames reach the channel in `seq` order.
    fn broadcast(&self, frame: Outgoing) {
        self.stats.published.fetch_add(1, Ordering::Relaxed);
        // An error only means that no socket is connected right now: nothing to deliver.
        let _ = self.tx.send(frame);
    }

    /// The current `hello` content.
    pub fn snapshot(&self) -> Hello {
        let parts = start::collect_hello(&self.inner.lock().sources);
        parts.into_hello()
    }

    /// A new client's first frames and its receiver for everything after them. With a `since`
    /// from this server's life, and when every sample after it is still in the history, the first
    /// frames are the sources' statuses and exactly those samples; otherwise a full `hello`.
    pub fn subscribe(&self, since: Option<u64>) -> (Start, broadcast::Receiver<Outgoing>) {
        let (collected, rx) = {
            let inner = self.inner.lock();
            let rx = self.tx.subscribe();
            let since = since.filter(|s| (inner.first_seq..=inner.seq).contains(s));
            (start::collect(&inner.sources, since), rx)
        };
        let start = collected.finish();
        if matches!(start, Start::Resume(_)) {
            self.stats.resumed.fetch_add(1, Ordering::Relaxed);
        }
        (start, rx)
    }

    /// The health of every source.
    pub fn health(&self) -> Vec<Health> {
        let now = now_ms();
        self.inner
            .lock()
            .sources
            .values()
            .map(|log| Health {
                source: log.status.source.clone(),
                state: log.status.state,
                last_good_age_ms: log.last_good_ms.map(|t| now.saturating_sub(t)),
            })
            .collect()
    }

    /// The highest `seq` accepted so far.
    pub fn last_seq(&self) -> u64 {
        self.inner.lock().seq
    }
}
