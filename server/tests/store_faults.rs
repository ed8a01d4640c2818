//! The history store of the real binary under the faults real machines meet: the wall clock
//! stepped two days ahead and back (libfaketime from Debian's `faketime` package, the monotonic
//! clock left alone), and a kill in the middle of a schema migration.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // a skip says why, on stderr

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::{Child, Command};

use common::{PASSWORD, basic, get};

fn livedash(addr: SocketAddr, dir: &Path) -> Command {
    let mut command = common::livedash(addr, dir);
    command.args(["--interval", "100ms"]);
    command
}

async fn wait_listening(addr: SocketAddr) {
    assert!(common::wait_listening(addr, Duration::from_secs(10)).await, "livedash did not listen on {addr}");
}

async fn stop(mut child: Child) {
    let pid = child.id().expect("running").to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("stops").unwrap();
}

fn now_ms() -> u64 {
    livedash_server::clock::now_ms()
}

/// The raw points of `cpu_pct` in `[from, to]`, through the API.
async fn points(addr: SocketAddr, from: u64, to: u64) -> Vec<(u64, f64)> {
    let auth = basic("admin", PASSWORD);
    let path = format!("/api/history?source=local&series=cpu_pct&from={from}&to={to}&points=10000");
    let r = get(addr, &path, &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    serde_json::from_value(v["points"].clone()).unwrap()
}

async fn health(addr: SocketAddr) -> serde_json::Value {
    let auth = basic("admin", PASSWORD);
    serde_json::from_str(&get(addr, "/api/health", &[("Authorization", &auth)]).await.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_clock_two_days_ahead_and_back_loses_no_history_and_is_reported() {
    if !common::faketime::present() {
        return;
    }
    let dir: PathBuf = common::temp_dir("store-clock-jump");
    let offset = dir.join("faketime");
    std::fs::write(&offset, "+0\n").unwrap();
    let addr = common::free_addr();
    let child = common::faketime::offset_by(&mut livedash(addr, &dir), &offset).spawn().unwrap();
    wait_listening(addr).await;
    let started = now_ms();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before_jump = now_ms();
    let before = points(addr, started - 1000, before_jump).await;
    assert!(before.len() >= 20, "five seconds of samples: {}", before.len());

    // Two days ahead, for longer than a retention round (a minute of the monotonic clock).
    std::fs::write(&offset, "+2d\n").unwrap();
    let mut reported = serde_json::Value::Null;
    for _ in 0..50 {
        reported = health(addr).await;
        if reported["history_store"]["clock_jumped"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(reported["history_store"]["clock_jumped"], true, "the jump is on /api/health: {reported}");
    let skew = reported["history_store"]["clock_skew_ms"].as_i64().unwrap();
    assert!((2 * 86_400_000 - 60_000..2 * 86_400_000 + 60_000).contains(&skew), "{skew}");
    tokio::time::sleep(Duration::from_secs(65)).await;

    // And back.
    std::fs::write(&offset, "+0\n").unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = points(addr, started - 1000, before_jump).await;
    assert!(after.len() >= before.len(), "no point from before the jump is lost: {} of {}", after.len(), before.len());
    assert_eq!(&after[..before.len()], &before[..], "the same points");
    // The 7-day chart (1-minute roll-ups) holds the minutes before the jump.
    let auth = basic("admin", PASSWORD);
    let week = get(addr, "/api/history?source=local&series=cpu_pct&from=now-7d", &[("Authorization", &auth)]).await;
    let week: serde_json::Value = serde_json::from_str(&week.body).unwrap();
    let buckets = week["points"].as_array().unwrap();
    assert!(
        buckets.iter().any(|b| b[0].as_u64().unwrap() <= before_jump && b[0].as_u64().unwrap() + 60_000 > started),
        "the week's chart has the minutes before the jump: {week}"
    );
    let metrics = get(addr, "/metrics", &[("Authorization", &auth)]).await.body;
    assert!(metrics.contains("livedash_store_clock_jumps_total 1"), "{metrics}");
    let healthy = health(addr).await;
    assert_eq!(healthy["history_store"]["clock_jumped"], false, "back in step: {healthy}");
    stop(child).await;
}

/// A minute chunk of an hour ago: its start and blob.
fn recent_chunk() -> (i64, Vec<u8>) {
    use livedash_server::store::{Bucket, codec};
    let start = (now_ms() - 3_600_000) / 900_000 * 900_000;
    let bucket = Bucket { t: start, min: 1.0, max: 2.0, mean: 1.5, last: 2.0, count: 2 };
    (i64::try_from(start).unwrap(), codec::encode_buckets(&[bucket]))
}

/// A version 1 file, as livedash 0.1 wrote it, with one chunk.
fn version_1_file(path: &Path, (start, blob): &(i64, Vec<u8>)) {
    let old = rusqlite::Connection::open(path).unwrap();
    old.execute_batch(
        "CREATE TABLE series (id INTEGER PRIMARY KEY, source TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (source, name));
         CREATE TABLE pending (series INTEGER NOT NULL, t INTEGER NOT NULL, v REAL NOT NULL,
           PRIMARY KEY (series, t)) WITHOUT ROWID;
         CREATE TABLE chunk (series INTEGER NOT NULL, tier INTEGER NOT NULL, start INTEGER NOT NULL,
           end INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (series, tier, start))
           WITHOUT ROWID;
         CREATE INDEX chunk_age ON chunk (start);
         CREATE TABLE run (start INTEGER PRIMARY KEY, last INTEGER NOT NULL);
         INSERT INTO series VALUES (1, 'old', 'x');
         PRAGMA user_version = 1;",
    )
    .unwrap();
    old.execute("INSERT INTO chunk VALUES (1, 1, ?1, ?1 + 900000, 1, ?2)", rusqlite::params![start, blob]).unwrap();
}

fn version_and_chunk(path: &Path, start: i64) -> (i64, Option<Vec<u8>>) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let table = if version == 1 { "chunk_v1" } else { "chunk" };
    let exists: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = ?1", [table], |r| r.get(0)).unwrap();
    let table = if exists == 1 { table } else { "chunk" };
    let data = conn
        .query_row(&format!("SELECT data FROM {table} WHERE series = 1 AND start = ?1"), [start], |r| r.get(0))
        .ok();
    (version, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_killed_mid_copy_restarts_into_a_working_store() {
    let dir = common::temp_dir("store-migration-kill");
    let path = dir.join("history.db");
    let chunk = recent_chunk();
    version_1_file(&path, &chunk);
    let addr = common::free_addr();
    let mut child = livedash(addr, &dir).env("LIVEDASH_FAULT_MIGRATION", "copy").spawn().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait()).await.expect("aborts").unwrap();
    assert!(!status.success(), "the process died mid-migration");
    assert_eq!(version_and_chunk(&path, chunk.0), (1, Some(chunk.1.clone())), "the half-done migration left nothing");

    let addr = common::free_addr();
    let child = livedash(addr, &dir).spawn().unwrap();
    wait_listening(addr).await;
    let mut state = (0, None);
    for _ in 0..50 {
        state = version_and_chunk(&path, chunk.0);
        if state.0 == livedash_server::store::migrate::VERSION {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(state, (livedash_server::store::migrate::VERSION, Some(chunk.1.clone())), "migrated, the chunk kept");
    // And it saves history: points of this life reach the file.
    let mut saved = 0;
    for _ in 0..50 {
        let conn = rusqlite::Connection::open(&path).unwrap();
        saved = conn.query_row("SELECT count(*) FROM pending", [], |r| r.get::<_, i64>(0)).unwrap();
        if saved > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(saved > 0, "history is saved after the restart");
    assert_eq!(health(addr).await["history"], "saving");
    stop(child).await;
}
