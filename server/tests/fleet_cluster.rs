//! The targets file's hosts in a cluster (two instances, one real Redis, each reading its own copy
//! of the same file): each host is fetched once per interval across the cluster, by the holder of
//! its lease, and both instances show it; a host removed from the file goes from both and is
//! fetched no more.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use common::cluster::LEASE;
use common::redis_server::Redis;
use common::{PASSWORD, basic, start_with, temp_dir, test_config};
use livedash_server::fleet::HostKind;
use serde_json::Value;

const BODY: &str = include_str!("fixtures/node_a.prom");
const INTERVAL: Duration = Duration::from_millis(500);

async fn exporter() -> (SocketAddr, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let counted = hits.clone();
    let app = Router::new().route(
        "/metrics",
        get(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            async { BODY }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

async fn health(addr: SocketAddr) -> Value {
    let r = common::get(addr, "/api/health", &[("Authorization", &basic("admin", PASSWORD))]).await;
    serde_json::from_str(&r.body).unwrap()
}

/// The sources `addr` shows that have had a sample.
async fn fetched(addr: SocketAddr) -> Vec<String> {
    let h = health(addr).await;
    let sources = h["sources"].as_array().unwrap();
    sources
        .iter()
        .filter(|s| !s["last_good_age_ms"].is_null())
        .map(|s| s["source"].as_str().unwrap().to_owned())
        .collect()
}

async fn listed(addr: SocketAddr) -> Vec<String> {
    let h = health(addr).await;
    h["sources"].as_array().unwrap().iter().map(|s| s["source"].as_str().unwrap().to_owned()).collect()
}

async fn eventually(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok().await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn each_host_is_fetched_once_across_the_cluster_and_removed_from_every_instance() {
    let Some(redis) = Redis::start() else { return };
    let ((one, one_hits), (two, two_hits)) = (exporter().await, exporter().await);
    let file = temp_dir("fleet-cluster").join("targets.json");
    let group = |name: &str, addr: SocketAddr| format!(r#"{{"targets": ["{addr}"], "labels": {{"name": "{name}"}}}}"#);
    std::fs::write(&file, format!("[{}, {}]", group("one", one), group("two", two))).unwrap();
    let config = || {
        let mut config = test_config(PASSWORD);
        config.cluster = Some(redis.settings("fleet", LEASE));
        config.targets_file = Some(file.clone());
        config.interval = INTERVAL;
        config
    };
    let (a, b) = (start_with(config()).await, start_with(config()).await);
    // The fleet: this machine's `local` source and the file's hosts, on each instance.
    let kinds: Vec<(String, HostKind)> =
        b.directory.snapshot().into_iter().map(|(s, e)| (s.to_string(), e.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("local".to_owned(), HostKind::Local),
            ("one".to_owned(), HostKind::Figures),
            ("two".to_owned(), HostKind::Figures)
        ]
    );
    for addr in [a.addr, b.addr] {
        eventually("both hosts shown with samples on each instance", async || {
            let f = fetched(addr).await;
            f.contains(&"one".to_owned()) && f.contains(&"two".to_owned())
        })
        .await;
    }

    // Four seconds: each host fetched about once per interval for the two instances.
    let (one_before, two_before) = (one_hits.load(Ordering::Relaxed), two_hits.load(Ordering::Relaxed));
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let intervals = u64::try_from(started.elapsed().as_millis() / INTERVAL.as_millis()).unwrap();
    for (name, n) in
        [("one", one_hits.load(Ordering::Relaxed) - one_before), ("two", two_hits.load(Ordering::Relaxed) - two_before)]
    {
        assert!(n <= intervals + 2, "{name}: {n} fetches in {intervals} intervals: once for both instances");
        assert!(n + 3 >= intervals, "{name}: {n} fetches in {intervals} intervals: fetched on");
    }
    let (on_a, on_b) = (health(a.addr).await, health(b.addr).await);
    let fetching = |h: &Value| -> Vec<String> {
        h["cluster"]["fetching"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    };
    let (fa, fb) = (fetching(&on_a), fetching(&on_b));
    for host in ["one", "two"] {
        let holders = usize::from(fa.contains(&host.to_owned())) + usize::from(fb.contains(&host.to_owned()));
        assert_eq!(holders, 1, "{host} fetched by one instance: A {fa:?}, B {fb:?}");
    }

    // Removed from the file: gone from both, fetched no more.
    std::fs::write(&file, format!("[{}]", group("one", one))).unwrap();
    for addr in [a.addr, b.addr] {
        eventually("two removed on each instance", async || !listed(addr).await.contains(&"two".to_owned())).await;
    }
    tokio::time::sleep(INTERVAL * 2).await;
    let after = two_hits.load(Ordering::Relaxed);
    tokio::time::sleep(INTERVAL * 4).await;
    assert_eq!(two_hits.load(Ordering::Relaxed), after, "a removed host is fetched by nobody");
    assert!(fetched(a.addr).await.contains(&"one".to_owned()));
    a.stop().await;
    b.stop().await;
}
