//! Fetching many hosts well: one task per host of the targets file, all on one shared [`Fetch`].
//!
//! - ONE `reqwest::Client` for every host (its pool keeps a connection alive to each, HTTP/1.1);
//! - each host's first fetch at its [`offset`] into the interval (a stable hash of its URL), then
//!   on a fixed-rate ticker (a slow fetch never shifts the cadence, a missed tick is skipped and
//!   counted), so that a thousand hosts are not fetched in the same instant;
//! - a timeout below the interval ([`timeout_for`]), covering the wait for a slot too;
//! - at most [`MAX_IN_FLIGHT`] bodies read at once ([`Fetch`]'s semaphore, taken once the answer's
//!   head has come: hosts that hang hold no slot), a body cap ([`MAX_BODY`]).
//!
//! A Prometheus target's body goes through [`NodeFigures::observe_text`] only (the ten metric
//! families the figures read, ~0.17 ms a scrape, not the whole-body converter's ~3 ms), and its
//! sample is `{"cpu_pct":..,..,"up":1,"scrape_duration_s":0.0123}` (figures not known yet left
//! out). A JSON target's body is relayed verbatim, as an `http` source's. A failed fetch is the
//! host's `failing` status with its reason.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::names::offset;
use super::node::NodeFigures;
use crate::metrics::SourceMetrics;
use crate::shutdown::Shutdown;
use crate::sources::http::HttpSource;
use crate::sources::{Deliver, FetchError};

/// The most bodies read and parsed at once. A fetch takes its slot once the answer's head has
/// come, not before: what a slot bounds is memory (64 bodies of ~60 KB is ~4 MB, of the 4 MiB cap
/// 256 MB at the very worst) and the parsing, while a host that does not answer (a rack down: its
/// connects wait for their timeout) holds no slot, so that any number of them never hold up the
/// others. 64 bodies of a few ms each is thousands of fetches a second: far above 1000 hosts at
/// 1 s spread over the interval.
pub const MAX_IN_FLIGHT: usize = 64;
/// The longest a fetch may take, whatever the interval.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest body read: a node_exporter of a large machine (hundreds of cores, disks and
/// interfaces) says a few hundred KB; the usual is ~60 KB.
pub const MAX_BODY: usize = 4 << 20;

/// A fetch's timeout for `interval`: 80 % of it, at most [`MAX_TIMEOUT`], so that it ends before
/// the next tick.
pub fn timeout_for(interval: Duration) -> Duration {
    (interval * 4 / 5).min(MAX_TIMEOUT)
}

/// What every host's fetches share: the client and its pool, the slots.
#[derive(Clone)]
pub struct Fetch {
    client: reqwest::Client,
    slots: Arc<Semaphore>,
}

impl Fetch {
    /// The shared client (no redirects, gzip, this server's user agent) and [`MAX_IN_FLIGHT`] slots.
    pub fn new() -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            // A redirect could lead anywhere: it shows as the failure instead.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(MAX_TIMEOUT)
            .pool_max_idle_per_host(1)
            .user_agent(concat!("livedash/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Self { client, slots: Arc::new(Semaphore::new(MAX_IN_FLIGHT)) })
    }
}

/// How a host's body becomes its sample.
pub enum Reading {
    /// A node_exporter (or any Prometheus text endpoint): the figures, with `up` and the scrape's
    /// duration.
    Figures(Box<NodeFigures>),
    /// A JSON endpoint, relayed verbatim.
    Json,
}

/// One host's fetching, as [`spawn`] runs it.
pub struct HostFetch {
    /// Its source name.
    pub source: Arc<str>,
    /// Where it is fetched.
    pub url: reqwest::Url,
    /// How its body is read.
    pub reading: Reading,
    /// How often.
    pub interval: Duration,
}

/// Runs `host` on `fetch` until the task is aborted or `shutdown`, fetching while `active` says
/// so; each fetch's outcome goes to `deliver`. Aborting the task (a host removed or changed)
/// stops it between two awaits: a sample is handed over whole or not at all.
pub fn spawn<D: Deliver>(
    fetch: Fetch,
    deliver: Arc<D>,
    metrics: SourceMetrics,
    host: HostFetch,
    mut active: watch::Receiver<bool>,
    mut shutdown: Shutdown,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let HostFetch { source, url, mut reading, interval } = host;
        let timeout = timeout_for(interval);
        let http = HttpSource::with_client(fetch.client.clone(), url.clone(), timeout, MAX_BODY);
        let phase = offset(url.as_str(), interval);
        loop {
            if !*active.borrow_and_update() {
                tokio::select! {
                    changed = active.changed() => if changed.is_err() { break },
                    () = shutdown.stopped() => break,
                }
                continue;
            }
            let mut ticker = tokio::time::interval_at(Instant::now() + phase, interval);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
            let mut last_tick: Option<Instant> = None;
            loop {
                let tick = tokio::select! {
                    tick = ticker.tick() => tick,
                    // The gate moved: look at it again (disabled once its sender is gone).
                    Ok(()) = active.changed() => break,
                    () = shutdown.stopped() => return,
                };
                if let Some(last) = last_tick {
                    let missed = (tick - last).as_nanos() / interval.as_nanos().max(1);
                    deliver.missed_ticks(u64::try_from(missed.saturating_sub(1)).unwrap_or(0));
                }
                last_tick = Some(tick);
                let started = Instant::now();
                let result = tokio::select! {
                    result = once(&fetch, &http, &mut reading, timeout) => result,
                    () = shutdown.stopped() => return,
                };
                metrics.observe(&source, started.elapsed().as_secs_f64(), result.is_err());
                if let Err(e) = &result {
                    tracing::debug!(%source, reason = %e, "fleet fetch failed");
                }
                deliver.deliver(&source, result).await;
            }
        }
    })
}

/// One fetch within `timeout` (the wait for a slot included): the sample's data, or why not.
async fn once(
    fetch: &Fetch,
    http: &HttpSource,
    reading: &mut Reading,
    timeout: Duration,
) -> Result<Arc<RawValue>, FetchError> {
    let work = async {
        let started = Instant::now();
        let accept = match reading {
            Reading::Json => "application/json",
            Reading::Figures(_) => "text/plain;version=0.0.4",
        };
        let response = http.send(accept).await?;
        // The semaphore is never closed: a failure here cannot happen, but is a failure, not a panic.
        let _slot = fetch.slots.acquire().await.map_err(|_| FetchError::Client("no fetch slots".into()))?;
        let text = http.body(response).await?;
        let took = started.elapsed();
        match reading {
            Reading::Json => {
                // As an `http` source relays it: the value byte for byte, without surrounding space.
                let raw = RawValue::from_string(text).map_err(|e| FetchError::NotJson(e.to_string()))?;
                Ok(Arc::from(raw))
            }
            Reading::Figures(node) => {
                let figures = node
                    .observe_text(&text, std::time::Instant::now())
                    .map_err(|e| FetchError::NotExposition(e.to_string()))?;
                Ok(figures_json(&figures.columns(), took))
            }
        }
    };
    tokio::time::timeout(timeout, work).await.unwrap_or(Err(FetchError::Timeout(timeout)))
}

/// A fleet sample's data: each figure known (in [`livedash::fleet::FIGURES`] order), `up` and the
/// scrape's duration in seconds.
pub fn figures_json(columns: &[Option<f64>; 7], took: Duration) -> Arc<RawValue> {
    let mut text = String::with_capacity(200);
    text.push('{');
    for (name, value) in livedash::fleet::FIGURES.iter().zip(columns) {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            // Rust prints a finite f64 as a plain decimal, never NaN or an exponent: valid JSON.
            let _ = write!(text, "\"{name}\":{v},");
        }
    }
    let _ = write!(text, "\"up\":1,\"scrape_duration_s\":{}}}", took.as_secs_f64());
    // Only names and finite numbers were written: always JSON.
    RawValue::from_string(text).map(Arc::from).unwrap_or_else(|_| livedash::raw_json(&serde_json::json!({"up": 1})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_sample_holds_the_known_figures_up_and_the_duration() {
        let columns = [Some(12.5), None, Some(73.0), Some(0.25), Some(f64::NAN), Some(1e3), Some(86400.0)];
        let json = figures_json(&columns, Duration::from_micros(12_300));
        assert_eq!(
            json.get(),
            r#"{"cpu_pct":12.5,"disk_pct":73,"load1":0.25,"net_out_bps":1000,"uptime_s":86400,"up":1,"scrape_duration_s":0.0123}"#
        );
        let value: serde_json::Value = serde_json::from_str(json.get()).expect("JSON");
        assert_eq!(value["up"], 1);
    }

    #[test]
    fn timeouts_stay_below_the_interval() {
        assert_eq!(timeout_for(Duration::from_secs(1)), Duration::from_millis(800));
        assert_eq!(timeout_for(Duration::from_secs(15)), MAX_TIMEOUT);
    }
}
