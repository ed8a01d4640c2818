//! Sources against a real upstream HTTP server started by the test: the body is relayed byte
//! for byte, every failure mode becomes a `failing` status with a readable reason and recovers to
//! `ok`, and a reconnecting client resumes with exactly the samples it missed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use livedash::{Frame, SourceState};
use livedash_server::sources::SourceSpec;

use common::upstream::{BODY, Mode, http_source, next_text, socket, upstream, wait_status};
use common::{PASSWORD, basic};

#[tokio::test]
async fn upstream_json_reaches_the_client_byte_for_byte() {
    let (up, _) = upstream().await;
    let mut config = common::test_config(PASSWORD);
    config.sources = vec![http_source("up", up, Duration::from_millis(200))];
    let server = common::start_with(config).await;
    let mut ws = socket(server.addr, "").await;
    let _hello = next_text(&mut ws).await;
    let frame = next_text(&mut ws).await;
    assert!(frame.contains(&format!(r#""data":{BODY}}}"#)), "not verbatim: {frame}");
    assert!(frame.contains(r#""source":"up""#));
    server.stop().await;
}

#[tokio::test]
async fn every_upstream_failure_is_a_readable_status_and_recovers() {
    let (up, mode) = upstream().await;
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut config = common::test_config(PASSWORD);
    config.sources = vec![
        http_source("up", up, Duration::from_millis(500)),
        http_source("gone", refused, Duration::from_millis(500)),
    ];
    let server = common::start_with(config).await;
    // The refused source failed before this client came: its hello says so.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut ws = socket(server.addr, "").await;
    let Ok(Frame::Hello(hello)) = Frame::from_json(&next_text(&mut ws).await) else { panic!("hello") };
    let gone = hello.sources.iter().find(|s| &*s.source == "gone").expect("gone is listed");
    assert_eq!(gone.state, SourceState::Failing);
    let reason = gone.error.clone().expect("a reason");
    assert!(reason.contains("connect"), "{reason}");

    for (m, expect) in [
        (Mode::Error500, "HTTP 500"),
        (Mode::NotJson, "not JSON"),
        (Mode::Huge, "limit"),
        (Mode::Slow, "timed out"),
        (Mode::Trickle, "timed out"),
        (Mode::Redirect, "redirects (HTTP 302 Found) to http://10.255.0.1:9/login;"),
    ] {
        mode.store(m as u8, Ordering::Relaxed);
        let reason = wait_status(&mut ws, "up", SourceState::Failing).await.expect("a reason");
        assert!(reason.contains(expect), "{expect}: {reason}");
        mode.store(Mode::Good as u8, Ordering::Relaxed);
        assert_eq!(wait_status(&mut ws, "up", SourceState::Ok).await, None);
    }
    // The healthy-looking local machine was never involved, and the server is still serving.
    let health = common::get(server.addr, "/healthz", &[]).await;
    assert!(health.body.contains(r#""status":"degraded""#), "{}", health.body);
    server.stop().await;
}

#[tokio::test]
async fn a_reconnect_with_since_gets_exactly_the_missed_samples() {
    let mut config = common::test_config(PASSWORD);
    config.interval = Duration::from_millis(100);
    for s in &mut config.sources {
        s.interval = config.interval;
    }
    let server = common::start_with(config).await;
    let mut ws = socket(server.addr, "").await;
    let Ok(Frame::Hello(hello)) = Frame::from_json(&next_text(&mut ws).await) else { panic!("hello first") };
    let mut last = hello.last_seq();
    for _ in 0..3 {
        if let Ok(Frame::Sample(s)) = Frame::from_json(&next_text(&mut ws).await) {
            last = s.seq;
        }
    }
    drop(ws);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let missed: Vec<u64> = server_snapshot_seqs(server.addr).await.into_iter().filter(|s| *s > last).collect();
    assert!(missed.len() >= 5, "{missed:?}");

    let mut ws = socket(server.addr, &format!("?since={last}")).await;
    let mut got = Vec::new();
    while got.len() < missed.len() {
        match Frame::from_json(&next_text(&mut ws).await).unwrap() {
            Frame::Sample(s) => got.push(s.seq),
            Frame::Status(_)
            | Frame::Store(_)
            | Frame::Cluster(_)
            | Frame::Alerts(_)
            | Frame::Fleet(_)
            | Frame::Points(_) => {}
            Frame::Hello(_) => panic!("a full hello instead of a resume"),
        }
    }
    assert_eq!(got, missed, "exactly the missed samples, in order");
    // Too old a `since` gets a full hello.
    let mut ws = socket(server.addr, "?since=1").await;
    assert!(matches!(Frame::from_json(&next_text(&mut ws).await), Ok(Frame::Hello(_))));
    server.stop().await;
}

async fn server_snapshot_seqs(addr: std::net::SocketAddr) -> Vec<u64> {
    let r = common::get(addr, "/api/snapshot", &[("Authorization", &basic("admin", PASSWORD))]).await;
    let hello: livedash::Hello = serde_json::from_str(&r.body).unwrap();
    hello.history.iter().map(|s| s.seq).collect()
}

#[tokio::test]
async fn a_stalled_client_does_not_delay_the_others() {
    let (up, mode) = upstream().await;
    mode.store(Mode::Padded as u8, Ordering::Relaxed);
    let mut config = common::test_config(PASSWORD);
    config.sources = vec![http_source("up", up, Duration::from_millis(100))];
    let server = common::start_with(config).await;
    // A client that never reads: 400 KB frames fill its socket buffers within a second or two.
    let _stalled = socket(server.addr, "").await;
    let mut reader = socket(server.addr, "").await;
    let _hello = next_text(&mut reader).await;
    let started = std::time::Instant::now();
    let mut samples = 0;
    while started.elapsed() < Duration::from_secs(4) {
        if next_text(&mut reader).await.starts_with(r#"{"type":"sample""#) {
            samples += 1;
        }
    }
    // 40 ticks in 4 s; allow for scheduling on a busy machine, not for being held up.
    assert!(samples >= 30, "the reading client got {samples} samples in 4 s");
    server.stop().await;
}

#[tokio::test]
async fn the_history_stays_within_its_byte_budget_with_400_kb_samples() {
    let (up, mode) = upstream().await;
    mode.store(Mode::Padded as u8, Ordering::Relaxed);
    let mut config = common::test_config(PASSWORD);
    config.sources = vec![http_source("up", up, Duration::from_millis(100))];
    config.history_bytes = 4 << 20;
    let server = common::start_with(config).await;
    let auth = basic("admin", PASSWORD);
    let metric = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    // Before: every sample kept (twice) until the count or age limit, 536 MiB after 60 s.
    let mut dropped = 0.0;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let text = common::get(server.addr, "/metrics", &[("Authorization", &auth)]).await.body;
        assert!(metric(&text, "livedash_history_bytes") <= f64::from(4u32 << 20), "{text}");
        dropped = metric(&text, "livedash_history_dropped_total");
        if dropped >= 5.0 {
            break;
        }
    }
    assert!(dropped >= 5.0, "the oldest samples went: {dropped}");
    // What is kept is the newest, and a new client still gets it all.
    let seqs = server_snapshot_seqs(server.addr).await;
    assert!((8..=11).contains(&seqs.len()), "about 4 MiB of 400 KB samples: {}", seqs.len());
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    server.stop().await;
}

#[tokio::test]
async fn a_prometheus_source_keeps_the_selected_metrics_with_counters_as_rates() {
    let (up, _) = upstream().await;
    let mut config = common::test_config(PASSWORD);
    let arg: livedash_server::sources::SourceArg =
        format!(r#"node=prometheus:http://{up}/metrics#temperature,requests_total{{code="200"}}"#).parse().unwrap();
    config.sources = vec![SourceSpec {
        name: Arc::from("node"),
        kind: arg.kind,
        interval: Duration::from_millis(200),
        timeout: Duration::from_millis(180),
        max_body: 1 << 20,
        series: Arc::from([]),
    }];
    let server = common::start_with(config).await;
    let mut ws = socket(server.addr, "").await;
    let _hello = next_text(&mut ws).await;
    let mut last = serde_json::Value::Null;
    for _ in 0..3 {
        if let Ok(Frame::Sample(s)) = Frame::from_json(&next_text(&mut ws).await) {
            last = serde_json::from_str(s.data.get()).unwrap();
        }
    }
    assert_eq!(last["temperature"], 21.5, "{last}");
    assert!(last.get("other").is_none(), "not selected: {last}");
    let rate = last["requests_total"]["code=200"].as_f64().expect("a rate");
    // 10 per scrape at 5 scrapes a second, give or take the scheduling.
    assert!((10.0..=200.0).contains(&rate), "rate {rate}");
    assert!(last["requests_total"].get("code=500").is_none(), "filtered by label: {last}");
    server.stop().await;
}

#[tokio::test]
async fn the_cadence_is_fixed_while_the_upstream_is_slow() {
    let (up, mode) = upstream().await;
    mode.store(Mode::Slowish as u8, Ordering::Relaxed);
    let mut config = common::test_config(PASSWORD);
    config.sources = vec![http_source("up", up, Duration::from_millis(200))];
    let server = common::start_with(config).await;
    let mut ws = socket(server.addr, "").await;
    let _hello = next_text(&mut ws).await;
    let mut stamps = Vec::new();
    while stamps.len() < 16 {
        if let Ok(Frame::Sample(s)) = Frame::from_json(&next_text(&mut ws).await) {
            stamps.push(s.ts_ms);
        }
    }
    // A sleep-after-fetch loop would space samples 350 ms apart; a fixed-rate ticker keeps 200.
    let span = stamps[stamps.len() - 1] - stamps[0];
    let mean = span as f64 / (stamps.len() - 1) as f64;
    assert!((180.0..=240.0).contains(&mean), "mean spacing {mean} ms over {stamps:?}");
    server.stop().await;
}
