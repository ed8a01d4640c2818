//! The hub: stamps every sample with the global `seq` and the receive time, serializes its frame
//! once, keeps it in the source's history ring and broadcasts the same bytes to every socket.
//!
//! Subscribing takes the first frames and the receiver under one lock, so a client sees every
//! sample exactly once: those before in its `hello` (or resume), those after on its receiver.
//!
//! Sequence numbers start from the start-up time in microseconds, so that they keep increasing
//! across restarts: a browser that resumes with `?since=N` after a restart gets exactly the new
//! server's samples, never a stale number that happens to match.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;
use livedash::{Frame, Hello, PROTOCOL_VERSION, Ring, Sample, SourceState, SourceStatus};
use serde_json::value::RawValue;
use tokio::sync::broadcast;
use tungstenite::Utf8Bytes;

/// How many frames a socket may fall behind before it skips ahead (and the skip is counted).
const CHANNEL_CAPACITY: usize = 256;
/// A source with no good sample for this many intervals is reported stale.
pub const STALE_AFTER_INTERVALS: u32 = 3;

/// How long and how many samples each source's history keeps.
#[derive(Debug, Clone, Copy)]
pub struct HistoryLimits {
    /// The oldest sample kept.
    pub max_age: Duration,
    /// The most samples kept per source; `None`: as many as `max_age` holds at the source's
    /// interval (capped at [`MAX_HISTORY_LEN`]).
    pub max_len: Option<usize>,
}

/// The most samples one source keeps, whatever the settings.
pub const MAX_HISTORY_LEN: usize = 100_000;

impl HistoryLimits {
    /// How many samples a source fetched every `interval` keeps.
    pub fn len_for(&self, interval: Duration) -> usize {
        let derived = self.max_age.as_millis() / interval.as_millis().max(1);
        self.max_len.unwrap_or_else(|| usize::try_from(derived).unwrap_or(usize::MAX)).clamp(1, MAX_HISTORY_LEN)
    }
}

/// A stored sample and its frame, serialized once.
struct Entry {
    sample: Sample,
    frame: Utf8Bytes,
}

impl livedash::history::Stamped for Entry {
    fn seq(&self) -> u64 {
        self.sample.seq
    }
    fn ts_ms(&self) -> u64 {
        self.sample.ts_ms
    }
}

struct SourceEntry {
    ring: Ring<Arc<Entry>>,
    status: SourceStatus,
    interval: Duration,
    last_good_ms: Option<u64>,
    registered_ms: u64,
}

struct Inner {
    seq: u64,
    /// The `seq` this hub started from: a `since` below it is from another server's life.
    first_seq: u64,
    /// In the order they were configured: the page shows them so.
    sources: IndexMap<Arc<str>, SourceEntry>,
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

/// What a new socket is sent first.
pub enum Start {
    /// Everything: the `hello` frame.
    Hello(Utf8Bytes),
    /// A resume: the status of every source, then exactly the samples after `since`.
    Resume(Vec<Utf8Bytes>),
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
    /// An empty hub whose sequence numbers continue from the current time (see the module docs).
    pub fn new(limits: HistoryLimits) -> Self {
        Self::with_first_seq(limits, now_ms().saturating_mul(1000))
    }

    /// An empty hub whose first sample gets `first_seq + 1`.
    pub fn with_first_seq(limits: HistoryLimits, first_seq: u64) -> Self {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self {
            inner: Mutex::new(Inner { seq: first_seq, first_seq, sources: IndexMap::new() }),
            tx,
            limits,
            stats: HubStats::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; if something did, the data is still consistent
        // (every update is a single push or assignment), so keep serving it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Declares a source so that it appears (with its interval) before its first sample.
    pub fn register_source(&self, name: &Arc<str>, interval: Duration) {
        let ring_len = self.limits.len_for(interval);
        let max_age = u64::try_from(self.limits.max_age.as_millis()).unwrap_or(u64::MAX);
        let now = now_ms();
        self.lock().sources.entry(name.clone()).or_insert_with(|| SourceEntry {
            ring: Ring::new(ring_len, max_age),
            status: SourceStatus { source: name.clone(), state: SourceState::Ok, error: None, since_ms: now },
            interval,
            last_good_ms: None,
            registered_ms: now,
        });
    }

    /// Stamps, stores and broadcasts one sample of `source`; `data` is relayed verbatim.
    pub fn publish_raw(&self, source: &Arc<str>, data: Arc<RawValue>) {
        let now = now_ms();
        let mut inner = self.lock();
        inner.seq += 1;
        let sample = Sample { seq: inner.seq, source: source.clone(), ts_ms: now, data };
        let frame: Utf8Bytes = Frame::Sample(sample.clone()).to_json().into();
        let Some(entry) = inner.sources.get_mut(source) else { return };
        entry.ring.push(Arc::new(Entry { sample, frame: frame.clone() }), now);
        entry.last_good_ms = Some(now);
        if entry.status.state != SourceState::Ok {
            entry.status = SourceStatus { source: source.clone(), state: SourceState::Ok, error: None, since_ms: now };
            let status = Frame::Status(entry.status.clone()).to_json();
            self.broadcast(status.into());
        }
        self.broadcast(frame);
    }

    /// Marks `source` as failing with a readable `reason` and tells every client (once per
    /// distinct reason).
    pub fn set_failing(&self, source: &Arc<str>, reason: String) {
        self.set_state(source, SourceState::Failing, Some(reason));
    }

    fn set_state(&self, source: &Arc<str>, state: SourceState, error: Option<String>) {
        let mut inner = self.lock();
        let Some(entry) = inner.sources.get_mut(source) else { return };
        if entry.status.state == state && entry.status.error == error {
            return;
        }
        entry.status = SourceStatus { source: source.clone(), state, error, since_ms: now_ms() };
        let text = Frame::Status(entry.status.clone()).to_json();
        self.broadcast(text.into());
    }

    /// Marks every source stale that has had no good sample for [`STALE_AFTER_INTERVALS`]
    /// intervals and is not already failing (a failing source says more). Call periodically.
    pub fn mark_stale(&self, now: u64) {
        let stale: Vec<(Arc<str>, u64)> = self
            .lock()
            .sources
            .iter()
            .filter(|(_, e)| e.status.state == SourceState::Ok)
            .filter_map(|(name, e)| {
                let since = e.last_good_ms.unwrap_or(e.registered_ms);
                let limit = u64::try_from((e.interval * STALE_AFTER_INTERVALS).as_millis()).unwrap_or(u64::MAX);
                (now.saturating_sub(since) > limit).then(|| (name.clone(), since))
            })
            .collect();
        for (name, since) in stale {
            let age_s = now.saturating_sub(since) / 1000;
            self.set_state(&name, SourceState::Stale, Some(format!("no data for {age_s} s")));
        }
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
            inner.sources.values().flat_map(|e| e.ring.iter().map(|entry| entry.sample.clone())).collect();
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

    /// A new client's first frames and its receiver for everything after them. With a `since`
    /// from this server's life, and when every sample after it is still in the history, the first
    /// frames are the sources' statuses and exactly those samples; otherwise a full `hello`.
    pub fn subscribe(&self, since: Option<u64>) -> (Start, broadcast::Receiver<Utf8Bytes>) {
        let inner = self.lock();
        let rx = self.tx.subscribe();
        if let Some(since) = since.filter(|s| (inner.first_seq..=inner.seq).contains(s))
            && let Some(frames) = Self::resume(&inner, since)
        {
            self.stats.resumed.fetch_add(1, Ordering::Relaxed);
            return (Start::Resume(frames), rx);
        }
        (Start::Hello(Frame::Hello(Self::hello(&inner)).to_json().into()), rx)
    }

    fn resume(inner: &Inner, since: u64) -> Option<Vec<Utf8Bytes>> {
        let mut samples: Vec<&Arc<Entry>> = Vec::new();
        for entry in inner.sources.values() {
            samples.extend(entry.ring.after(since)?);
        }
        samples.sort_unstable_by_key(|e| e.sample.seq);
        let statuses = inner.sources.values().map(|e| Utf8Bytes::from(Frame::Status(e.status.clone()).to_json()));
        Some(statuses.chain(samples.into_iter().map(|e| e.frame.clone())).collect())
    }

    /// The health of every source.
    pub fn health(&self) -> Vec<Health> {
        let now = now_ms();
        self.lock()
            .sources
            .values()
            .map(|e| Health {
                source: e.status.source.clone(),
                state: e.status.state,
                last_good_age_ms: e.last_good_ms.map(|t| now.saturating_sub(t)),
            })
            .collect()
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
        Hub::with_first_seq(HistoryLimits { max_age: Duration::from_secs(600), max_len: Some(3) }, 0)
    }

    #[test]
    fn a_since_from_before_this_server_gets_a_hello() {
        let hub = Hub::with_first_seq(HistoryLimits { max_age: Duration::from_secs(600), max_len: Some(3) }, 100);
        let a = source(&hub, "a");
        hub.publish_raw(&a, livedash::raw_json(&json!(1)));
        assert_eq!(hello_of(hub.subscribe(Some(7)).0).history.len(), 1);
        assert_eq!(seqs_of(hub.subscribe(Some(100)).0), [101]);
    }

    fn source(hub: &Hub, name: &str) -> Arc<str> {
        let name: Arc<str> = Arc::from(name);
        hub.register_source(&name, Duration::from_secs(1));
        name
    }

    fn hello_of(start: Start) -> Hello {
        let Start::Hello(text) = start else { panic!("expected a hello") };
        let Ok(Frame::Hello(h)) = Frame::from_json(text.as_str()) else { panic!("not a hello frame") };
        h
    }

    fn seqs_of(start: Start) -> Vec<u64> {
        let Start::Resume(frames) = start else { panic!("expected a resume") };
        frames
            .iter()
            .filter_map(|f| match Frame::from_json(f.as_str()) {
                Ok(Frame::Sample(s)) => Some(s.seq),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn samples_get_increasing_seq_and_reach_subscribers() {
        let hub = hub();
        let a = source(&hub, "a");
        hub.publish_raw(&a, livedash::raw_json(&json!({"x": 1})));
        let (start, mut rx) = hub.subscribe(None);
        assert_eq!(hello_of(start).history.iter().map(|s| s.seq).collect::<Vec<_>>(), [1]);
        hub.publish_raw(&a, livedash::raw_json(&json!({"x": 2})));
        let frame = rx.recv().await.expect("frame");
        assert!(frame.as_str().starts_with(r#"{"type":"sample","seq":2,"source":"a""#), "{}", frame.as_str());
        assert_eq!(hub.last_seq(), 2);
    }

    #[test]
    fn default_seq_starts_from_the_clock_so_it_grows_across_restarts() {
        let before = now_ms() * 1000;
        let hub = Hub::new(HistoryLimits { max_age: Duration::from_secs(1), max_len: Some(1) });
        assert!(hub.last_seq() >= before);
        // Still exact in a JavaScript number for centuries.
        assert!(hub.last_seq() < (1 << 53));
    }

    #[test]
    fn history_length_follows_each_sources_interval_unless_given() {
        let limits = HistoryLimits { max_age: Duration::from_secs(600), max_len: None };
        assert_eq!(limits.len_for(Duration::from_secs(1)), 600);
        assert_eq!(limits.len_for(Duration::from_millis(100)), 6000);
        assert_eq!(limits.len_for(Duration::from_millis(1)), MAX_HISTORY_LEN);
        assert_eq!(HistoryLimits { max_len: Some(50), ..limits }.len_for(Duration::from_millis(100)), 50);
    }

    #[test]
    fn history_is_bounded_per_source() {
        let hub = hub();
        let a = source(&hub, "a");
        for i in 0..10 {
            hub.publish_raw(&a, livedash::raw_json(&json!({ "x": i })));
        }
        let snap = hub.snapshot();
        assert_eq!(snap.history.iter().map(|s| s.seq).collect::<Vec<_>>(), [8, 9, 10]);
        assert_eq!(snap.interval_ms["a"], 1000);
    }

    #[test]
    fn resume_sends_exactly_the_missing_samples_or_a_hello() {
        let hub = hub();
        let (a, b) = (source(&hub, "a"), source(&hub, "b"));
        for i in 0..4 {
            hub.publish_raw(&a, livedash::raw_json(&json!(i))); // seqs 1, 3, 5, 7
            hub.publish_raw(&b, livedash::raw_json(&json!(i))); // seqs 2, 4, 6, 8
        }
        // Each ring holds its last 3: a = 3, 5, 7 and b = 4, 6, 8; 1 and 2 are gone.
        assert_eq!(seqs_of(hub.subscribe(Some(5)).0), [6, 7, 8]);
        assert_eq!(seqs_of(hub.subscribe(Some(2)).0), [3, 4, 5, 6, 7, 8]);
        assert_eq!(seqs_of(hub.subscribe(Some(8)).0), Vec::<u64>::new());
        assert_eq!(hello_of(hub.subscribe(Some(1)).0).history.len(), 6, "seq 2 was evicted: full hello");
        assert_eq!(hello_of(hub.subscribe(Some(99)).0).history.len(), 6, "from the future: full hello");
        assert_eq!(hub.stats.resumed.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_resume_starts_with_every_source_status() {
        let hub = hub();
        let a = source(&hub, "a");
        hub.publish_raw(&a, livedash::raw_json(&json!(1)));
        hub.set_failing(&a, "timeout".into());
        let Start::Resume(frames) = hub.subscribe(Some(1)).0 else { panic!("resume") };
        assert_eq!(frames.len(), 1);
        assert!(frames[0].as_str().contains(r#""state":"failing","error":"timeout""#));
    }

    #[tokio::test]
    async fn failing_then_recovering_sends_status_frames() {
        let hub = hub();
        let a = source(&hub, "a");
        let (_, mut rx) = hub.subscribe(None);
        hub.set_failing(&a, "connection refused".into());
        hub.set_failing(&a, "connection refused".into());
        hub.publish_raw(&a, livedash::raw_json(&json!(1)));
        let f1 = rx.recv().await.expect("frame");
        assert!(f1.as_str().contains(r#""state":"failing","error":"connection refused""#), "{}", f1.as_str());
        let f2 = rx.recv().await.expect("frame");
        assert!(f2.as_str().contains(r#""state":"ok""#), "the repeated failure is not re-sent: {}", f2.as_str());
        let f3 = rx.recv().await.expect("frame");
        assert!(f3.as_str().contains(r#""type":"sample""#));
    }

    #[test]
    fn quiet_sources_turn_stale_and_failing_ones_stay_failing() {
        let hub = hub();
        let (a, b, c) = (source(&hub, "a"), source(&hub, "b"), source(&hub, "c"));
        hub.publish_raw(&a, livedash::raw_json(&json!(1)));
        hub.set_failing(&b, "HTTP 500".into());
        hub.publish_raw(&c, livedash::raw_json(&json!(1)));
        let later = now_ms() + 3_500;
        hub.mark_stale(later);
        let states: Vec<_> = hub.health().into_iter().map(|h| (h.source.to_string(), h.state)).collect();
        assert_eq!(
            states,
            [("a".into(), SourceState::Stale), ("b".into(), SourceState::Failing), ("c".into(), SourceState::Stale)]
        );
        hub.publish_raw(&a, livedash::raw_json(&json!(2)));
        assert_eq!(hub.health()[0].state, SourceState::Ok);
        assert!(hub.health()[0].last_good_age_ms.is_some_and(|age| age < 1000));
        assert_eq!(hub.health()[1].last_good_age_ms, None);
    }
}
