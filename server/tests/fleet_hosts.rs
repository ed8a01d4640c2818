//! The targets file's hosts running as sources of the real binary: a host added to the file
//! appears within seconds, one removed goes (its sockets are told `gone`), a relabel keeps the
//! host's fetches going, a corrupt file keeps the last set running and `/api/health` names the
//! line, a restored file is followed again. And fetching many hosts well: a target that hangs,
//! one that is slow and one that refuses leave the others' fetches on their cadence, measured from
//! the exporters' side.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use common::upstream::{Socket, socket, wait_status};
use common::{PASSWORD, basic, free_addr, livedash, temp_dir, wait_listening};
use livedash::{Frame, SourceState};
use parking_lot::Mutex;
use serde_json::Value;

const BODY: &str = include_str!("fixtures/node_a.prom");

/// A node_exporter on loopback that notes when each fetch arrived (monotonic clock) and answers
/// after `delay` (`None`: never).
struct Exporter {
    addr: SocketAddr,
    fetches: Arc<Mutex<Vec<Instant>>>,
}

async fn exporter(delay: Option<Duration>) -> Exporter {
    let fetches = Arc::new(Mutex::new(Vec::new()));
    let seen = fetches.clone();
    let app = Router::new().route(
        "/metrics",
        get(move || {
            seen.lock().push(Instant::now());
            async move {
                match delay {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending::<()>().await,
                }
                BODY
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Exporter { addr, fetches }
}

/// Replaces the targets file at once (a rename, as configuration tools do).
fn write(file: &Path, text: &str) {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// A target group of one host: `name` at `addr`, with `env`.
fn group(name: &str, addr: SocketAddr, env: &str) -> String {
    format!(r#"{{"targets": ["{addr}"], "labels": {{"name": "{name}", "env": "{env}"}}}}"#)
}

async fn health(addr: SocketAddr) -> Value {
    let r = common::get(addr, "/api/health", &[("Authorization", &basic("admin", PASSWORD))]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// The fleet hosts `/api/health` lists (every source but `local`), with their states: `ok` only
/// once a sample arrived (a host is `ok` from the moment it is added until told otherwise).
fn hosts(health: &Value) -> Vec<(String, String)> {
    let sources = health["sources"].as_array().unwrap();
    let state = |s: &Value| match s["state"].as_str().unwrap() {
        "ok" if s["last_good_age_ms"].is_null() => "added".to_owned(),
        other => other.to_owned(),
    };
    sources
        .iter()
        .map(|s| (s["source"].as_str().unwrap().to_owned(), state(s)))
        .filter(|(name, _)| name != "local")
        .collect()
}

/// Waits (10 s at most) until `/api/health` satisfies `ok`; returns it.
async fn until(addr: SocketAddr, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = health(addr).await;
        if ok(&h) {
            return h;
        }
        assert!(Instant::now() < deadline, "{what}: {h:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn all_ok(names: &[&str]) -> impl Fn(&Value) -> bool {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    move |h| {
        let listed = hosts(h);
        listed.len() == names.len() && names.iter().all(|n| listed.iter().any(|(s, st)| s == n && st == "ok"))
    }
}

async fn serve(file: &Path, name: &str) -> (SocketAddr, tokio::process::Child) {
    serve_in(file, &temp_dir(name)).await
}

/// The binary on a free port with its data (and history store) in `dir`.
async fn serve_in(file: &Path, dir: &Path) -> (SocketAddr, tokio::process::Child) {
    let addr = free_addr();
    let mut command = livedash(addr, dir);
    command.arg("--targets-file").arg(file).args(["--interval", "1s"]);
    let child = command.spawn().unwrap();
    assert!(wait_listening(addr, Duration::from_secs(20)).await, "the server came up");
    (addr, child)
}

/// The source names in a new socket's `hello`.
async fn hello_sources(addr: SocketAddr) -> Vec<String> {
    let mut ws: Socket = socket(addr, "").await;
    let Ok(Frame::Hello(hello)) = Frame::from_json(&common::upstream::next_text(&mut ws).await) else {
        panic!("hello")
    };
    hello.sources.iter().map(|s| s.source.to_string()).collect()
}

/// Why `source` is failing: from a new socket's `hello`, or the status frame that says so next.
async fn failing(addr: SocketAddr, source: &str) -> String {
    let mut ws: Socket = socket(addr, "").await;
    let Ok(Frame::Hello(hello)) = Frame::from_json(&common::upstream::next_text(&mut ws).await) else {
        panic!("hello")
    };
    if let Some(s) = hello.sources.iter().find(|s| &*s.source == source && s.state == SourceState::Failing) {
        return s.error.clone().unwrap_or_default();
    }
    wait_status(&mut ws, source, SourceState::Failing).await.unwrap_or_default()
}

#[tokio::test]
async fn hosts_follow_the_targets_file_while_the_server_runs() {
    let (a, b, c) = (
        exporter(Some(Duration::ZERO)).await,
        exporter(Some(Duration::ZERO)).await,
        exporter(Some(Duration::ZERO)).await,
    );
    let dir = temp_dir("fleet-hosts-file");
    let file = dir.join("targets.json");
    write(&file, &format!("[{}, {}]", group("web-a", a.addr, "prod"), group("web-b", b.addr, "prod")));
    let (addr, mut child) = serve(&file, "fleet-hosts-file-data").await;

    let h = until(addr, "the file's two hosts up", all_ok(&["web-a", "web-b"])).await;
    assert_eq!((h["targets"]["hosts"].as_u64(), h["targets"]["error"].is_null()), (Some(2), true), "{h:#}");

    // Added.
    write(
        &file,
        &format!(
            "[{}, {}, {}]",
            group("web-a", a.addr, "prod"),
            group("web-b", b.addr, "prod"),
            group("web-c", c.addr, "prod")
        ),
    );
    until(addr, "web-c added", all_ok(&["web-a", "web-b", "web-c"])).await;

    // Removed: a socket open meanwhile is told; a new one never hears of it.
    let mut ws = socket(addr, "").await;
    write(&file, &format!("[{}, {}]", group("web-a", a.addr, "prod"), group("web-c", c.addr, "prod")));
    wait_status(&mut ws, "web-b", SourceState::Gone).await;
    until(addr, "web-b removed", all_ok(&["web-a", "web-c"])).await;
    assert!(!hello_sources(addr).await.contains(&"web-b".to_owned()));
    let b_fetches = b.fetches.lock().len();

    // Relabelled: the host stays, fetched on without a restart.
    let before = a.fetches.lock().len();
    write(&file, &format!("[{}, {}]", group("web-a", a.addr, "dev"), group("web-c", c.addr, "prod")));
    tokio::time::sleep(Duration::from_secs(3)).await;
    until(addr, "web-a relabelled, still up", all_ok(&["web-a", "web-c"])).await;
    assert!(a.fetches.lock().len() >= before + 2, "web-a fetched on");

    // Corrupt: the last set runs on, the error names the line.
    write(&file, &format!("[\n{},\n{{\"targets\": ]\n]\n", group("web-a", a.addr, "dev")));
    let h = until(addr, "the error on /api/health", |h| h["targets"]["line"].as_u64() == Some(3)).await;
    let error = h["targets"]["error"].as_str().unwrap();
    assert!(error.contains(&format!("targets file {}, line 3", file.display())), "{error}");
    assert_eq!(h["status"], "degraded", "{h:#}");
    assert!(all_ok(&["web-a", "web-c"])(&h), "the last good set runs on: {h:#}");
    let c_before = c.fetches.lock().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(c.fetches.lock().len() > c_before, "web-c is still fetched");

    // Restored: followed again.
    write(&file, &format!("[{}, {}]", group("web-a", a.addr, "dev"), group("web-b", b.addr, "prod")));
    let h = until(addr, "the file good again", all_ok(&["web-a", "web-b"])).await;
    assert!(h["targets"]["error"].is_null() && h["targets"]["line"].is_null(), "{h:#}");
    assert!(b.fetches.lock().len() > b_fetches, "web-b is fetched again");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn a_hanging_a_slow_and_a_refused_target_leave_the_others_on_their_cadence() {
    let interval = Duration::from_secs(1);
    let good = [
        exporter(Some(Duration::ZERO)).await,
        exporter(Some(Duration::ZERO)).await,
        exporter(Some(Duration::ZERO)).await,
    ];
    let hang = exporter(None).await;
    let slow = exporter(Some(interval * 4 / 5)).await;
    let refused = free_addr();
    let dir = temp_dir("fleet-hosts-cadence");
    let file = dir.join("targets.json");
    let mut groups: Vec<String> =
        good.iter().enumerate().map(|(i, e)| group(&format!("good-{i}"), e.addr, "prod")).collect();
    groups.extend([group("hang", hang.addr, "bad"), group("slow", slow.addr, "bad"), group("refused", refused, "bad")]);
    write(&file, &format!("[{}]", groups.join(", ")));
    let (addr, mut child) = serve(&file, "fleet-hosts-cadence-data").await;

    let reason = failing(addr, "refused").await;
    assert!(reason.contains("cannot connect"), "{reason}");
    let reason = failing(addr, "hang").await;
    assert!(reason.contains("timed out after 800ms"), "{reason}");

    // A window of ten intervals once every good target has been fetched.
    let from = Instant::now();
    tokio::time::sleep(interval * 10).await;
    for (i, e) in good.iter().enumerate() {
        let fetches: Vec<Instant> = e.fetches.lock().iter().copied().filter(|t| *t >= from).collect();
        let gaps: Vec<u128> = fetches.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect();
        assert!(fetches.len() >= 9, "good-{i} fetched {} times in 10 intervals: gaps {gaps:?}", fetches.len());
        assert!(gaps.iter().all(|g| (700..=1300).contains(g)), "good-{i} off its cadence: gaps {gaps:?} ms");
    }
    assert!(hang.fetches.lock().len() >= 5, "the hanging target is tried each interval");
    let h = health(addr).await;
    for i in 0..3 {
        assert!(hosts(&h).contains(&(format!("good-{i}"), "ok".to_owned())), "{h:#}");
    }
    child.kill().await.unwrap();
}

#[tokio::test]
async fn a_hosts_history_comes_back_after_a_restart() {
    let a = exporter(Some(Duration::ZERO)).await;
    let dir = temp_dir("fleet-hosts-restart");
    let file = dir.join("targets.json");
    write(&file, &format!("[{}]", group("web-a", a.addr, "prod")));
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (addr, child) = serve_in(&file, &data).await;
    until(addr, "web-a up", all_ok(&["web-a"])).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before: Vec<u64> = history(addr, "web-a").await;
    assert!(before.len() >= 3, "{before:?}");
    // SIGTERM: what the store was handed is written.
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut child = child;
    tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("stops").unwrap();

    let (addr, mut child) = serve_in(&file, &data).await;
    let after = history(addr, "web-a").await;
    assert!(
        before.iter().all(|t| after.contains(t)),
        "the host's samples from before the restart: {before:?} in {after:?}"
    );
    child.kill().await.unwrap();
}

/// The times of `source`'s samples in a new socket's `hello` (a restored sample keeps its time,
/// not its `seq`).
async fn history(addr: SocketAddr, source: &str) -> Vec<u64> {
    let mut ws: Socket = socket(addr, "").await;
    let Ok(Frame::Hello(hello)) = Frame::from_json(&common::upstream::next_text(&mut ws).await) else {
        panic!("hello")
    };
    hello.history.iter().filter(|s| &*s.source == source).map(|s| s.ts_ms).collect()
}
