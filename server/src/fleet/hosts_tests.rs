//! The reconciler on a real hub and directory, fetching a node_exporter body served on loopback:
//! hosts start, relabel (the directory only), change URL (fetched anew under the same source
//! name), go; a `livedash:` target shows why it is not fetched; a target whose name is not a
//! source name gets a valid one; a sample holds the figures with `up` and the duration.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use livedash::SourceState;

use super::hosts::{Alone, Fleet, LIVEDASH_NOT_YET, Roster};
use super::{Directory, HostKind};
use crate::live::history::HistoryLimits;
use crate::live::hub::Hub;
use crate::live::stamp::Stamper;
use crate::metrics::SourceMetrics;
use crate::targets::Target;
use crate::targets::file::parse;

const BODY: &str = include_str!("../../tests/fixtures/node_a.prom");

async fn exporter() -> SocketAddr {
    let app = axum::Router::new().route("/metrics", axum::routing::get(|| async { BODY }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn set(json: &str) -> Vec<Target> {
    parse(Path::new("targets.json"), json.as_bytes()).expect("valid")
}

/// Waits (5 s at most) until `ok` holds of the hub.
async fn until(hub: &Hub, what: &str, ok: impl Fn(&Hub) -> bool) {
    for _ in 0..100 {
        if ok(hub) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}");
}

fn fetched(hub: &Hub, source: &str) -> bool {
    hub.health().iter().any(|h| &*h.source == source && h.last_good_age_ms.is_some())
}

#[tokio::test]
async fn hosts_start_relabel_restart_and_go() {
    let (one, two) = (exporter().await, exporter().await);
    let limits = HistoryLimits { max_age: Duration::from_secs(60), max_len: None, max_bytes: 1 << 20 };
    let hub = Arc::new(Hub::new(limits));
    let directory = Directory::new();
    let (_switch, shutdown) = crate::shutdown::channel();
    let mut roster = Roster::new(hub.clone(), directory.clone(), Duration::from_millis(200), [Arc::from("local")]);
    let first = set(&format!(
        r#"[{{"targets": ["{one}"], "labels": {{"name": "web-1", "env": "prod"}}}},
            {{"targets": ["livedash:127.0.0.1:9"], "labels": {{"name": "peer"}}}},
            {{"targets": ["{two}"], "labels": {{"name": "local"}}}}]"#
    ));
    roster.declare(&first);
    let names = roster.sources();
    let clash = names["local"].clone();
    assert!(clash.starts_with("local-") && clash.len() == 14, "{clash}");
    assert!(hub.has_source("web-1") && hub.has_source("peer") && hub.has_source(&clash));
    assert!(!fetched(&hub, "web-1"), "declared, not fetched yet");

    let stamper = Arc::new(Stamper::new(hub.clone()));
    let mut fleet = Fleet::new(roster, Alone(stamper), SourceMetrics::default(), shutdown).unwrap();
    fleet.apply(&first).await;
    until(&hub, "web-1 and the renamed host fetched", |h| fetched(h, "web-1") && fetched(h, &clash)).await;
    let peer = hub.health().into_iter().find(|h| &*h.source == "peer").unwrap();
    assert_eq!(peer.state, SourceState::Failing);
    let hello = hub.snapshot();
    let reason = hello.sources.iter().find(|s| &*s.source == "peer").and_then(|s| s.error.clone());
    assert_eq!(reason.as_deref(), Some(LIVEDASH_NOT_YET));
    let sample = hello.history.iter().rev().find(|s| &*s.source == "web-1").unwrap();
    let data: serde_json::Value = serde_json::from_str(sample.data.get()).unwrap();
    assert_eq!(data["up"], 1, "{data}");
    assert!(data["scrape_duration_s"].as_f64().is_some_and(|d| d > 0.0) && data["mem_pct"].is_number(), "{data}");
    assert_eq!(directory.get("web-1").map(|e| (e.name, e.kind)), Some(("web-1".to_owned(), HostKind::Figures)));

    // Relabelled: the directory says so; the hub's source is the same.
    let relabelled = set(&format!(
        r#"[{{"targets": ["{one}"], "labels": {{"name": "web-1", "env": "dev"}}}},
            {{"targets": ["livedash:127.0.0.1:9"], "labels": {{"name": "peer"}}}},
            {{"targets": ["{two}"], "labels": {{"name": "local"}}}}]"#
    ));
    let seq = hub.last_seq();
    fleet.apply(&relabelled).await;
    assert_eq!(directory.get("web-1").unwrap().tags["env"], "dev");
    until(&hub, "web-1 fetched on", |h| h.snapshot().history.iter().any(|s| &*s.source == "web-1" && s.seq > seq))
        .await;

    // Moved to the other exporter: the same source name, fetched anew; then removed: gone.
    let moved = set(&format!(r#"[{{"targets": ["{two}"], "labels": {{"name": "web-1", "env": "dev"}}}}]"#));
    fleet.apply(&moved).await;
    assert!(hub.has_source("web-1") && !hub.has_source("peer") && !hub.has_source(&clash));
    assert!(directory.get("peer").is_none() && directory.len() == 1);
    let seq = hub.last_seq();
    until(&hub, "web-1 fetched at its new place", |h| {
        h.snapshot().history.iter().any(|s| &*s.source == "web-1" && s.seq > seq)
    })
    .await;
    fleet.apply(&[]).await;
    assert!(!hub.has_source("web-1") && directory.is_empty() && fleet.roster().is_empty());
    let seq = hub.last_seq();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hub.last_seq(), seq, "nothing arrives from a removed host");
}

#[tokio::test]
async fn more_hanging_hosts_than_slots_leave_a_good_one_fetched() {
    use super::fetch::MAX_IN_FLIGHT;
    let good = exporter().await;
    let hang = axum::Router::new().fallback(std::future::pending::<&'static str>);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hanging = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, hang).await });
    let mut targets: Vec<String> = (0..MAX_IN_FLIGHT * 3).map(|i| format!(r#""http://{hanging}/hang/{i}""#)).collect();
    targets.push(format!(r#""{good}""#));
    let set = set(&format!(r#"[{{"targets": [{}], "labels": {{"env": "test"}}}}]"#, targets.join(", ")));

    let limits = HistoryLimits { max_age: Duration::from_secs(60), max_len: None, max_bytes: 1 << 22 };
    let hub = Arc::new(Hub::new(limits));
    let (_switch, shutdown) = crate::shutdown::channel();
    let interval = Duration::from_millis(500);
    let roster = Roster::new(hub.clone(), Directory::new(), interval, [Arc::from("local")]);
    let stamper = Arc::new(Stamper::new(hub.clone()));
    let mut fleet = Fleet::new(roster, Alone(stamper), SourceMetrics::default(), shutdown).unwrap();
    fleet.apply(&set).await;
    let name = good.to_string();
    until(&hub, "the good host fetched", |h| fetched(h, &name)).await;
    let seq = hub.last_seq();
    tokio::time::sleep(interval * 8).await;
    let samples = hub.snapshot().history.iter().filter(|s| *s.source == *name && s.seq > seq).count();
    assert!(samples >= 6, "the good host fetched {samples} times in 8 intervals beside {} hanging", MAX_IN_FLIGHT * 3);
    let status = hub.health().into_iter().find(|h| *h.source == *name).unwrap();
    assert_eq!(status.state, SourceState::Ok);
    fleet.stop().await;
}
