//! `GET /metrics`: Prometheus text exposition (format 0.0.4, clean under `promtool check metrics`)
//! of what the server does, no data values: clients, frames, skips, resumes, the history's bytes,
//! disconnects by reason, logins, and per source the fetch latency histogram, errors, state and
//! age, and the history store's writes, losses and size. Behind Basic auth like everything else (or
//! on a loopback listener of its own). Reads the counters that [`crate::auth`], [`crate::live`],
//! [`crate::sources`] and [`crate::store`] keep; the sources record into [`SourceMetrics`].

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use indexmap::IndexMap;
use parking_lot::Mutex;

use crate::auth::Auth;
use crate::live::hub::Hub;
use crate::live::ws::connections::Connections;
use crate::store::Store;

/// Upper bounds of the fetch-latency buckets, in seconds: 1 ms doubling to about 16 s.
const BUCKETS: [f64; 15] =
    [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384];

/// One source's fetches.
#[derive(Debug, Default, Clone)]
struct Fetches {
    /// How many fell into each bucket (not cumulative).
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
    errors: u64,
}

/// What the sources record as they fetch.
#[derive(Clone, Default)]
pub struct SourceMetrics {
    fetches: Arc<Mutex<IndexMap<String, Fetches>>>,
}

impl SourceMetrics {
    /// Records one fetch of `source` that took `seconds`, and whether it failed.
    pub fn observe(&self, source: &str, seconds: f64, failed: bool) {
        let mut fetches = self.fetches.lock();
        let entry = fetches.entry(source.to_owned()).or_default();
        if let Some(i) = BUCKETS.iter().position(|le| seconds <= *le) {
            entry.buckets[i] += 1;
        }
        entry.sum += seconds;
        entry.count += 1;
        entry.errors += u64::from(failed);
    }

    /// Forgets `source`'s fetches (it was removed at run time: a fleet host out of the targets file).
    pub fn forget(&self, source: &str) {
        self.fetches.lock().shift_remove(source);
    }
}

/// What `/metrics` reads: the counters of every sub-system (the part of the state it takes).
#[derive(Clone)]
pub struct Observed {
    /// Frames, skips, resumes, missed ticks, and each source's health.
    pub hub: Arc<Hub>,
    /// Logins.
    pub auth: Arc<Auth>,
    /// Sockets.
    pub connections: Arc<Connections>,
    /// Fetch latency and errors.
    pub sources: SourceMetrics,
    /// The history store's writes, losses and size, when there is a store.
    pub store: Option<Arc<Store>>,
    /// Families of the sub-systems that this file does not know (the cluster's, the alerts').
    pub more: Vec<Arc<dyn Families>>,
}

/// A sub-system that writes families of its own (with [`family`]).
pub trait Families: Send + Sync {
    /// Appends its families to `out`.
    fn render(&self, out: &mut String);
}

/// Writes one metric family: its `HELP` and `TYPE`, then `(labels, value)` samples.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    let name = format!("livedash_{name}");
    // Writing into a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

/// One unlabelled sample.
pub fn one(value: f64) -> Vec<(String, f64)> {
    vec![(String::new(), value)]
}

/// One unlabelled counter sample.
pub fn count(value: u64) -> Vec<(String, f64)> {
    // Counters reach 2^53 only after centuries at any real rate.
    #[allow(clippy::cast_precision_loss)]
    one(value as f64)
}

/// `{source="name"}`, the name escaped as the format asks.
pub fn source_label(source: &str) -> String {
    let escaped = source.replace('\\', r"\\").replace('"', r#"\""#).replace('\n', r"\n");
    format!(r#"{{source="{escaped}"}}"#)
}

/// The exposition text.
pub fn render(state: &Observed) -> String {
    let mut out = String::with_capacity(4096);
    let (hub, ws, auth) = (&state.hub.stats, &state.connections.stats, &state.auth.stats);
    let get = |v: &std::sync::atomic::AtomicU64| v.load(Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)]
    let clients = state.connections.open() as f64;
    family(&mut out, "clients", "gauge", "WebSocket clients connected now.", &one(clients));
    let counters = [
        ("frames_published_total", "Frames handed to the fan-out (each sent to every client).", &hub.published),
        ("frames_skipped_total", "Frames skipped by clients that fell behind.", &hub.skipped),
        ("resumes_total", "Connections resumed with ?since= instead of a full hello.", &hub.resumed),
        (
            "source_missed_ticks_total",
            "Source ticks skipped because a fetch outlasted the interval.",
            &hub.missed_ticks,
        ),
        (
            "history_dropped_total",
            "Samples dropped from the history to keep within --history-bytes.",
            &hub.history_dropped,
        ),
        ("hellos_made_total", "Hello frames put together (clients at the same state share one).", &hub.hellos_made),
        ("client_frames_ignored_total", "Data frames sent by clients, ignored.", &ws.ignored_frames),
        ("password_verifications_total", "Password hash verifications run.", &auth.verifications),
        ("login_failures_total", "Failed logins and refused tickets.", &auth.failures),
        ("login_throttled_total", "Login attempts and refusals answered 429.", &auth.throttled),
        (
            "login_busy_total",
            "Password checks refused with 503: too many waiting, or the budget of checks without a device cookie spent.",
            &auth.busy,
        ),
    ];
    for (name, help, value) in counters {
        family(&mut out, name, "counter", help, &count(get(value)));
    }
    #[allow(clippy::cast_precision_loss)]
    let history = state.hub.history_bytes() as f64;
    family(&mut out, "history_bytes", "gauge", "Bytes the history of all sources holds.", &one(history));
    let reasons = [
        ("oversize", &ws.closed_oversize),
        ("idle", &ws.closed_idle),
        ("slow", &ws.closed_slow),
        ("revoked", &ws.closed_revoked),
    ];
    #[allow(clippy::cast_precision_loss)]
    let closed: Vec<(String, f64)> =
        reasons.iter().map(|(reason, v)| (format!(r#"{{reason="{reason}"}}"#), get(v) as f64)).collect();
    family(&mut out, "disconnects_total", "counter", "Sockets closed by the server, by reason.", &closed);
    render_sources(&mut out, state);
    if let Some(store) = &state.store {
        render_store(&mut out, store);
    }
    for more in &state.more {
        more.render(&mut out);
    }
    out
}

/// The history store's families: what it wrote and lost, its size, and whether it is saving.
fn render_store(out: &mut String, store: &Store) {
    let s = &store.shared;
    let get = |v: &std::sync::atomic::AtomicU64| v.load(Ordering::Relaxed);
    let counters = [
        ("store_points_written_total", "Points written to the history store.", &s.points_written),
        ("store_points_dropped_total", "Points not saved: a full queue or a failed write.", &s.points_dropped),
        ("store_samples_dropped_total", "Samples the history store's full queue refused.", &s.samples_dropped),
        ("store_evicted_chunks_total", "Chunks deleted to keep within --store-max-bytes.", &s.evicted_chunks),
        ("store_chunks_damaged_total", "Stored chunks that did not decode, set aside.", &s.chunks_damaged),
        ("store_clock_jumps_total", "Times the wall clock left the monotonic one by over a minute.", &s.clock_jumps),
        ("store_maintenance_failures_total", "History store maintenance steps that failed.", &s.maintenance_failures),
        ("store_reads_refused_total", "History reads refused: --store-max-reads ran for 2 s.", &s.reads_refused),
        ("store_reads_cancelled_total", "History reads stopped because their client went away.", &s.reads_cancelled),
        ("store_read_chunks_skipped_total", "Damaged chunks that history reads skipped.", &s.read_chunks_skipped),
    ];
    for (name, help, value) in counters {
        family(out, name, "counter", help, &count(get(value)));
    }
    #[allow(clippy::cast_precision_loss)]
    let bytes = get(&s.bytes) as f64;
    family(out, "store_bytes", "gauge", "Bytes the history store's file and log take (as last measured).", &one(bytes));
    #[allow(clippy::cast_precision_loss)]
    let queued = store.backlog().0 as f64;
    family(out, "store_queue_bytes", "gauge", "Bytes of samples waiting for the history store's writer.", &one(queued));
    #[allow(clippy::cast_precision_loss)]
    let skew = s.clock_skew_ms.load(Ordering::Relaxed) as f64 / 1000.0;
    family(
        out,
        "store_clock_skew_seconds",
        "gauge",
        "The wall clock minus the history store's monotonic clock (data deletion follows the latter).",
        &one(skew),
    );
    let saving = f64::from(u8::from(store.failing().is_none()));
    family(out, "store_saving", "gauge", "1 while history is being saved, 0 while writes fail.", &one(saving));
}

/// The per-source families: fetch latency, errors, up, and the age of the last good sample.
fn render_sources(out: &mut String, state: &Observed) {
    let fetches = state.sources.fetches.lock().clone();
    let name = "livedash_source_fetch_seconds";
    let _ = writeln!(out, "# HELP {name} Time per source fetch.\n# TYPE {name} histogram");
    for (source, f) in &fetches {
        let label = source_label(source);
        let inner = label.trim_start_matches('{').trim_end_matches('}');
        let mut cumulative = 0;
        for (le, n) in BUCKETS.iter().zip(f.buckets) {
            cumulative += n;
            let _ = writeln!(out, r#"{name}_bucket{{{inner},le="{le}"}} {cumulative}"#);
        }
        let _ = writeln!(out, "{name}_bucket{{{inner},le=\"+Inf\"}} {}\n{name}_sum{label} {}", f.count, f.sum);
        let _ = writeln!(out, "{name}_count{label} {}", f.count);
    }
    #[allow(clippy::cast_precision_loss)]
    let errors: Vec<(String, f64)> = fetches.iter().map(|(s, f)| (source_label(s), f.errors as f64)).collect();
    family(out, "source_fetch_errors_total", "counter", "Failed source fetches.", &errors);
    let health = state.hub.health();
    let up: Vec<(String, f64)> = health
        .iter()
        .map(|h| (source_label(&h.source), f64::from(u8::from(h.state == livedash::SourceState::Ok))))
        .collect();
    family(out, "source_up", "gauge", "1 while the source delivers, 0 when failing or stale.", &up);
    #[allow(clippy::cast_precision_loss)]
    let age: Vec<(String, f64)> =
        health.iter().filter_map(|h| Some((source_label(&h.source), h.last_good_age_ms? as f64 / 1000.0))).collect();
    family(out, "source_last_good_age_seconds", "gauge", "Age of the source's last good sample.", &age);
}

/// The `/metrics` handler.
pub async fn handler(State(state): State<Observed>) -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render(&state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_latency_buckets_are_cumulative_and_labels_escaped() {
        let metrics = SourceMetrics::default();
        metrics.observe("a", 0.0005, false);
        metrics.observe("a", 0.003, true);
        metrics.observe("a", 100.0, false);
        let fetches = metrics.fetches.lock().clone();
        assert_eq!((fetches["a"].count, fetches["a"].errors), (3, 1));
        assert_eq!(fetches["a"].buckets[..3], [1, 0, 1], "<= 1 ms, then <= 4 ms; 100 s only in +Inf");
        assert_eq!(source_label(r#"we"ird\"#), r#"{source="we\"ird\\"}"#);
    }
}
