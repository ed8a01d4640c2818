//! Reads against a real SQLite file: spans a tier does not cover filled from the finer one, one
//! snapshot for a whole read, damaged chunks skipped, the tier chosen by cost, and a cancelled
//! read stopped inside a statement.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, params};

use super::{Data, ReadError, Watch, history, history_for_client, history_watched};
use crate::store::maintain::{self, QUARTER_MS};
use crate::store::state::{Shared, StoreConfig};
use crate::store::{Bucket, Point, Tier, codec, db, rollup};

const MINUTE: u64 = 60_000;
const HOUR: u64 = 3_600_000;
const DAY: u64 = 86_400_000;

fn temp_store(name: &str) -> (StoreConfig, Connection) {
    crate::store::temp_store(&format!("read-{name}"))
}

/// Points of series `x` every `step` ms over `[start, end)` into `pending`, a wave with spikes.
fn write(conn: &Connection, start: u64, end: u64, step: u64) -> Vec<Point> {
    let points = (start..end).step_by(usize::try_from(step).expect("step")).enumerate();
    let points = points.map(|(i, t)| Point { t, v: if i % 7919 == 0 { 500.0 } else { (i % 60) as f64 / 4.0 } });
    crate::store::put_pending(conn, "x", points.collect())
}

fn buckets_of(data: &Data) -> &[Bucket] {
    match data {
        Data::Buckets(b) => b,
        Data::Points(_) => panic!("buckets expected"),
    }
}

fn assert_same(got: &[Bucket], want: &[Bucket]) {
    assert_eq!(got.len(), want.len(), "{:?}", got.iter().map(|b| b.t).collect::<Vec<_>>());
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.t, g.min, g.max, g.last, g.count), (w.t, w.min, w.max, w.last, w.count));
        assert!((g.mean - w.mean).abs() < 1e-9, "{g:?} against {w:?}");
    }
}

#[test]
fn spans_without_coarser_chunks_are_rolled_from_the_finer_tiers() {
    let (config, conn) = temp_store("fill");
    let day = 800 * DAY;
    let points = write(&conn, day, day + 2 * DAY, 10_000);
    maintain::close_quarters(&conn, day + 2 * DAY).expect("close");
    // Only the second day has its hour chunk; in the first, one quarter lost its minute chunk
    // too (rolled up nowhere but its raw chunk).
    maintain::roll_day(&conn, day + DAY).expect("roll");
    let hole = day + 5 * HOUR;
    conn.execute("DELETE FROM chunk WHERE tier = 1 AND start = ?1", params![hole as i64]).expect("delete");

    let far = day + 200 * DAY;
    let h = history(&conn, &config, ("local", "x"), (day, day + 2 * DAY - 1), 1000, far).expect("read").expect("x");
    assert_eq!(h.tier, Tier::Hour);
    let hours = buckets_of(&h.data);
    assert_eq!(hours.len(), 48, "every hour of both days");
    assert_same(hours, &rollup::roll(&points, HOUR));

    // A minute range with a hole in its minute chunks: filled from the raw chunk.
    let soon = day + 3 * DAY;
    let (from, to) = (hole - HOUR, hole + HOUR);
    let h = history(&conn, &config, ("local", "x"), (from, to), 1000, soon).expect("read").expect("x");
    assert_eq!(h.tier, Tier::Minute);
    // Buckets starting in the range, whole (the last one's stored minute chunk holds all of it).
    let inside: Vec<Point> = points.iter().copied().filter(|p| p.t >= from && p.t < to + MINUTE).collect();
    assert_same(buckets_of(&h.data), &rollup::roll(&inside, MINUTE));
}

#[test]
fn a_read_sees_one_snapshot_while_quarters_close_under_it() {
    let (config, conn) = temp_store("snapshot");
    let start = 900 * DAY;
    let points = write(&conn, start, start + HOUR, 1000);
    maintain::close_quarters(&conn, start + 3 * QUARTER_MS).expect("close three quarters");
    let path = config.path.clone();
    let watch = Watch::default();
    let fired = Arc::new(AtomicBool::new(false));
    let hook_fired = fired.clone();
    // At the first chunk the read decodes: the open quarter closes (its pending points become
    // chunks and leave `pending`) and newer points arrive.
    *watch.on_chunk.borrow_mut() = Some(Box::new(move || {
        if !hook_fired.swap(true, Ordering::Relaxed) {
            let writer = db::open_writer(&path).expect("writer");
            maintain::close_quarters(&writer, start + 4 * QUARTER_MS).expect("close the last quarter");
            let _ = write(&writer, start + HOUR, start + HOUR + 5 * MINUTE, 1000);
        }
    }));
    let reader = db::open_reader(&config.path).expect("reader");
    // From further back than raw is kept: 1-minute buckets, from chunks and rolled from pending.
    let now = start + 2 * DAY;
    let h = history_watched(&reader, &config, ("local", "x"), (start, start + 2 * HOUR), 10_000, now, &watch)
        .expect("read")
        .expect("x");
    assert!(fired.load(Ordering::Relaxed), "the read decoded a chunk");
    let got = buckets_of(&h.data);
    assert_eq!(got.iter().map(|b| u64::from(b.count)).sum::<u64>(), points.len() as u64, "no point lost or added");
    assert_same(got, &rollup::roll(&points, MINUTE));
}

#[test]
fn damaged_chunks_are_skipped_and_counted_and_filled_from_the_finer_tier() {
    let (config, conn) = temp_store("damaged");
    let start = 1000 * DAY;
    let points = write(&conn, start, start + HOUR, 1000);
    maintain::close_quarters(&conn, start + HOUR).expect("close");
    // A flipped byte in the second quarter's raw chunk and in the third's minute chunk.
    for (tier, quarter) in [(0, 1), (1, 2)] {
        let at = (start + quarter * QUARTER_MS) as i64;
        let mut blob: Vec<u8> = conn
            .query_row("SELECT data FROM chunk WHERE tier = ?1 AND start = ?2", params![tier, at], |r| r.get(0))
            .expect("chunk");
        let last = blob.len() - 1;
        blob[last] ^= 0x40;
        conn.execute("UPDATE chunk SET data = ?1 WHERE tier = ?2 AND start = ?3", params![blob, tier, at])
            .expect("damage");
    }
    let shared = Shared::default();
    let ask = |from, now| {
        history_for_client(&config, &shared, (("local", "x"), (from, start + HOUR), 10_000, now), Arc::default())
    };

    let h = ask(start, start + HOUR).expect("answered").expect("x");
    let Data::Points(got) = &h.data else { panic!("points") };
    let lost = (start + QUARTER_MS..start + 2 * QUARTER_MS, start + 3 * QUARTER_MS);
    let want: Vec<Point> = points.iter().copied().filter(|p| !lost.0.contains(&p.t) && p.t < start + HOUR).collect();
    assert_eq!(*got, want, "everything but the damaged raw chunk");
    assert_eq!(shared.read_chunks_skipped.load(Ordering::Relaxed), 1);

    // The damaged minute chunk's quarter is rolled from its raw chunk.
    let h = ask(start + 2 * QUARTER_MS, start + 3 * DAY).expect("answered").expect("x");
    let third: Vec<Point> = points.iter().copied().filter(|p| p.t >= start + 2 * QUARTER_MS && p.t < lost.1).collect();
    assert_same(&buckets_of(&h.data)[..15], &rollup::roll(&third, MINUTE));
    assert_eq!(shared.read_chunks_skipped.load(Ordering::Relaxed), 2);
}

#[test]
fn the_tier_keeps_what_a_read_decodes_within_a_multiple_of_its_points() {
    let (config, conn) = temp_store("cost");
    let start = 1100 * DAY;
    let id = db::series_id(&conn, "local", "x").expect("series");
    // Three hours of a 100 ms source, as chunks: 108,000 points.
    let mut all = 0;
    for q in 0..12 {
        let at = start + q * QUARTER_MS;
        let points: Vec<Point> = (0..QUARTER_MS / 100).map(|i| Point { t: at + i * 100, v: (i % 97) as f64 }).collect();
        all += points.len();
        maintain::put(&conn, id, Tier::Raw, at, at + QUARTER_MS, points.len(), &codec::encode_points(&points))
            .expect("raw");
        let minutes = rollup::roll(&points, MINUTE);
        maintain::put(&conn, id, Tier::Minute, at, at + QUARTER_MS, minutes.len(), &codec::encode_buckets(&minutes))
            .expect("minutes");
    }
    let now = start + 3 * HOUR;
    let h = history(&conn, &config, ("local", "x"), (start, now), 100, now).expect("read").expect("x");
    assert_eq!(h.tier, Tier::Minute, "{all} raw points are far more than 8 x 100 (or 40,000)");
    assert!(buckets_of(&h.data).len() <= 100);
    // A short range of the same: raw, within its points.
    let h = history(&conn, &config, ("local", "x"), (now - 20 * MINUTE, now), 100, now).expect("read").expect("x");
    let Data::Points(points) = &h.data else { panic!("raw points") };
    assert!(h.tier == Tier::Raw && points.len() <= 100 && points.iter().any(|p| p.v == 96.0));
}

#[test]
fn a_cancelled_read_stops_inside_a_statement() {
    let (config, conn) = temp_store("cancel");
    // Only pending points, no chunk: nothing but SQLite's progress handler can stop this read.
    let _ = write(&conn, 0, 200_000, 1);
    let shared = Shared::default();
    let cancelled = Arc::new(AtomicBool::new(true));
    let got = history_for_client(&config, &shared, (("local", "x"), (0, 200_000), 1000, 200_000), cancelled);
    assert!(matches!(got, Err(ReadError::Cancelled)), "{got:?}");
    assert_eq!(shared.reads_cancelled.load(Ordering::Relaxed), 1);
    let got = history_for_client(&config, &shared, (("local", "x"), (0, 200_000), 1000, 200_000), Arc::default());
    assert!(matches!(got, Ok(Some(_))), "the same read not cancelled: {got:?}");
}

#[test]
fn a_read_cancelled_between_chunks_stops_at_the_next_one() {
    let (config, conn) = temp_store("cancel-chunks");
    let start = 1200 * DAY;
    let _ = write(&conn, start, start + HOUR, 1000);
    maintain::close_quarters(&conn, start + HOUR).expect("close");
    let cancelled = Arc::new(AtomicBool::new(false));
    let watch = Watch::new(cancelled.clone());
    let chunks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = chunks.clone();
    // The client goes while the first chunk is being read.
    *watch.on_chunk.borrow_mut() = Some(Box::new(move || {
        seen.fetch_add(1, Ordering::Relaxed);
        cancelled.store(true, Ordering::Relaxed);
    }));
    let got = history_watched(&conn, &config, ("local", "x"), (start, start + HOUR), 1000, start + HOUR, &watch);
    assert!(matches!(got, Err(ReadError::Cancelled)), "{got:?}");
    assert_eq!(chunks.load(Ordering::Relaxed), 1, "no chunk after the first");
}
