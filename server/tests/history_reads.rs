//! `GET /api/history` under heavy queries, through the real server and a real store file holding
//! 24 hours of a 50 ms source (1.7 million points, written with the store's own codec): twenty
//! concurrent 24-hour reads each within their points and the server's memory growth bounded (the
//! figure is printed), a read beyond `--store-max-reads` refused with a 503 once it has waited for
//! a slot (a burst a little past the cap is served), a read whose client goes away stopped
//! (counted), and times past `i64::MAX` taken as the latest time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{PASSWORD, basic, get, start_with, temp_dir, test_config};
use livedash_server::Running;
use livedash_server::config::{Config, StoreSettings};
use livedash_server::store::maintain::{self, DAY_MS, QUARTER_MS};
use livedash_server::store::{Point, Tier, codec, db, rollup};
use tokio::io::AsyncWriteExt;

/// One sample every 50 ms.
const STEP_MS: u64 = 50;

/// `span` ms (whole quarters) of series `synthetic`/`fast` ending at `end` (a quarter's start), as
/// the store keeps them: raw and 1-minute chunks per quarter, the 1-hour chunk of a day that ended.
fn fill(path: &Path, end: u64, span: u64) -> u64 {
    let conn = db::open_writer(path).expect("open the store");
    let tx = conn.unchecked_transaction().expect("tx");
    let id = db::series_id(&tx, "synthetic", "fast").expect("series");
    let (mut day, mut written) = (Vec::new(), 0u64);
    let mut quarter = end - span;
    while quarter < end {
        let points: Vec<Point> = (0..QUARTER_MS / STEP_MS)
            .map(|i| {
                let t = quarter + i * STEP_MS;
                let wave = ((t / 1000) % 600) as f64 / 10.0;
                Point { t, v: if t % 3_600_000 == 1_234_550 { 999.0 } else { wave } }
            })
            .collect();
        written += points.len() as u64;
        let blob = codec::encode_points(&points);
        maintain::put(&tx, id, Tier::Raw, quarter, quarter + QUARTER_MS, points.len(), &blob).expect("raw");
        let minutes = rollup::roll(&points, Tier::Minute.width_ms());
        let blob = codec::encode_buckets(&minutes);
        maintain::put(&tx, id, Tier::Minute, quarter, quarter + QUARTER_MS, minutes.len(), &blob).expect("1m");
        day.extend(minutes);
        quarter += QUARTER_MS;
        if quarter.is_multiple_of(DAY_MS) {
            let hours = rollup::merge(&day, Tier::Hour.width_ms());
            let blob = codec::encode_buckets(&hours);
            maintain::put(&tx, id, Tier::Hour, quarter - DAY_MS, quarter, hours.len(), &blob).expect("1h");
            day.clear();
        }
    }
    tx.commit().expect("commit");
    written
}

/// A server's configuration on a store filled with [`fill`] for `span`, raw kept for two days (so
/// that 24 hours is within the raw tier: the costliest case), at most `max_reads` reads at once.
fn filled(name: &str, span: u64, max_reads: usize) -> (Config, PathBuf, u64) {
    let path = temp_dir(name).join("history.db");
    let _ = std::fs::remove_file(&path);
    let end = livedash_server::clock::now_ms() / QUARTER_MS * QUARTER_MS;
    assert_eq!(fill(&path, end, span), span / STEP_MS, "every 50 ms");
    let mut config: Config = test_config(PASSWORD);
    config.store = Some(StoreSettings {
        path: path.clone(),
        max_bytes: 1 << 30,
        raw_for: Duration::from_secs(2 * 86_400),
        minute_for: Duration::from_secs(30 * 86_400),
        hour_for: Duration::from_secs(365 * 86_400),
        max_reads,
    });
    (config, path, end)
}

fn day_query(end: u64) -> String {
    format!("/api/history?source=synthetic&series=fast&from={}&to={end}&points=1000", end - DAY_MS)
}

/// A field of `/proc/self/status` in KiB (`VmRSS:`, `VmHWM:`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with(field)).expect("the field");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("KiB")
}

/// Holds the store file locked (another process's exclusive lock) until dropped: reads wait. Taken
/// before the server opens the file (its writer then waits too, and says so).
struct Locked(std::sync::mpsc::Sender<()>, Option<std::thread::JoinHandle<()>>);

fn lock(path: &Path) -> Locked {
    let (path, (release, wait), (locked, is_locked)) =
        (path.to_owned(), std::sync::mpsc::channel(), std::sync::mpsc::channel());
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).expect("open");
        conn.busy_timeout(Duration::from_secs(10)).expect("timeout");
        conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; SELECT count(*) FROM series;")
            .expect("lock");
        locked.send(()).expect("locked");
        let _ = wait.recv();
        drop(conn);
    });
    is_locked.recv().expect("the file is locked");
    Locked(release, Some(holder))
}

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.0.send(());
        if let Some(h) = self.1.take() {
            let _ = h.join();
        }
    }
}

async fn until(what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(4);
    while !ok() {
        assert!(Instant::now() < deadline, "{what}: not within 4 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `n` requests for `query` at once.
fn fire(server: &Running, query: &str, auth: &str, n: usize) -> Vec<tokio::task::JoinHandle<common::Response>> {
    (0..n)
        .map(|_| {
            let (addr, query, auth) = (server.addr, query.to_owned(), auth.to_owned());
            tokio::spawn(async move { get(addr, &query, &[("Authorization", &auth)]).await })
        })
        .collect()
}

fn assert_within_points(body: &str) -> String {
    let h: serde_json::Value = serde_json::from_str(body).expect("json");
    let (points, bands) = (h["points"].as_array().expect("points"), h["bands"].as_array().expect("bands"));
    assert!(!points.is_empty() && points.len() <= 1000 && bands.len() <= 1000, "{} points", points.len());
    let spikes = points.iter().chain(bands).filter(|p| p.as_array().expect("row").iter().any(|v| v == 999.0));
    assert!(spikes.count() > 0, "the one-sample spikes survive");
    h["tier"].as_str().expect("tier").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_day_reads_stay_within_their_points_and_a_twenty_first_is_refused() {
    let (config, path, end) = filled("history-reads-20", DAY_MS, 20);
    let server = start_with(config.clone()).await;
    let auth = basic("admin", PASSWORD);
    let query = day_query(end);

    // Twenty at once: memory grows by what they answer, not by what the day holds.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let (before, started) = (status_kib("VmRSS:"), Instant::now());
    let mut tiers = Vec::new();
    for read in fire(&server, &query, &auth, 20) {
        let r = read.await.expect("answered");
        assert_eq!(r.status, 200, "{}", r.body);
        tiers.push(assert_within_points(&r.body));
    }
    let (took, growth) = (started.elapsed(), status_kib("VmHWM:").saturating_sub(before));
    println!("20 concurrent 24 h reads of a 50 ms source: {took:?}, peak RSS growth {growth} KiB, tiers {tiers:?}");
    assert!(growth < 100 * 1024, "peak RSS grew by {growth} KiB (1.7 M points decoded 20 times is > 500 MiB)");

    server.stop().await;

    // Twenty held up by a lock on the file: the twenty-first is refused.
    let locked = lock(&path);
    let server = start_with(config).await;
    let reads = fire(&server, &query, &auth, 20);
    let shared = server.store.clone().expect("a store").shared.clone();
    until("twenty reads running", || shared.reads_running.load(Ordering::Relaxed) == 20).await;
    // (It waits 2 s for one of them to end, then is refused; they wait 5 s for the lock.)
    let r = get(server.addr, &query, &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(shared.reads_refused.load(Ordering::Relaxed), 1);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.body.contains("too many history reads"), "{}", r.body);
    drop(locked);
    for read in reads {
        let r = read.await.expect("answered");
        assert_eq!(r.status, 200, "{}", r.body);
        assert_within_points(&r.body);
    }
    assert_eq!(shared.reads_running.load(Ordering::Relaxed), 0);

    // A burst a little past the cap (a page asking for all its charts at once) waits for a slot.
    for read in fire(&server, &query, &auth, 30) {
        let r = read.await.expect("answered");
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(shared.reads_refused.load(Ordering::Relaxed), 1, "only the one refused above");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_stops_its_read() {
    let (config, path, end) = filled("history-reads-gone", QUARTER_MS, 4);
    let locked = lock(&path);
    let server = start_with(config).await;
    let shared = server.store.clone().expect("a store").shared.clone();
    let auth = basic("admin", PASSWORD);
    let mut client = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    client.write_all(&common::request(server.addr, &day_query(end), &[("Authorization", &auth)])).await.expect("ask");
    until("the read running", || shared.reads_running.load(Ordering::Relaxed) == 1).await;
    drop(client);
    // Stopped while the file is still locked: the read saw its client go, not the lock end.
    until("the read stopped", || shared.reads_running.load(Ordering::Relaxed) == 0).await;
    assert_eq!(shared.reads_cancelled.load(Ordering::Relaxed), 1);
    drop(locked);
    let r = get(server.addr, "/metrics", &[("Authorization", &auth)]).await;
    assert!(r.body.contains("livedash_store_reads_cancelled_total 1"), "{}", r.body);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_past_i64_max_is_the_latest_time_not_a_negative_one() {
    let (config, _, end) = filled("history-reads-max", 4 * QUARTER_MS, 4);
    let server = start_with(config).await;
    let auth = basic("admin", PASSWORD);
    let query = format!("/api/history?source=synthetic&series=fast&from={}&to={}", end - 3_600_000, u64::MAX);
    let r = get(server.addr, &query, &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let h: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(h["to"].as_u64(), Some(i64::MAX as u64));
    assert!(!h["points"].as_array().expect("points").is_empty(), "the last hour's points: {}", r.body);
    server.stop().await;
}
