//! The hub: stamps every sample with the global `seq` and the receive time, serializes its frame
//! once, keeps it in the source's history ring and broadcasts the same bytes to every socket.
//!
//! Subscribing takes the `hello` and the receiver under one lock, so a new client sees every
//! sample exactly once: those before in its `hello`, those after on its receiver.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use livedash::{Frame, Hello, PROTOCOL_VERSION, Ring, Sample, SourceState, SourceStatus};
use serde_json::value::RawValue;
use tokio::sync::broadcast;

/// How many frames a socket may fall behind before it skips ahead (and the skip is counted).
const CHANNEL_CAPACITY: usize = 256;

/// How long and how many samples each source's history keeps.
#[derive(Debug, Clone, Copy)]
pub struct HistoryLimits {
    /// The oldest sample kept.
    pub max_age: Duration,
    /// The most samples kept per source.
    pub max_len: usize,
}

struct SourceEntry {
    ring: Ring<Arc<Sample>>,
    status: SourceStatus,
    interval: Duration,
}

#[derive(Default)]
struct Inner {
    seq: u64,
    sources: BTreeMap<Arc<str>, SourceEntry>,
}

/// Counters the hub keeps for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct HubStats {
    /// Frames handed to the broadcast channel.
    pub published: AtomicU64,
    /// Frames skipped by sockets that fell behind.
    pub skipped: AtomicU64,
}

/// The fan-out point between sources and sockets.
pub struct Hub {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Utf8Bytes>,
    limits: HistoryLimits,
    /// Counters.
    pub stats: HubStats,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Hub {
    /// An empty hub.
    pub fn new(limits: HistoryLimits) -> Self {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self { inner: Mutex::new(Inner::default()), tx, limits, stats: HubStats::default() }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; if something did, the data is still consistent
        // (every update is a single push or assignment), so keep serving it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Declares a source so that it appears (with its interval) before its first sample.
    pub fn register_source(&self, name: &Arc<str>, interval: Duration) {
        let ring_len = self.limits.max_len;
        let max_age = u64::try_from(self.limits.max_age.as_millis()).unwrap_or(u64::MAX);
        self.lock().sources.entry(name.clone()).or_insert_with(|| SourceEntry {
            ring: Ring::new(ring_len, max_age),
            status: SourceStatus { source: name.clone(), state: SourceState::Ok, error: None, since_ms: now_ms() },
            interval,
        });
    }

    /// Stamps, stores and broadcasts one sample of `source`.
    pub fn publish(&self, source: &Arc<str>, data: &serde_json::Value) {
        // A Value always serializes; RawValue::from_string only re-checks what it was given.
        let Ok(raw) =
            serde_json::to_string(data).map_err(|_| ()).and_then(|s| RawValue::from_string(s).map_err(|_| ()))
        else {
            return;
        };
        self.publish_raw(source, Arc::from(raw));
    }

    /// Like [`Hub::publish`], for data that is already JSON text (relayed verbatim).
    pub fn publish_raw(&self, source: &Arc<str>, data: Arc<RawValue>) {
        let now = now_ms();
        let mut inner = self.lock();
        inner.seq += 1;
        let sample = Arc::new(Sample { seq: inner.seq, source: source.clone(), ts_ms: now, data });
        let text = Frame::Sample((*sample).clone()).to_json();
        let status_change = inner.sources.get_mut(source).and_then(|entry| {
            entry.ring.push(sample, now);
            (entry.status.state != SourceState::Ok).then(|| {
                entry.status =
                    SourceStatus { source: source.clone(), state: SourceState::Ok, error: None, since_ms: now };
                Frame::Status(entry.status.clone()).to_json()
            })
        });
        if let Some(status) = status_change {
            self.broadcast(status.into());
        }
        self.broadcast(text.into());
    }

    /// Marks `source` as failing with a readable `reason` and tells every client.
    pub fn set_failing(&self, source: &Arc<str>, reason: String) {
        let mut inner = self.lock();
        let Some(entry) = inner.sources.get_mut(source) else { return };
        if entry.status.state == SourceState::Failing && entry.status.error.as_deref() == Some(&reason) {
            return;
        }
        entry.status = SourceStatus {
            source: source.clone(),
            state: SourceState::Failing,
            error: Some(reason),
            since_ms: now_ms(),
        };
        let text = Frame::Status(entry.status.clone()).to_json();
        self.broadcast(text.into());
    }

    /// Sends under the lock so that frames reach the channel in `seq` order.
    fn broadcast(&self, text: Utf8Bytes) {
        self.stats.published.fetch_add(1, Ordering::Relaxed);
        // An error only means that no socket is connected right now: nothing to deliver.
        let _ = self.tx.send(text);
    }

    /// The current `hello` content.
    pub fn snapshot(&self) -> Hello {
        Self::hello(&self.lock())
    }

    fn hello(inner: &Inner) -> Hello {
        let mut history: Vec<Sample> =
            inner.sources.values().flat_map(|e| e.ring.iter().map(|s| (**s).clone())).collect();
        history.sort_unstable_by_key(|s| s.seq);
        Hello {
            v: PROTOCOL_VERSION,
            server_time_ms: now_ms(),
            interval_ms: inner
                .sources
                .iter()
                .map(|(name, e)| (name.to_string(), u64::try_from(e.interval.as_millis()).unwrap_or(u64::MAX)))
                .collect(),
            history,
            sources: inner.sources.values().map(|e| e.status.clone()).collect(),
        }
    }

    /// A new client's first frame and its receiver for everything after it.
    pub fn subscribe(&self) -> (Utf8Bytes, broadcast::Receiver<Utf8Bytes>) {
        let inner = self.lock();
        let hello = Frame::Hello(Self::hello(&inner)).to_json();
        (hello.into(), self.tx.subscribe())
    }

    /// The highest `seq` handed out so far.
    pub fn last_seq(&self) -> u64 {
        self.lock().seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hub() -> Hub {
        Hub::new(HistoryLimits { max_age: Duration::from_secs(600), max_len: 3 })
    }

    #[tokio::test]
    async fn samples_get_increasing_seq_and_reach_subscribers() {
        let hub = hub();
        let a: Arc<str> = Arc::from("a");
        hub.register_source(&a, Duration::from_secs(1));
        hub.publish(&a, &json!({"x": 1}));
        let (hello, mut rx) = hub.subscribe();
        assert!(hello.as_str().contains(r#""history":[{"seq":1,"source":"a""#), "{}", hello.as_str());
        hub.publish(&a, &json!({"x": 2}));
        let frame = rx.recv().await.expect("frame");
        assert!(frame.as_str().starts_with(r#"{"type":"sample","seq":2,"source":"a""#), "{}", frame.as_str());
        assert_eq!(hub.last_seq(), 2);
    }

    #[test]
    fn history_is_bounded_per_source() {
        let hub = hub();
        let a: Arc<str> = Arc::from("a");
        hub.register_source(&a, Duration::from_secs(1));
        for i in 0..10 {
            hub.publish(&a, &json!({ "x": i }));
        }
        let snap = hub.snapshot();
        assert_eq!(snap.history.iter().map(|s| s.seq).collect::<Vec<_>>(), [8, 9, 10]);
        assert_eq!(snap.interval_ms["a"], 1000);
    }

    #[tokio::test]
    async fn failing_then_recovering_sends_status_frames() {
        let hub = hub();
        let a: Arc<str> = Arc::from("a");
        hub.register_source(&a, Duration::from_secs(1));
        let (_, mut rx) = hub.subscribe();
        hub.set_failing(&a, "connection refused".into());
        hub.set_failing(&a, "connection refused".into());
        hub.publish(&a, &json!(1));
        let f1 = rx.recv().await.expect("frame");
        assert!(f1.as_str().contains(r#""state":"failing","error":"connection refused""#), "{}", f1.as_str());
        let f2 = rx.recv().await.expect("frame");
        assert!(f2.as_str().contains(r#""state":"ok""#), "the repeated failure is not re-sent: {}", f2.as_str());
        let f3 = rx.recv().await.expect("frame");
        assert!(f3.as_str().contains(r#""type":"sample""#));
    }
}
