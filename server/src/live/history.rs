//! What the hub keeps of each source: its history ring (bounded by age and by length here, and by
//! bytes across all sources in the hub), its current status with that status's frame (serialized
//! once per change), and when it last delivered, for the stale check and `/healthz`.
//!
//! A sample is kept once, as its frame: the bytes the sockets are sent are the bytes the ring
//! holds, and a `hello` is made of them without reading any sample again.

use std::sync::Arc;
use std::time::Duration;

use livedash::{Frame, Ring, SourceState, SourceStatus};

use super::outgoing::Outgoing;
use crate::clock::millis;

/// The most samples one source keeps, whatever the settings.
pub const MAX_HISTORY_LEN: usize = 100_000;

/// What keeping one sample costs besides its frame's bytes: the entry, the frame's shared parts
/// (kind, text and wire views of one buffer, and the buffer's reference count), its place in the
/// ring.
pub const ENTRY_OVERHEAD: usize = 192;

/// How long, how many samples and how many bytes the history keeps.
#[derive(Debug, Clone, Copy)]
pub struct HistoryLimits {
    /// The oldest sample kept.
    pub max_age: Duration,
    /// The most samples kept per source; `None`: as many as `max_age` holds at the source's
    /// interval (capped at [`MAX_HISTORY_LEN`]).
    pub max_len: Option<usize>,
    /// The most bytes kept for all sources together: past it the oldest sample of any source goes.
    pub max_bytes: usize,
}

impl HistoryLimits {
    /// How many samples a source fetched every `interval` keeps.
    pub fn len_for(&self, interval: Duration) -> usize {
        let derived = self.max_age.as_millis() / interval.as_millis().max(1);
        self.max_len.unwrap_or_else(|| usize::try_from(derived).unwrap_or(usize::MAX)).clamp(1, MAX_HISTORY_LEN)
    }
}

/// A kept sample: its `sample` frame, serialized once, and what the ring orders it by.
pub struct Entry {
    /// Its `seq`.
    pub seq: u64,
    /// When the server received it.
    pub ts_ms: u64,
    /// Its frame.
    pub frame: Outgoing,
}

impl livedash::history::Stamped for Entry {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn ts_ms(&self) -> u64 {
        self.ts_ms
    }
    fn bytes(&self) -> usize {
        self.frame.wire.len() + ENTRY_OVERHEAD
    }
}

/// Everything kept of one source.
pub struct SourceLog {
    /// Its place among the sources (what its sample frames carry).
    pub index: u32,
    /// Its recent samples.
    pub ring: Ring<Arc<Entry>>,
    /// Its current status.
    pub status: SourceStatus,
    /// That status as a frame.
    pub status_frame: Outgoing,
    /// How often it is fetched.
    pub interval: Duration,
    /// When its last good sample arrived.
    pub last_good_ms: Option<u64>,
    registered_ms: u64,
}

impl SourceLog {
    /// A source with no samples yet, `ok` until it says otherwise.
    pub fn new(index: u32, name: &Arc<str>, interval: Duration, limits: &HistoryLimits, now: u64) -> Self {
        let status = SourceStatus { source: name.clone(), state: SourceState::Ok, error: None, since_ms: now };
        Self {
            index,
            ring: Ring::new(limits.len_for(interval), millis(limits.max_age)),
            status_frame: status_frame(index, &status),
            status,
            interval,
            last_good_ms: None,
            registered_ms: now,
        }
    }

    /// Sets the status; returns its frame when it changed (the same state and error again is no
    /// change, so a failure that persists is told once).
    pub fn set_status(&mut self, state: SourceState, error: Option<String>, now: u64) -> Option<Outgoing> {
        if self.status.state == state && self.status.error == error {
            return None;
        }
        self.status = SourceStatus { source: self.status.source.clone(), state, error, since_ms: now };
        self.status_frame = status_frame(self.index, &self.status);
        Some(self.status_frame.clone())
    }

    /// Since when it has been quiet, if it has been for longer than `intervals` of its interval
    /// while `ok` (a failing source says more than stale would).
    pub fn quiet_since(&self, now: u64, intervals: u32) -> Option<u64> {
        if self.status.state != SourceState::Ok {
            return None;
        }
        let since = self.last_good_ms.unwrap_or(self.registered_ms);
        (now.saturating_sub(since) > millis(self.interval * intervals)).then_some(since)
    }
}

fn status_frame(index: u32, status: &SourceStatus) -> Outgoing {
    Outgoing::status(index, Frame::Status(status.clone()).to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_length_follows_each_sources_interval_unless_given() {
        let limits = HistoryLimits { max_age: Duration::from_secs(600), max_len: None, max_bytes: 1 << 20 };
        assert_eq!(limits.len_for(Duration::from_secs(1)), 600);
        assert_eq!(limits.len_for(Duration::from_millis(100)), 6000);
        assert_eq!(limits.len_for(Duration::from_millis(1)), MAX_HISTORY_LEN);
        assert_eq!(HistoryLimits { max_len: Some(50), ..limits }.len_for(Duration::from_millis(100)), 50);
    }
}
