//! Sources: each runs on its own fixed-rate ticker and hands every sample to where it goes
//! ([`Deliver`]: the stamper, or in a cluster the shared stream), while its gate is open.
//!
//! A slow fetch never shifts the cadence (the ticker is fixed-rate), a missed tick is skipped
//! and counted, not queued, and one source never runs two fetches at once. A failed fetch becomes
//! a `failing` status with a readable reason ([`FetchError`]); the next good one turns it back to
//! `ok`.
//!
//! - [`spec`]: what a source is, as configured;
//! - [`local`], [`http`], [`prometheus`]: the three kinds of fetch;
//! - [`error`]: why a fetch failed.
//!
//! May import [`crate::live`] (where samples go), [`crate::metrics`] (fetch latency and errors),
//! [`crate::shutdown`]; nothing from `config`, the router or the UI.

pub mod error;
pub mod http;
pub mod local;
pub mod prometheus;
pub mod spec;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::value::RawValue;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

pub use error::FetchError;
pub use spec::{DEFAULT_MAX_BODY, Kind, SourceArg, SourceSpec, default_timeout};

use crate::live::stamp::Stamper;
use crate::metrics::SourceMetrics;
use crate::shutdown::Shutdown;

enum Fetcher {
    Local(Option<Box<local::LocalSource>>),
    Http(http::HttpSource),
    Prometheus(http::HttpSource, prometheus::Converter),
}

impl Fetcher {
    fn new(spec: &SourceSpec) -> Result<Self, FetchError> {
        Ok(match &spec.kind {
            Kind::Local => Self::Local(Some(Box::new(local::LocalSource::new()))),
            Kind::Http(url) => Self::Http(http::HttpSource::new(url.clone(), spec.timeout, spec.max_body)?),
            Kind::Prometheus(url, selectors) => Self::Prometheus(
                http::HttpSource::new(url.clone(), spec.timeout, spec.max_body)?,
                prometheus::Converter::new(selectors.clone()),
            ),
        })
    }

    async fn fetch(&mut self) -> Result<Arc<RawValue>, FetchError> {
        match self {
            Self::Http(source) => source.fetch().await,
            Self::Prometheus(source, converter) => {
                let text = source.fetch_text("text/plain;version=0.0.4").await?;
                let value = converter.convert(&text, std::time::Instant::now())?;
                Ok(livedash::raw_json(&value))
            }
            Self::Local(slot) => {
                // Reading /proc is blocking I/O: keep it off the async workers.
                let mut source = slot.take().ok_or(FetchError::LocalStopped)?;
                let (source, data) = tokio::task::spawn_blocking(move || {
                    let data = source.sample();
                    (source, data)
                })
                .await
                .map_err(|_| FetchError::LocalStopped)?;
                *slot = Some(source);
                Ok(livedash::raw_json(&data))
            }
        }
    }
}

/// Where a source's fetches go: stamped here ([`Stamper`]), or, in a cluster, to the shared stream.
pub trait Deliver: Send + Sync + 'static {
    /// Takes the outcome of one fetch of `source` (its data, or why it failed).
    fn deliver(&self, source: &Arc<str>, result: Result<Arc<RawValue>, FetchError>) -> impl Future<Output = ()> + Send;

    /// Counts ticks skipped because a fetch took longer than the interval.
    fn missed_ticks(&self, n: u64);
}

impl Deliver for Stamper {
    async fn deliver(&self, source: &Arc<str>, result: Result<Arc<RawValue>, FetchError>) {
        match result {
            Ok(data) => self.publish(source, data),
            Err(e) => self.fail(source, e.to_string()),
        }
    }

    fn missed_ticks(&self, n: u64) {
        self.hub().stats.missed_ticks.fetch_add(n, Ordering::Relaxed);
    }
}

/// Starts `spec` on its own ticker, fetching while `active` says so (always, for a server
/// alone; in a cluster, while this instance holds the source's lease or Redis is unreachable),
/// until `shutdown` says stop. The first tick after becoming active fetches at once.
pub fn spawn<D: Deliver>(
    deliver: Arc<D>,
    metrics: SourceMetrics,
    spec: SourceSpec,
    mut active: watch::Receiver<bool>,
    mut shutdown: Shutdown,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut fetcher = match Fetcher::new(&spec) {
            Ok(f) => f,
            Err(e) => return deliver.deliver(&spec.name, Err(e)).await,
        };
        let mut ticker = tokio::time::interval(spec.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut last_tick: Option<Instant> = None;
        loop {
            if !*active.borrow_and_update() {
                tokio::select! {
                    changed = active.changed() => if changed.is_err() { break },
                    () = shutdown.stopped() => break,
                }
                ticker.reset_immediately();
                last_tick = None;
                continue;
            }
            let tick = tokio::select! {
                tick = ticker.tick() => tick,
                // Disabled once the sender is gone (the gate then stays as it is).
                Ok(()) = active.changed() => continue,
                () = shutdown.stopped() => break,
            };
            if let Some(last) = last_tick {
                let missed = (tick - last).as_nanos() / spec.interval.as_nanos().max(1);
                deliver.missed_ticks(u64::try_from(missed.saturating_sub(1)).unwrap_or(0));
            }
            last_tick = Some(tick);
            let started = Instant::now();
            let result = tokio::select! {
                result = fetcher.fetch() => result,
                () = shutdown.stopped() => break,
            };
            metrics.observe(&spec.name, started.elapsed().as_secs_f64(), result.is_err());
            if let Err(e) = &result {
                tracing::debug!(source = %spec.name, reason = %e, "fetch failed");
            }
            deliver.deliver(&spec.name, result).await;
        }
    })
}

/// A gate that is always open, for a server alone.
pub fn always() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(true);
    // The receiver keeps the last value once the sender is gone: open for good.
    drop(tx);
    rx
}
