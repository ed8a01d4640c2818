//! Maintenance against a real SQLite file, time injected: wall-clock jumps, a server down across
//! midnights, late points, a damaged chunk, old schemas and the byte budget.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

use super::{DAY_MS, QUARTER_MS, Schedule, close_quarters, put};
use crate::store::state::{Shared, StoreConfig};
use crate::store::{Bucket, Point, Tier, codec, db, rollup};

const HOUR: u64 = 3_600_000;

fn temp_store(name: &str) -> (StoreConfig, Connection) {
    crate::store::temp_store(&format!("maintain-{name}"))
}

/// Points of series `name` every `step` ms over `[from, to)`, pending.
fn write(conn: &Connection, name: &str, (from, to): (u64, u64), step: u64) -> Vec<Point> {
    let points = (from..to).step_by(usize::try_from(step).expect("step"));
    crate::store::put_pending(conn, name, points.map(|t| Point { t, v: (t / step % 97) as f64 }).collect())
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

fn hour_buckets(conn: &Connection, name: &str, day: u64) -> Vec<Bucket> {
    let id = db::find_series(conn, "local", name).expect("read").expect("exists");
    let blob: Vec<u8> = conn
        .query_row(
            "SELECT data FROM chunk WHERE series = ?1 AND tier = 2 AND start = ?2",
            params![id, day as i64],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("no hour chunk for day {}: {e}", day / DAY_MS));
    codec::decode_buckets(&blob).expect("decodes")
}

fn assert_same_summary(got: &[Bucket], want: &[Bucket]) {
    let key = |b: &Bucket| (b.t, b.min, b.max, b.count);
    assert_eq!(got.iter().map(key).collect::<Vec<_>>(), want.iter().map(key).collect::<Vec<_>>());
}

#[test]
fn a_wall_clock_two_days_ahead_then_back_deletes_nothing_and_is_reported() {
    let (config, conn) = temp_store("jump");
    let now = 1000 * DAY_MS + 7 * HOUR;
    write(&conn, "cpu", (now - 3 * HOUR, now), 1000);
    let (shared, mut schedule, t0) = (Shared::default(), Schedule::default(), Instant::now());
    assert!(schedule.run(&conn, &config, &shared, now, t0));
    let chunks = count(&conn, "SELECT count(*) FROM chunk WHERE tier = 0");
    assert!(chunks >= 12, "three hours sealed into raw chunks: {chunks}");
    // The wall clock steps two days ahead; retention runs (a minute later by the monotonic clock).
    let ahead = now + 2 * DAY_MS;
    for i in 1..=3 {
        assert!(schedule.run(&conn, &config, &shared, ahead + i * 61_000, t0 + Duration::from_secs(i * 61)));
    }
    assert_eq!(count(&conn, "SELECT count(*) FROM chunk WHERE tier = 0"), chunks, "no raw chunk lost");
    assert_eq!(shared.clock_jumps.load(Ordering::Relaxed), 1);
    assert!(shared.clock_skew_ms.load(Ordering::Relaxed) >= 2 * DAY_MS as i64 - 1000);
    // And back: still everything, and the skew is gone.
    assert!(schedule.run(&conn, &config, &shared, now + 250_000, t0 + Duration::from_secs(250)));
    assert_eq!(count(&conn, "SELECT count(*) FROM chunk WHERE tier = 0"), chunks);
    assert!(shared.clock_skew_ms.load(Ordering::Relaxed).abs() < 1000);
}

#[test]
fn late_points_after_their_raw_chunk_expired_merge_into_the_minutes() {
    let (config, conn) = temp_store("back");
    let q = 2000 * DAY_MS;
    let first = write(&conn, "x", (q, q + 10 * 60_000), 1000);
    close_quarters(&conn, q + QUARTER_MS).expect("sealed");
    // The raw chunk goes (retention, the budget); then the clock is set back and points of the
    // same quarter come again.
    conn.execute("DELETE FROM chunk WHERE tier = 0", []).expect("expired");
    let late = write(&conn, "x", (q + 10 * 60_000, q + QUARTER_MS), 1000);
    let shared = Shared::default();
    assert!(Schedule::default().run(&conn, &config, &shared, q + QUARTER_MS + 120_000, Instant::now()));
    let id = db::find_series(&conn, "local", "x").expect("read").expect("exists");
    let blob: Vec<u8> = conn
        .query_row("SELECT data FROM chunk WHERE series = ?1 AND tier = 1", [id], |r| r.get(0))
        .expect("minute chunk");
    let minutes = codec::decode_buckets(&blob).expect("decodes");
    let all: Vec<Point> = first.into_iter().chain(late).collect();
    assert_same_summary(&minutes, &rollup::roll(&all, 60_000));
    assert_same_summary(&hour_buckets(&conn, "x", q / DAY_MS * DAY_MS), &rollup::roll(&all, HOUR));
}

#[test]
fn a_server_down_across_three_midnights_has_every_day_rolled_up() {
    let (mut config, conn) = temp_store("midnights");
    config.minute_for = Duration::from_secs(6 * 3600);
    let day = 3000 * DAY_MS;
    let points = write(&conn, "load", (day, day + DAY_MS + 12 * HOUR), 10_000);
    let shared = Shared::default();
    assert!(Schedule::default().run(&conn, &config, &shared, day + DAY_MS + 12 * HOUR + 120_000, Instant::now()));
    // Down from noon of the second day to noon three midnights later; a new life of the server.
    let back = day + 4 * DAY_MS + 12 * HOUR;
    assert!(Schedule::default().run(&conn, &config, &shared, back, Instant::now()));
    assert_eq!(count(&conn, "SELECT count(*) FROM chunk WHERE tier = 1"), 0, "the minutes have expired");
    for d in [day, day + DAY_MS] {
        let want: Vec<Point> = points.iter().filter(|p| p.t / DAY_MS * DAY_MS == d).copied().collect();
        assert_same_summary(&hour_buckets(&conn, "load", d), &rollup::roll(&want, HOUR));
    }
}

#[test]
fn late_points_reach_their_hour_bucket() {
    let (_, conn) = temp_store("late");
    let day = 4000 * DAY_MS;
    let on_time = write(&conn, "x", (day, day + HOUR), 5000);
    close_quarters(&conn, day + 2 * HOUR).expect("sealed");
    let late = write(&conn, "x", (day + 2500, day + HOUR), 5000);
    close_quarters(&conn, day + 2 * HOUR).expect("sealed again");
    let all: Vec<Point> = on_time.into_iter().chain(late).collect();
    assert_same_summary(&hour_buckets(&conn, "x", day), &rollup::roll(&all, HOUR));
}

#[test]
fn a_damaged_chunk_is_set_aside_and_everything_else_goes_on() {
    let (config, conn) = temp_store("damaged");
    let q = 5000 * DAY_MS;
    write(&conn, "a", (q, q + 5 * 60_000), 1000);
    write(&conn, "b", (q, q + 5 * 60_000), 1000);
    close_quarters(&conn, q + QUARTER_MS).expect("sealed");
    // One byte of a's raw chunk flips on disk.
    let a = db::find_series(&conn, "local", "a").expect("read").expect("exists");
    let mut blob: Vec<u8> =
        conn.query_row("SELECT data FROM chunk WHERE series = ?1 AND tier = 0", [a], |r| r.get(0)).expect("raw chunk");
    let last = blob.len() - 1;
    blob[last] ^= 0x10;
    conn.execute("UPDATE chunk SET data = ?2 WHERE series = ?1 AND tier = 0", params![a, blob]).expect("flip");
    // More points of both come for the same quarter: sealing goes on for both.
    let later = write(&conn, "a", (q + 5 * 60_000, q + 10 * 60_000), 1000);
    write(&conn, "b", (q + 5 * 60_000, q + 10 * 60_000), 1000);
    let shared = Shared::default();
    assert!(Schedule::default().run(&conn, &config, &shared, q + QUARTER_MS + 120_000, Instant::now()));
    assert_eq!(shared.chunks_damaged.load(Ordering::Relaxed), 1);
    assert!(shared.maintenance_failing().is_none());
    assert_eq!(count(&conn, "SELECT count(*) FROM damaged"), 1, "set aside with its bytes");
    assert_eq!(count(&conn, "SELECT count(*) FROM pending"), 0, "everything sealed");
    let raw: Vec<u8> = conn
        .query_row("SELECT data FROM chunk WHERE series = ?1 AND tier = 0", [a], |r| r.get(0))
        .expect("a new raw chunk");
    assert_eq!(codec::decode_points(&raw).expect("decodes"), later);
    let minutes: Vec<u8> =
        conn.query_row("SELECT data FROM chunk WHERE series = ?1 AND tier = 1", [a], |r| r.get(0)).expect("minutes");
    let total: u32 = codec::decode_buckets(&minutes).expect("decodes").iter().map(|b| b.count).sum();
    assert_eq!(total, 600, "the minutes of the damaged chunk's points stay");
}

#[test]
fn series_without_data_are_forgotten() {
    let (_, conn) = temp_store("prune");
    write(&conn, "kept", (0, 10_000), 1000);
    db::series_id(&conn, "local", "gone").expect("a series without data");
    super::retain::prune_series(&conn).expect("pruned");
    assert_eq!(count(&conn, "SELECT count(*) FROM series"), 1);
}

#[test]
fn a_day_of_an_older_version_without_its_hours_is_rolled_up() {
    let (config, conn) = temp_store("reroll");
    let day = 6000 * DAY_MS;
    let points: Vec<Point> = (0..DAY_MS / 30_000).map(|i| Point { t: day + i * 30_000, v: (i % 13) as f64 }).collect();
    let id = db::series_id(&conn, "local", "old").expect("series");
    for q in (day..day + DAY_MS).step_by(usize::try_from(QUARTER_MS).expect("quarter")) {
        let inside: Vec<Point> = points.iter().filter(|p| p.t / QUARTER_MS * QUARTER_MS == q).copied().collect();
        let minutes = rollup::roll(&inside, 60_000);
        put(&conn, id, Tier::Minute, q, q + QUARTER_MS, minutes.len(), &codec::encode_buckets(&minutes)).expect("put");
    }
    // As version 2 left it: one hour rolled up, the rest missing; the migration lists the day.
    let first = rollup::roll(&points[..120], HOUR);
    put(&conn, id, Tier::Hour, day, day + DAY_MS, 1, &codec::encode_buckets(&first)).expect("put");
    conn.execute("INSERT INTO reroll (series, day) VALUES (?1, ?2)", params![id, day as i64]).expect("listed");
    assert!(Schedule::default().run(&conn, &config, &Shared::default(), day + 2 * DAY_MS, Instant::now()));
    assert_same_summary(&hour_buckets(&conn, "old", day), &rollup::roll(&points, HOUR));
    assert_eq!(count(&conn, "SELECT count(*) FROM reroll"), 0);
}

/// A value that compresses badly (every bit of the mantissa used), like a noisy gauge.
fn noisy(series: usize, t: u64) -> f64 {
    let mut x = (t ^ (series as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0x2545_F491_4F6C_DD1D);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64 * 100.0
}

fn file_size(path: &std::path::Path) -> u64 {
    let wal = std::path::PathBuf::from(format!("{}-wal", path.display()));
    std::fs::metadata(path).map_or(0, |m| m.len()) + std::fs::metadata(wal).map_or(0, |m| m.len())
}

#[test]
fn a_small_budget_holds_the_whole_file_and_the_roll_ups_outlive_raw() {
    let (mut config, conn) = temp_store("budget-small");
    config.max_bytes = 2 << 20;
    db::limit_wal(&conn, config.max_bytes).expect("wal limits");
    let (series, step, batch) = (100usize, 2000u64, 10 * 60_000u64);
    let ids: Vec<i64> = (0..series).map(|i| db::series_id(&conn, "wide", &format!("s{i}")).expect("series")).collect();
    let (shared, mut schedule, t0) = (Shared::default(), Schedule::default(), Instant::now());
    let start = 7000 * DAY_MS;
    let mut largest = 0;
    for b in 0..12 {
        let from = start + b * batch;
        let tx = conn.unchecked_transaction().expect("tx");
        for (i, id) in ids.iter().enumerate() {
            for t in (from..from + batch).step_by(usize::try_from(step).expect("step")) {
                tx.execute(
                    "INSERT INTO pending (series, t, v) VALUES (?1, ?2, ?3)",
                    params![id, t as i64, noisy(i, t)],
                )
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
        let now = from + batch;
        assert!(schedule.run(&conn, &config, &shared, now, t0 + Duration::from_millis(now - start)), "maintained");
        largest = largest.max(file_size(&config.path));
    }
    assert!(largest <= config.max_bytes + (64 << 10), "the file with its log stays within 2 MiB + 64 KiB: {largest}");
    assert!(shared.evicted_chunks.load(Ordering::Relaxed) > 0, "the budget had to evict");
    let first = |tier: i64| count(&conn, &format!("SELECT coalesce(min(start), 0) FROM chunk WHERE tier = {tier}"));
    assert!(first(1) < first(0), "minutes reach further back than raw points");
    assert_eq!(
        count(&conn, "SELECT count(*) FROM chunk WHERE tier = 2"),
        series as i64,
        "every series keeps its hours"
    );
    assert_eq!(first(1), start as i64, "no minute chunk had to go");
}

#[test]
fn frequent_seals_write_segments_that_the_quarters_end_compacts() {
    let (_, conn) = temp_store("segments");
    let q = 8000 * DAY_MS;
    let points = write(&conn, "s", (q, q + 10 * 60_000), 1000);
    for until in [q + 3 * 60_000, q + 6 * 60_000, q + 6 * 60_000 + 500] {
        close_quarters(&conn, until).expect("sealed");
    }
    assert_eq!(count(&conn, "SELECT count(*) FROM chunk WHERE tier = 0"), 3, "three segments");
    close_quarters(&conn, q + QUARTER_MS + 60_000).expect("sealed");
    assert_eq!(count(&conn, "SELECT count(*) FROM chunk WHERE tier = 0"), 1, "one chunk for the quarter");
    let raw: Vec<u8> = conn.query_row("SELECT data FROM chunk WHERE tier = 0", [], |r| r.get(0)).expect("raw");
    assert_eq!(codec::decode_points(&raw).expect("decodes"), points);
    let minutes: Vec<u8> = conn.query_row("SELECT data FROM chunk WHERE tier = 1", [], |r| r.get(0)).expect("minutes");
    assert_same_summary(&codec::decode_buckets(&minutes).expect("decodes"), &rollup::roll(&points, 60_000));
    assert_same_summary(&hour_buckets(&conn, "s", q / DAY_MS * DAY_MS), &rollup::roll(&points, HOUR));
}
