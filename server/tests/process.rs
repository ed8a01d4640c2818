//! The real binary as a service manager runs it: signals from its first moment, and a log that a
//! flood cannot grow and that carries no terminal colour codes into a file.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use common::{PASSWORD, free_addr, get, raw_from, request, wait_listening};

fn spawn(addr: SocketAddr, log_level: &str) -> Child {
    let data = common::temp_dir(&format!("process-{}", addr.port()));
    Command::new(env!("CARGO_BIN_EXE_livedash"))
        .args(["--listen", &addr.to_string()])
        .arg("--data-dir")
        .arg(&data)
        .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", log_level)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn livedash")
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args([&format!("-{name}"), &pid]).status().unwrap().success());
}

/// How long the binary may take to listen.
const COME_UP: Duration = Duration::from_secs(5);

/// Stops `child` with SIGTERM and returns whether it exited cleanly, and its log.
async fn stop(mut child: Child) -> (bool, String) {
    signal(&child, "TERM");
    let mut log = String::new();
    let mut stderr = child.stderr.take().expect("stderr");
    tokio::time::timeout(Duration::from_secs(8), stderr.read_to_string(&mut log)).await.expect("exits").unwrap();
    (child.wait().await.unwrap().success(), log)
}

#[tokio::test]
async fn a_sighup_right_after_the_start_is_not_fatal() {
    let addr = free_addr();
    let child = spawn(addr, "info");
    // Before: the process died of it (exit 129) while it was still starting.
    tokio::time::sleep(Duration::from_millis(50)).await;
    signal(&child, "HUP");
    assert!(wait_listening(addr, COME_UP).await, "the server came up after an early SIGHUP");
    assert_eq!(get(addr, "/healthz", &[]).await.status, 200);
    let (clean, log) = stop(child).await;
    assert!(clean, "{log}");
    assert!(log.contains("SIGHUP: no users file to reload"), "the early SIGHUP was handled: {log}");
}

#[tokio::test]
async fn a_sigterm_during_the_start_is_honoured() {
    let addr = free_addr();
    let mut child = spawn(addr, "info");
    tokio::time::sleep(Duration::from_millis(30)).await;
    signal(&child, "TERM");
    let exit = tokio::time::timeout(Duration::from_secs(8), child.wait()).await.expect("exits").unwrap();
    assert!(exit.success(), "a clean exit, not death by signal: {exit:?}");
}

#[tokio::test]
async fn a_flood_of_refusals_writes_a_line_not_a_line_each_and_no_colour_codes() {
    let addr = free_addr();
    let child = spawn(addr, "warn");
    assert!(wait_listening(addr, COME_UP).await);
    let from = "127.0.0.6".parse().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..300 {
        let r = raw_from(from, addr, &request(addr, "/ws?ticket=garbage", &common::UPGRADE)).await;
        statuses.push(r.status);
    }
    let (clean, log) = stop(child).await;
    assert!(clean);
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    // Before: 300 lines, one per refusal. Now the first, and at the end the sum of the others.
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("127.0.0.6")).collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[0].contains("ticket"), "{log}");
    assert!(lines[1].contains("count=299"), "{log}");
    // Before: ESC[ sequences around every level and field name.
    assert!(!log.contains('\u{1b}'), "colour codes in a log that is not a terminal: {log:?}");
}

#[tokio::test]
async fn a_bad_series_setting_in_the_config_file_stops_the_start_naming_its_key() {
    let dir = common::temp_dir("process-bad-series");
    let config = dir.join("livedash.toml");
    std::fs::write(
        &config,
        "[[source]]\ntype = \"local\"\n\n[[source.series]]\nmatch = \"net.*\"\nunit = \"furlongs\"\n",
    )
    .unwrap();
    let addr = free_addr();
    let run = Command::new(env!("CARGO_BIN_EXE_livedash"))
        .args(["--listen", &addr.to_string()])
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&dir)
        .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
        .env_remove("LIVEDASH_SOURCE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(8), run).await.expect("exits").unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started with a bad unit: {log}");
    assert!(log.contains("`source[0].series[0].unit`") && log.contains("furlongs"), "{log}");
    assert!(log.contains("bytes/s"), "the known units are listed: {log}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "nothing listens");
}

/// Points the store at `path` holds: pending ones and those in raw chunks.
fn stored_points(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    let pending: i64 = conn.query_row("SELECT count(*) FROM pending", [], |r| r.get(0)).unwrap();
    let chunked: i64 =
        conn.query_row("SELECT coalesce(sum(count), 0) FROM chunk WHERE tier = 0", [], |r| r.get(0)).unwrap();
    pending + chunked
}

#[tokio::test]
async fn a_kill_9_while_writing_history_leaves_a_store_that_opens_cleanly_and_keeps_what_was_written() {
    let data = common::temp_dir("process-kill9");
    let path = data.join("history.db");
    let run = |addr: SocketAddr| {
        Command::new(env!("CARGO_BIN_EXE_livedash"))
            .args(["--listen", &addr.to_string(), "--interval", "50ms"])
            .arg("--data-dir")
            .arg(&data)
            .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn livedash")
    };
    let addr = free_addr();
    let mut child = run(addr);
    assert!(wait_listening(addr, COME_UP).await);
    // Twenty samples a second, each a batch of a dozen points: the kill lands mid-write.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(&child, "KILL");
    child.wait().await.unwrap();

    let conn = rusqlite::Connection::open(&path).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let kept = stored_points(&path);
    assert!(kept > 100, "what was committed before the kill is there: {kept}");

    // It starts again on the same file (after long enough down to be a gap) and goes on writing.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let restarted = livedash_server::clock::now_ms();
    let addr = free_addr();
    let child = run(addr);
    assert!(wait_listening(addr, COME_UP).await);
    let mut saving = false;
    for _ in 0..40 {
        saving = get(addr, "/healthz", &[]).await.body.contains(r#""history":"saving""#);
        if saving {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saving, "the store opened and is saving");
    // The first hello of the new life holds samples from before the kill, and the time down is a gap.
    let auth = common::basic("admin", PASSWORD);
    let snapshot = get(addr, "/api/snapshot", &[("Authorization", &auth)]).await;
    let hello: livedash::Hello = serde_json::from_str(&snapshot.body).unwrap();
    assert!(hello.history.iter().any(|s| s.ts_ms < restarted), "history from before the restart");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let h = get(addr, "/api/history?source=local&series=cpu_pct&from=now-5m", &[("Authorization", &auth)]).await;
    let h: serde_json::Value = serde_json::from_str(&h.body).unwrap();
    let gaps = h["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "the time down: {gaps:?}");
    let (clean, log) = stop(child).await;
    assert!(clean, "{log}");
    assert!(stored_points(&path) > kept, "it went on writing after the restart");
}
