//! The store against a real SQLite file: points written, quarters closed into chunks and
//! roll-ups, read back over each tier, the byte budget, and the minutes before a restart.

use rusqlite::Connection;

use super::read::{self, Data};
use super::state::{Shared, StoreConfig};
use super::{Point, Tier, db, maintain, migrate, rollup};

fn temp_store(name: &str) -> (StoreConfig, Connection) {
    super::temp_store(&format!("store-{name}"))
}

/// `n` points a second apart from `start` of series `name`, a wave with a spike in the middle.
fn write(conn: &Connection, name: &str, start: u64, n: u64) -> Vec<Point> {
    let points =
        (0..n).map(|i| Point { t: start + i * 1000, v: if i == n / 2 { 1000.0 } else { (i % 60) as f64 / 2.0 } });
    super::put_pending(conn, name, points.collect())
}

const HOUR: u64 = 3_600_000;
const DAY: u64 = 86_400_000;

#[test]
fn closed_quarters_read_back_exactly_and_roll_up_to_what_the_points_say() {
    let (config, conn) = temp_store("close");
    let now = 400 * DAY;
    let start = now - 3 * HOUR;
    let points = write(&conn, "cpu_pct", start, 3 * 3600);
    maintain::close_quarters(&conn, now - maintain::QUARTER_MS).expect("close");
    let pending: i64 = conn.query_row("SELECT count(*) FROM pending", [], |r| r.get(0)).expect("count");
    assert!(pending > 0 && pending <= 15 * 60, "the open quarter stays pending: {pending}");
    let id = db::find_series(&conn, "local", "cpu_pct").expect("read").expect("exists");
    assert_eq!(read::raw_points(&conn, id, 0, u64::MAX >> 1).expect("read"), points, "every point, bit for bit");

    // A day ago is within raw retention: the raw tier answers, the spike survives 100 points.
    let h = read::history(&conn, &config, ("local", "cpu_pct"), (start, now), 100, now).expect("read").expect("found");
    assert_eq!(h.tier, Tier::Raw);
    let Data::Points(shown) = &h.data else { panic!("points") };
    assert!(shown.len() <= 100 && shown.iter().any(|p| p.v == 1000.0), "the one-sample spike survives");

    // Asked from further back than raw is kept: 1-minute buckets, equal to rolling the points.
    let from = now - 2 * DAY;
    let h =
        read::history(&conn, &config, ("local", "cpu_pct"), (from, now), 10_000, now).expect("read").expect("found");
    assert_eq!(h.tier, Tier::Minute);
    let Data::Buckets(buckets) = &h.data else { panic!("buckets") };
    let expected = rollup::roll(&points, 60_000);
    assert_eq!(buckets.len(), expected.len(), "closed quarters and the open one rolled on the fly");
    for (got, want) in buckets.iter().zip(&expected) {
        assert_eq!((got.t, got.min, got.max, got.last, got.count), (want.t, want.min, want.max, want.last, want.count));
        assert!((got.mean - want.mean).abs() < 1e-9);
    }
    assert!(buckets.iter().any(|b| b.max == 1000.0));
}

#[test]
fn days_roll_up_into_hours_that_agree_with_the_points() {
    let (config, conn) = temp_store("days");
    let day = 500 * DAY;
    let points = write(&conn, "load", day, 24 * 3600);
    let now = day + DAY + HOUR;
    maintain::close_quarters(&conn, now / maintain::QUARTER_MS * maintain::QUARTER_MS).expect("close");
    maintain::roll_day(&conn, day).expect("roll");
    let h = read::history(&conn, &config, ("local", "load"), (day, day + DAY - 1), 1000, now + 60 * DAY)
        .expect("read")
        .expect("found");
    assert_eq!(h.tier, Tier::Hour);
    let Data::Buckets(hours) = &h.data else { panic!("buckets") };
    let expected = rollup::roll(&points, HOUR);
    assert_eq!(hours.len(), 24);
    for (got, want) in hours.iter().zip(&expected) {
        assert_eq!((got.t, got.min, got.max, got.count), (want.t, want.min, want.max, want.count));
        assert!((got.mean - want.mean).abs() < 1e-9);
    }
}

#[test]
fn the_byte_budget_drops_the_oldest_raw_points_first() {
    let (mut config, conn) = temp_store("budget");
    let now = 600 * DAY;
    for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
        let _ = write(&conn, name, now - 20 * HOUR + i as u64, 16 * 3600);
    }
    maintain::close_quarters(&conn, now).expect("close");
    let before = db::used_bytes(&conn).expect("size");
    let newest_before: i64 = conn.query_row("SELECT max(start) FROM chunk", [], |r| r.get(0)).expect("max");
    // Raw points take about half of it here: some of them have to go, and only they.
    config.max_bytes = before * 3 / 4;
    let shared = Shared::default();
    let mut schedule = maintain::Schedule::default();
    assert!(
        schedule.run(&conn, &config, &shared, now, std::time::Instant::now()),
        "{:?}",
        shared.maintenance_failing()
    );
    let after = db::file_bytes(&conn, &config.path).expect("size");
    assert!(after <= config.max_bytes, "{after} > {}", config.max_bytes);
    assert!(shared.evicted_chunks.load(std::sync::atomic::Ordering::Relaxed) > 0);
    let oldest: i64 = conn.query_row("SELECT min(start) FROM chunk WHERE tier = 0", [], |r| r.get(0)).expect("min");
    let newest: i64 = conn.query_row("SELECT max(start) FROM chunk", [], |r| r.get(0)).expect("max");
    assert!(oldest > (now - 20 * HOUR) as i64, "the oldest raw points went first");
    assert_eq!(newest, newest_before, "the newest stayed");
    let minutes: i64 = conn.query_row("SELECT min(start) FROM chunk WHERE tier = 1", [], |r| r.get(0)).expect("min");
    assert!(minutes < oldest, "the roll-ups outlive the raw points");
}

#[test]
fn the_minutes_before_a_restart_come_back_as_samples() {
    let (_, conn) = temp_store("recent");
    let now = 700 * DAY;
    write(&conn, "x", now - 3_000, 3);
    write(&conn, "y", now - 3_000, 3);
    let recent = read::recent(&conn, now - 2_500).expect("recent");
    let shape: Vec<(u64, usize)> = recent.iter().map(|(_, t, v)| (*t, v.len())).collect();
    assert_eq!(shape, [(now - 2000, 2), (now - 1000, 2)]);
}

#[test]
fn a_version_1_file_is_moved_to_the_current_schema_keeping_its_chunks() {
    let dir = std::env::temp_dir().join(format!("livedash-store-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("history.db");
    {
        let old = Connection::open(&path).expect("open");
        old.execute_batch(
            "CREATE TABLE chunk (series INTEGER NOT NULL, tier INTEGER NOT NULL, start INTEGER NOT NULL,
               end INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (series, tier, start))
               WITHOUT ROWID;
             CREATE INDEX chunk_age ON chunk (start);
             INSERT INTO chunk VALUES (1, 0, 900000, 1800000, 3, x'0102');
             PRAGMA user_version = 1;",
        )
        .expect("a version 1 file");
    }
    let conn = db::open_writer(&path).expect("migrates");
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
    let row: (i64, i64, Vec<u8>) = conn
        .query_row("SELECT id, count, data FROM chunk", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("kept");
    assert_eq!((version, row.1, row.2), (migrate::VERSION, 3, vec![1, 2]));
    drop(conn);
    db::open_writer(&path).expect("opens again without migrating twice");
}

/// A version 1 file as livedash's old three-transaction migration could leave it when killed:
/// `chunk_v1` renamed, and maybe the new `chunk` made beside it.
#[test]
fn a_version_1_file_left_half_migrated_is_finished() {
    for with_new_table in [false, true] {
        let dir = std::env::temp_dir().join(format!("livedash-store-half-{with_new_table}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("history.db");
        {
            let old = Connection::open(&path).expect("open");
            old.execute_batch(
                "CREATE TABLE series (id INTEGER PRIMARY KEY, source TEXT NOT NULL, name TEXT NOT NULL,
                   UNIQUE (source, name));
                 CREATE TABLE chunk_v1 (series INTEGER NOT NULL, tier INTEGER NOT NULL, start INTEGER NOT NULL,
                   end INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL,
                   PRIMARY KEY (series, tier, start)) WITHOUT ROWID;
                 INSERT INTO chunk_v1 VALUES (1, 1, 900000, 1800000, 3, x'0102');
                 PRAGMA user_version = 1;",
            )
            .expect("a half-migrated file");
            if with_new_table {
                old.execute_batch(
                    "CREATE TABLE chunk (id INTEGER PRIMARY KEY, series INTEGER NOT NULL, tier INTEGER NOT NULL,
                       start INTEGER NOT NULL, end INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL);
                     CREATE UNIQUE INDEX chunk_key ON chunk (series, tier, start);",
                )
                .expect("the new table beside it");
            }
        }
        let conn = db::open_writer(&path).expect("finishes the migration");
        let row: (i64, Vec<u8>) =
            conn.query_row("SELECT count, data FROM chunk", [], |r| Ok((r.get(0)?, r.get(1)?))).expect("kept");
        assert_eq!(row, (3, vec![1, 2]));
        let left: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'chunk_v1'", [], |r| r.get(0))
            .expect("tables");
        assert_eq!(left, 0);
        // The unique key holds: the same chunk cannot be stored twice.
        assert!(
            conn.execute(
                "INSERT INTO chunk (series, tier, start, end, count, data) VALUES (1, 1, 900000, 0, 0, x'')",
                []
            )
            .is_err()
        );
    }
}

/// A life of the server whose first batch reaches back before its start (a cluster instance's
/// backfill of the time it was down) leaves a gap only where no life wrote.
#[test]
fn a_backfill_of_the_time_down_is_no_gap() {
    let (_, conn) = temp_store("backfill-gap");
    let frame = |t: u64| {
        let text = format!(r#"{{"type":"sample","seq":{t},"source":"s","ts_ms":{t},"data":{{"x":1}}}}"#);
        super::writer::parse(&text).expect("a sample frame")
    };
    let t = 900 * DAY;
    super::writer::write_batch(&conn, &[frame(t), frame(t + 10_000)], t).expect("first life");
    // Down from t + 10 s; up at t + 100 s with the samples from t + 20 s on, backfilled.
    super::writer::write_batch(&conn, &[frame(t + 20_000), frame(t + 110_000)], t + 100_000).expect("second life");
    assert_eq!(read::gaps(&conn, t, t + 200_000).expect("gaps"), [(t + 10_000, t + 20_000)]);
}
