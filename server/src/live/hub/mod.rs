//! The hub: accepts stamped samples (from [`super::stamp::Stamper`], or later from another
//! instance), keeps each in its source's history, and broadcasts its frame, serialized once, to
//! every socket. It also holds every source's status and tells clients when it changes, and each
//! source's per-series setting rules, which every `hello` carries.
//!
//! What every page shows beside the sources (is history saved, are the sources shared with other
//! instances) is kept and told by [`page`], with the joining of a shared stream.
//!
//! A sample is accepted only with a `seq` above every one before it, and frames reach the
//! channel in that order. Subscribing takes the receiver and collects the first frames under one
//! lock, so a client sees every sample exactly once: those before in its `hello` (or resume),
//! those after on its receiver. A `hello` is made after the lock is released, so that it never
//! holds up publishing, and it is shared: clients that arrive while nothing new has come get the
//! same bytes.
//!
//! What else needs every accepted sample (the history store, and the alerts after it) is a [`Tap`]:
//! told of each sample under the lock, in `seq` order, with the frame the sockets get (shared,
//! not copied), so that it sees exactly what the hub accepted however many come at once.
//!
//! Sources come and go at run time ([`roster`]: the fleet's hosts of a targets file); a removed
//! source's last status frame says `gone`.
//!
//! Memory is bounded: the history by [`HistoryLimits::max_bytes`] across all sources (oldest
//! first, counted in [`HubStats::history_dropped`]), and the broadcast queue by
//! [`CHANNEL_CAPACITY`] frames, which are the history's own bytes as long as it holds that many.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indexmap::IndexMap;
use livedash::{Frame, Sample, SourceState};
use parking_lot::Mutex;
use tokio::sync::broadcast;
use tungstenite::Utf8Bytes;

use super::epoch::Resumable;
use super::history::{Entry, HistoryLimits, SourceLog};
use super::outgoing::Outgoing;
use super::start::{self, Start};
use super::wire::Framed;

mod page;
mod roster;
mod subscribe;
mod tap;
use super::tap::Tap;
use crate::clock::now_ms;

/// How many frames a socket may fall behind before it skips ahead to the newest sample of each
/// source (and the skip is counted).
pub const CHANNEL_CAPACITY: usize = 128;
/// A source with no good sample for this many intervals is reported stale.
pub const STALE_AFTER_INTERVALS: u32 = 3;

struct Inner {
    /// The highest `seq` accepted.
    seq: u64,
    /// The `seq` this hub started from: what the history store gives back is below it.
    first_seq: u64,
    /// Whether a sample was accepted in this life (not only restored).
    accepted_any: bool,
    /// Which `since` can be resumed from.
    resumable: Resumable,
    /// In the order they were configured (then added): the page shows them so.
    sources: IndexMap<Arc<str>, SourceLog>,
    /// The index the next source registered gets (never reused: a removed source's index is not).
    next_index: u32,
    /// What every `hello` carries beside the sources: their rules (changed only when a source is
    /// registered) and the history store's state.
    page: start::PageWide,
    /// Bumped on every status change, so that a shared `hello` is known to be current.
    statuses_changed: u64,
    /// The last `hello`s made, for the subscription and state each was made at (a few at most);
    /// dropped when anything changes.
    hellos: Vec<(subscribe::HelloKey, Utf8Bytes)>,
    /// What is told of every sample accepted.
    taps: Vec<Arc<dyn Tap>>,
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
    /// Samples dropped from the history to keep it within its byte budget.
    pub history_dropped: AtomicU64,
    /// `hello` frames made (the others were shared).
    pub hellos_made: AtomicU64,
}

/// A new socket's place in the stream.
pub struct Subscription {
    /// What it is sent first.
    pub start: Start,
    /// Everything after that.
    pub frames: broadcast::Receiver<Outgoing>,
    /// The last `seq` its first frames cover.
    pub seq: u64,
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

impl Inner {
    /// The state a `hello` shows: the last sample and the statuses.
    fn state_key(&self) -> start::StateKey {
        (self.seq, self.statuses_changed)
    }

    fn changed_statuses(&mut self) {
        self.statuses_changed += 1;
        self.hellos.clear();
    }
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
            inner: Mutex::new(Inner {
                seq: first_seq,
                first_seq,
                accepted_any: false,
                resumable: Resumable::new(first_seq),
                sources: IndexMap::new(),
                next_index: 0,
                page: start::PageWide::default(),
                statuses_changed: 0,
                hellos: Vec::new(),
                taps: Vec::new(),
            }),
            tx,
            limits,
            stats: HubStats::default(),
        }
    }

    /// Keeps and broadcasts a stamped sample of a registered source; its source turns `ok`.
    /// Returns false (and does nothing) for an unknown source or a `seq` not above every earlier
    /// one.
    pub fn accept(&self, sample: Sample) -> bool {
        let (seq, ts_ms, source) = (sample.seq, sample.ts_ms, sample.source.clone());
        let framed = Framed::new(Frame::Sample(sample).to_json());
        let mut guard = self.inner.lock();
        self.accept_locked(&mut guard, seq, ts_ms, &source, framed)
    }

    /// [`Hub::accept`] under the lock, for a sample already serialized and framed.
    fn accept_locked(&self, inner: &mut Inner, seq: u64, ts_ms: u64, source: &Arc<str>, framed: Framed) -> bool {
        let now = now_ms();
        let Some(log) = inner.sources.get_mut(source).filter(|_| seq > inner.seq) else {
            tracing::debug!(%source, seq, last = inner.seq, "sample not accepted");
            return false;
        };
        inner.seq = seq;
        inner.accepted_any = true;
        inner.resumable.accepted(seq);
        inner.hellos.clear();
        let frame = Outgoing::sample(log.index, seq, framed);
        let entry = Arc::new(Entry { seq, ts_ms, frame: frame.clone() });
        for tap in &inner.taps {
            tap.accepted(source, &entry);
        }
        log.ring.push(entry, now);
        log.last_good_ms = Some(now);
        if let Some(status) = log.set_status(SourceState::Ok, None, now) {
            tap::status(&inner.taps, &log.status);
            inner.changed_statuses();
            self.broadcast(status);
        }
        self.keep_within_budget(inner);
        self.broadcast(frame);
        true
    }

    /// Puts samples from before this server's life (read back from the history store) into the
    /// history, oldest first, without broadcasting them: each must be of a registered source and
    /// have a `seq` below the hub's first, above the previous one restored. Returns how many were
    /// kept. Call before the sources publish.
    pub fn restore(&self, samples: impl IntoIterator<Item = Sample>) -> usize {
        let now = now_ms();
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        let mut last = 0;
        let mut kept = 0;
        for sample in samples {
            if sample.seq <= last || sample.seq >= inner.first_seq {
                continue;
            }
            let (seq, ts_ms, source) = (sample.seq, sample.ts_ms, sample.source.clone());
            let Some(log) = inner.sources.get_mut(&source) else { continue };
            let frame = Outgoing::sample(log.index, seq, Framed::new(Frame::Sample(sample).to_json()));
            log.ring.push(Arc::new(Entry { seq, ts_ms, frame }), now);
            last = seq;
            kept += 1;
        }
        inner.hellos.clear();
        self.keep_within_budget(inner);
        kept
    }

    /// Drops the oldest samples, of whichever source, while the history is over its byte budget.
    fn keep_within_budget(&self, inner: &mut Inner) {
        let mut total: usize = inner.sources.values().map(|log| log.ring.bytes()).sum();
        while total > self.limits.max_bytes {
            let oldest = inner
                .sources
                .values_mut()
                .filter_map(|log| {
                    let seq = log.ring.iter().next()?.seq;
                    Some((seq, log))
                })
                .min_by_key(|(seq, _)| *seq);
            let Some(dropped) = oldest.and_then(|(_, log)| log.ring.pop_oldest()) else { break };
            total -= livedash::history::Stamped::bytes(&dropped);
            self.stats.history_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What the history holds now, in bytes.
    pub fn history_bytes(&self) -> usize {
        self.inner.lock().sources.values().map(|log| log.ring.bytes()).sum()
    }

    /// Marks `source` as failing with a readable `reason` and tells every client (once per
    /// distinct reason).
    pub fn set_failing(&self, source: &Arc<str>, reason: String) {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        let Some(log) = inner.sources.get_mut(source) else { return };
        if let Some(frame) = log.set_status(SourceState::Failing, Some(reason), now_ms()) {
            tap::status(&inner.taps, &log.status);
            inner.changed_statuses();
            self.broadcast(frame);
        }
    }

    /// Marks every source stale that has had no good sample for [`STALE_AFTER_INTERVALS`]
    /// intervals and is not already failing (a failing source says more). Call periodically.
    pub fn mark_stale(&self, now: u64) {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        let mut changed = false;
        for log in inner.sources.values_mut() {
            let Some(since) = log.quiet_since(now, STALE_AFTER_INTERVALS) else { continue };
            let age_s = now.saturating_sub(since) / 1000;
            if let Some(frame) = log.set_status(SourceState::Stale, Some(format!("no data for {age_s} s")), now) {
                tap::status(&inner.taps, &log.status);
                changed = true;
                self.broadcast(frame);
            }
        }
        if changed {
            inner.changed_statuses();
        }
    }

    /// Sends under the lock so that frames reach the channel in `seq` order.
    fn broadcast(&self, frame: Outgoing) {
        self.stats.published.fetch_add(1, Ordering::Relaxed);
        // An error only means that no socket is connected right now: nothing to deliver.
        let _ = self.tx.send(frame);
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
