//! `GET /metrics`: Prometheus text exposition of what the server does (no data values): clients,
//! frames, skips, resumes, disconnects by reason, logins, and per source the fetch latency
//! histogram, errors and state. Behind Basic auth like everything else (or on a loopback listener
//! of its own). Reads the counters that [`crate::auth`], [`crate::live`] and [`crate::sources`]
//! keep; the sources record into [`SourceMetrics`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::auth::Auth;
use crate::live::hub::Hub;
use crate::live::ws::connections::Connections;

/// A `source` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    /// The source's name.
    pub source: String,
}

/// A `reason` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

fn fetch_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// What the sources record as they fetch.
#[derive(Clone)]
pub struct SourceMetrics {
    fetch_seconds: Family<SourceLabel, Histogram, fn() -> Histogram>,
    fetch_errors: Family<SourceLabel, Counter>,
}

impl Default for SourceMetrics {
    fn default() -> Self {
        Self { fetch_seconds: Family::new_with_constructor(fetch_histogram), fetch_errors: Family::default() }
    }
}

impl SourceMetrics {
    /// Records one fetch of `source` that took `seconds`, and whether it failed.
    pub fn observe(&self, source: &str, seconds: f64, failed: bool) {
        let label = SourceLabel { source: source.to_owned() };
        self.fetch_seconds.get_or_create(&label).observe(seconds);
        let errors = self.fetch_errors.get_or_create(&label);
        if failed {
            errors.inc();
        }
    }
}

fn counter(v: &AtomicU64) -> ConstCounter<u64> {
    ConstCounter::new(v.load(Ordering::Relaxed))
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
}

/// The exposition text.
pub fn render(state: &Observed) -> String {
    let mut r = Registry::with_prefix("livedash");
    let ws = &state.connections.stats;
    let hub = &state.hub.stats;
    let auth = &state.auth.stats;
    let clients = i64::try_from(state.connections.open()).unwrap_or(i64::MAX);
    r.register("clients", "WebSocket clients connected now", ConstGauge::new(clients));
    r.register("frames_published", "Frames handed to the fan-out (each sent to every client)", counter(&hub.published));
    r.register("frames_skipped", "Frames skipped by clients that fell behind", counter(&hub.skipped));
    r.register("resumes", "Connections resumed with ?since= instead of a full hello", counter(&hub.resumed));
    r.register(
        "source_missed_ticks",
        "Source ticks skipped because a fetch outlasted the interval",
        counter(&hub.missed_ticks),
    );
    r.register(
        "history_dropped",
        "Samples dropped from the history to keep it within --history-bytes",
        counter(&hub.history_dropped),
    );
    r.register(
        "history_bytes",
        "Bytes the history of all sources holds",
        ConstGauge::new(i64::try_from(state.hub.history_bytes()).unwrap_or(i64::MAX)),
    );
    r.register("client_frames_ignored", "Data frames sent by clients, ignored", counter(&ws.ignored_frames));
    let closed: Family<ReasonLabel, Counter> = Family::default();
    for (reason, v) in [
        ("oversize", &ws.closed_oversize),
        ("idle", &ws.closed_idle),
        ("slow", &ws.closed_slow),
        ("revoked", &ws.closed_revoked),
    ] {
        closed.get_or_create(&ReasonLabel { reason }).inc_by(v.load(Ordering::Relaxed));
    }
    r.register("disconnects", "Sockets closed by the server, by reason", closed);
    r.register("password_verifications", "Password hash verifications run", counter(&auth.verifications));
    r.register("login_failures", "Failed logins and refused tickets", counter(&auth.failures));
    r.register("login_throttled", "Login attempts refused by throttling (429)", counter(&auth.throttled));
    r.register("source_fetch_seconds", "Time per source fetch", state.sources.fetch_seconds.clone());
    r.register("source_fetch_errors", "Failed source fetches", state.sources.fetch_errors.clone());
    let up: Family<SourceLabel, Gauge> = Family::default();
    let age: Family<SourceLabel, Gauge> = Family::default();
    for h in state.hub.health() {
        let label = SourceLabel { source: h.source.to_string() };
        up.get_or_create(&label).set(i64::from(h.state == livedash::SourceState::Ok));
        if let Some(ms) = h.last_good_age_ms {
            age.get_or_create(&label).set(i64::try_from(ms).unwrap_or(i64::MAX));
        }
    }
    r.register("source_up", "1 while the source delivers, 0 when failing or stale", up);
    r.register("source_last_good_age_milliseconds", "Age of the source's last good sample", age);
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &r);
    text
}

/// The `/metrics` handler.
pub async fn handler(State(state): State<Observed>) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], render(&state))
}
