//! The history store through the real server: history kept across a restart of the server (the
//! minutes before it in the first `hello`, the time it was down reported as a gap), and the
//! history API's answers, CSV export and refusals.

mod common;

use std::time::Duration;

use common::{PASSWORD, basic, get, start_with, test_config};
use livedash_server::config::Config;

fn with_store(name: &str) -> Config {
    let mut config = test_config(PASSWORD);
    config.store = Some(common::store_settings(name));
    config
}

fn now_ms() -> u64 {
    livedash_server::clock::now_ms()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_survives_a_restart_and_the_time_down_is_a_gap() {
    let config = with_store("store-restart");
    let auth = basic("admin", PASSWORD);
    let first = start_with(config.clone()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    first.stop().await;
    let stopped = now_ms();
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let restarted = now_ms();
    let second = start_with(config).await;
    let snapshot = get(second.addr, "/api/snapshot", &[("Authorization", &auth)]).await;
    let hello: livedash::Hello = serde_json::from_str(&snapshot.body).expect("a hello");
    let before: Vec<u64> = hello.history.iter().map(|s| s.ts_ms).filter(|t| *t < restarted).collect();
    assert!(before.len() >= 4, "the samples before the restart are in the first hello: {before:?}");
    assert!(hello.history.iter().any(|s| s.data.get().contains("cpu_pct")), "as series values");

    tokio::time::sleep(Duration::from_millis(800)).await;
    let store = second.store.clone().expect("a store");
    tokio::task::spawn_blocking(move || store.flush()).await.expect("flushed");
    let r = get(second.addr, "/api/history?source=local&series=cpu_pct&from=now-5m", &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let h: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(h["tier"], "raw");
    let times: Vec<u64> = h["points"].as_array().expect("points").iter().filter_map(|p| p[0].as_u64()).collect();
    assert!(times.iter().any(|t| *t < stopped) && times.iter().any(|t| *t > restarted), "both lives: {times:?}");
    assert!(times.windows(2).all(|w| w[0] < w[1]), "in time order");
    let gaps = h["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let (down, up) = (gaps[0][0].as_u64().unwrap_or(0), gaps[0][1].as_u64().unwrap_or(0));
    assert!(
        down <= stopped && up >= stopped + 2000 && up <= restarted + 1000,
        "the gap is the time down: {down}..{up}"
    );

    // CSV: a header and one parsable row per point.
    let r = get(
        second.addr,
        "/api/history?source=local&series=cpu_pct&from=now-5m&format=csv",
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").is_some_and(|v| v.starts_with("text/csv")));
    let mut lines = r.body.lines();
    assert_eq!(lines.next(), Some("time_ms,time,value"));
    let rows: Vec<(u64, f64)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            (f[0].parse().expect("time_ms"), f[2].parse().expect("value"))
        })
        .collect();
    assert_eq!(rows.len(), times.len());

    // The series list, and refusals that name the parameter.
    let r = get(second.addr, "/api/series", &[("Authorization", &auth)]).await;
    assert!(r.body.contains(r#"{"source":"local","series":"cpu_pct"}"#), "{}", r.body);
    for (query, param) in [
        ("series=cpu_pct", "source"),
        ("source=local&series=cpu_pct&from=soon", "from"),
        ("source=local&series=cpu_pct&points=0", "points"),
    ] {
        let r = get(second.addr, &format!("/api/history?{query}"), &[("Authorization", &auth)]).await;
        assert_eq!(r.status, 400, "{query}");
        assert!(r.body.contains(&format!("`{param}`")), "{query}: {}", r.body);
    }
    let r = get(second.addr, "/api/history?source=local&series=nope", &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 404);
    let r = get(second.addr, "/api/history?source=local&series=cpu_pct", &[]).await;
    assert_eq!(r.status, 401, "behind authentication like everything else");
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_write_is_told_to_the_page_and_the_live_stream_goes_on() {
    let config = with_store("store-blocked");
    let path = config.store.as_ref().map(|s| s.path.clone()).expect("a store");
    let server = start_with(config).await;
    let mut socket = common::upstream::socket(server.addr, "").await;
    let hello = common::upstream::next_text(&mut socket).await;
    assert!(hello.contains(r#""store":{"saving":true}"#), "the hello says history is being saved");
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Another process holds the file: the writer cannot write for a while.
    let blocker = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch("BEGIN EXCLUSIVE").expect("lock");
        std::thread::sleep(Duration::from_secs(5));
        conn.execute_batch("COMMIT").expect("unlock");
    });
    let mut samples_while_blocked = 0;
    let mut told = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while told.is_none() && tokio::time::Instant::now() < deadline {
        let text = common::upstream::next_text(&mut socket).await;
        if text.starts_with(r#"{"type":"sample""#) {
            samples_while_blocked += 1;
        } else if text.starts_with(r#"{"type":"store","saving":false"#) {
            told = Some(text);
        }
    }
    let told = told.expect("the page is told that history is not being saved");
    assert!(told.contains("error"), "{told}");
    let health = get(server.addr, "/healthz", &[]).await;
    assert!(health.body.contains(r#""history":"failing""#) && health.body.contains("degraded"), "{}", health.body);
    // A page loaded now says so from its first paint (rendered on the server).
    let page = get(server.addr, "/", &[("Authorization", &basic("admin", PASSWORD))]).await;
    assert!(page.body.contains(r#"data-testid="store-problem""#) && page.body.contains("History is not being saved"));
    assert!(samples_while_blocked > 0, "samples kept coming");

    // Released: writing resumes by itself, and the page is told.
    blocker.join().expect("blocker");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut back = false;
    while !back && tokio::time::Instant::now() < deadline {
        back = common::upstream::next_text(&mut socket).await == r#"{"type":"store","saving":true}"#;
    }
    assert!(back, "saving again");
    let health = get(server.addr, "/healthz", &[]).await;
    assert!(health.body.contains(r#""history":"saving""#), "{}", health.body);
    let page = get(server.addr, "/", &[("Authorization", &basic("admin", PASSWORD))]).await;
    assert!(!page.body.contains("store-problem"), "and the line is gone");
    let store = server.store.clone().expect("store");
    assert!(store.shared.points_dropped.load(std::sync::atomic::Ordering::Relaxed) > 0, "what was lost is counted");
    let metrics = get(server.addr, "/metrics", &[("Authorization", &basic("admin", PASSWORD))]).await;
    let value = |name: &str| {
        metrics.body.lines().find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok()).unwrap_or(-1.0)
    };
    assert!(value("livedash_store_points_dropped_total") > 0.0, "{}", metrics.body);
    assert!(value("livedash_store_points_written_total") > 0.0);
    assert_eq!(value("livedash_store_saving"), 1.0);
    server.stop().await;
}
