//! A fleet of fake node_exporters on loopback, for the fleet benchmark (scripts/bench-fleet.sh):
//! one process listening on N consecutive ports of 127.0.0.1, each port one target that answers
//! every path with a node_exporter body whose values differ per target and per scrape.
//!
//!   cargo run --release -p livedash-server --example fake_exporter -- N BASE_PORT [MAX_SECS]
//!
//! Target i (from 0) is `http://127.0.0.1:{BASE_PORT + i}/metrics`. The body is a capture of
//! Debian's `prometheus-node-exporter` 1.5.0 (bench/fixtures/node_exporter.prom; `FAKE_FIXTURE=FILE`
//! serves another exposition) with every value recomputed at each scrape:
//! - counters (and the untyped netstat/vmstat ones) grow at the rate the capture implies (their
//!   value over the captured host's uptime), scaled per target by 0.5 to 1.5 and wobbling by
//!   +-30 % over a period of 30 to 120 s, never going down; a counter captured at 0 stays 0;
//! - gauges wander between 70 % and 100 % of a per-target share (50 to 100 %) of the captured
//!   value, so an "available" figure never exceeds its "size" or "total";
//! - sizes and totals (`*size_bytes`, `*Total_bytes`, limits) are scaled per target by 0.5 to 2;
//!   gauges and the same byte figures scale alike; info series, flags (0 or 1) and the parts of
//!   histograms and summaries stay as captured;
//! - `node_time_seconds` is the wall clock, `node_boot_time_seconds` differs per target, and the
//!   `nodename` label is `fleet-{i}`.
//!
//! Everything is computed from the target's number, the series' number and the seconds since the
//! process started (monotonic clock): no state per target, no lock. `GET /stats` on any port:
//! JSON counts of requests by client (by `User-Agent`: prometheus, livedash, other) and how many
//! targets each client fetched at least once. Prints one JSON line once every port listens; exits
//! after MAX_SECS (default 21600). Plain bodies (no gzip): on loopback the exporter's CPU stays
//! small beside the two measured servers.

// A command-line tool: its result is what it prints, its failures what it says on stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod template;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::Router;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;

use template::Template;

/// The captured body served when `FAKE_FIXTURE` names no other.
const FIXTURE: &str = include_str!("../../../bench/fixtures/node_exporter.prom");

/// Seconds since the Unix epoch, by the wall clock (it labels `node_time_seconds`).
fn wall_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// The clients told apart in `/stats`.
const CLIENTS: [&str; 3] = ["prometheus", "livedash", "other"];

/// What every listener shares.
struct Fleet {
    template: Template,
    started: Instant,
    started_wall: f64,
    /// Per target, requests from each of [`CLIENTS`].
    requests: Vec<[AtomicU64; 3]>,
}

impl Fleet {
    fn body(&self, target: u64) -> String {
        let mut out = String::with_capacity(self.template.len + 1024);
        let elapsed = self.started.elapsed().as_secs_f64();
        self.template.render(&mut out, target, elapsed, wall_secs(), self.started_wall);
        out
    }

    fn stats(&self) -> String {
        let mut requests = serde_json::Map::new();
        let mut targets = serde_json::Map::new();
        for (c, name) in CLIENTS.iter().enumerate() {
            let counts = self.requests.iter().map(|r| r[c].load(Ordering::Relaxed));
            requests.insert((*name).to_owned(), counts.clone().sum::<u64>().into());
            targets.insert((*name).to_owned(), counts.filter(|&n| n > 0).count().into());
        }
        serde_json::json!({"targets": self.requests.len(), "requests": requests, "targets_fetched": targets})
            .to_string()
    }
}

async fn serve(fleet: Arc<Fleet>, target: u64, listener: tokio::net::TcpListener) {
    let metrics = {
        let fleet = fleet.clone();
        move |headers: HeaderMap| async move {
            let agent = headers.get(header::USER_AGENT).and_then(|a| a.to_str().ok()).unwrap_or("");
            let client = if agent.starts_with("Prometheus/") {
                0
            } else if agent.starts_with("livedash/") {
                1
            } else {
                2
            };
            if let Some(counts) = usize::try_from(target).ok().and_then(|t| fleet.requests.get(t)) {
                counts[client].fetch_add(1, Ordering::Relaxed);
            }
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], fleet.body(target)).into_response()
        }
    };
    let stats = move || async move { ([(header::CONTENT_TYPE, "application/json")], fleet.stats()) };
    let app = Router::new().route("/stats", get(stats)).fallback(get(metrics));
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("target {target}: {e}");
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: fake_exporter N BASE_PORT [MAX_SECS]";
    let n: u16 = args.next().and_then(|a| a.parse().ok()).context(usage)?;
    let base: u16 = args.next().and_then(|a| a.parse().ok()).context(usage)?;
    let max_secs: u64 = args.next().map_or(Ok(21_600), |a| a.parse()).context(usage)?;
    base.checked_add(n).context("BASE_PORT + N is past port 65535")?;
    let text = match std::env::var_os("FAKE_FIXTURE") {
        Some(path) => {
            std::fs::read_to_string(&path).with_context(|| format!("FAKE_FIXTURE={}", path.to_string_lossy()))?
        }
        None => FIXTURE.to_owned(),
    };
    let template = Template::parse(&text);
    let fleet = Arc::new(Fleet {
        template,
        started: Instant::now(),
        started_wall: wall_secs(),
        requests: (0..n).map(|_| Default::default()).collect(),
    });
    // One thread serves every target: a few hundred requests a second need no more.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        for i in 0..n {
            let port = base + i;
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .with_context(|| format!("listening on 127.0.0.1:{port}"))?;
            tokio::spawn(serve(fleet.clone(), u64::from(i), listener));
        }
        let sample = fleet.body(0);
        let series = fleet.template.series.len();
        println!(
            "{}",
            serde_json::json!({"listening": n, "first": format!("127.0.0.1:{base}"), "series": series, "body_bytes": sample.len()})
        );
        tokio::time::sleep(Duration::from_secs(max_secs)).await;
        Ok(())
    })
}
