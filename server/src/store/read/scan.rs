//! One tier of one series over `[a, b)`, streamed: chunk after chunk is decoded and handed on, so
//! that a read holds one chunk at a time whatever the range. A span the tier's chunks do not cover
//! (not rolled up yet, rolled up late, or a damaged chunk) is filled from the finer tier, rolled up
//! on the fly. And what a read of a tier would decode, from the chunks' `count` column alone.
//!
//! Output is in strictly increasing time order: of a point both in a raw chunk and in `pending`
//! the chunk's is kept, and an item not later than the one before is dropped.

use rusqlite::{Connection, params};

use super::error::ReadError;
use super::watch::Watch;
use crate::store::downsample::Summary;
use crate::store::{Bucket, Point, Tier, codec, maintain};

/// A time as SQLite keeps it (times past `i64::MAX` are taken as `i64::MAX`).
pub fn sql(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

fn ms(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

/// The chunk rows of `tier` that can overlap `[a, b)`, in order of start: a chunk spans at most a
/// day (an hour roll-up's) or a quarter (the others), which bounds its start from below too, so
/// the index range holds only the chunks that can overlap. `columns` are selected after `start`
/// and `end`.
fn chunk_query(columns: &str) -> String {
    format!(
        "SELECT start, end, {columns} FROM chunk WHERE series = ?1 AND tier = ?2 AND start > ?3 AND start < ?4
         AND end > ?5 ORDER BY start"
    )
}

fn chunk_params(id: i64, tier: Tier, a: u64, b: u64) -> (i64, i64, i64, i64, i64) {
    let span = if tier == Tier::Hour { maintain::DAY_MS } else { maintain::QUARTER_MS };
    (id, tier.code(), sql(a.saturating_sub(span)), sql(b), sql(a))
}

/// Every point of series `id` in `[a, b)`, from its raw chunks and its pending points, to `out`.
pub fn points(
    conn: &Connection,
    id: i64,
    (a, b): (u64, u64),
    watch: &Watch,
    out: &mut dyn FnMut(Point),
) -> Result<(), ReadError> {
    let mut pending_rows =
        conn.prepare_cached("SELECT t, v FROM pending WHERE series = ?1 AND t >= ?2 AND t < ?3 ORDER BY t")?;
    let mut pending = pending_rows.query(params![id, sql(a), sql(b)])?;
    let mut next_pending = || -> Result<Option<Point>, ReadError> {
        Ok(pending.next()?.map(|r| Ok::<_, rusqlite::Error>(Point { t: ms(r.get(0)?), v: r.get(1)? })).transpose()?)
    };
    let mut waiting = next_pending()?;
    let mut latest: Option<u64> = None;
    let mut emit = |p: Point| {
        if latest.is_none_or(|l| p.t > l) {
            latest = Some(p.t);
            out(p);
        }
    };
    let mut chunk_rows = conn.prepare_cached(&chunk_query("data"))?;
    let mut chunks = chunk_rows.query(chunk_params(id, Tier::Raw, a, b))?;
    while let Some(row) = chunks.next()? {
        watch.check()?;
        let Ok(decoded) = codec::decode_points(&row.get::<_, Vec<u8>>(2)?) else {
            watch.skip();
            continue;
        };
        for p in decoded.into_iter().filter(|p| p.t >= a && p.t < b) {
            while let Some(q) = waiting.filter(|q| q.t <= p.t) {
                if q.t < p.t {
                    emit(q);
                }
                waiting = next_pending()?;
            }
            emit(p);
        }
    }
    while let Some(q) = waiting {
        emit(q);
        waiting = next_pending()?;
    }
    Ok(())
}

/// The buckets of `tier` (1-minute or 1-hour) of series `id` starting in `[a, b)`, to `out`: the
/// stored ones, and for any span their chunks do not cover, the finer tier's rolled up now. `a`
/// should be a multiple of the tier's width (the bucket holding it is then whole).
pub fn buckets(
    conn: &Connection,
    id: i64,
    tier: Tier,
    (a, b): (u64, u64),
    watch: &Watch,
    out: &mut dyn FnMut(Bucket),
) -> Result<(), ReadError> {
    let mut latest: Option<u64> = None;
    let mut emit = |bucket: Bucket| {
        if bucket.t >= a && bucket.t < b && latest.is_none_or(|l| bucket.t > l) {
            latest = Some(bucket.t);
            out(bucket);
        }
    };
    let mut covered = a;
    let mut rows = conn.prepare_cached(&chunk_query("data"))?;
    let mut chunks = rows.query(chunk_params(id, tier, a, b))?;
    while let Some(row) = chunks.next()? {
        watch.check()?;
        let (start, end) = (ms(row.get(0)?), ms(row.get(1)?));
        let Ok(decoded) = codec::decode_buckets(&row.get::<_, Vec<u8>>(2)?) else {
            // Left uncovered: the finer tier fills it.
            watch.skip();
            continue;
        };
        if start > covered {
            fill(conn, id, tier, (covered, start.min(b)), watch, &mut emit)?;
        }
        decoded.into_iter().filter(|bucket| bucket.t >= covered).for_each(&mut emit);
        covered = covered.max(end);
    }
    if covered < b {
        fill(conn, id, tier, (covered, b), watch, &mut emit)?;
    }
    Ok(())
}

/// The buckets of `tier` over `[x, y)` rolled up from the finer tier.
fn fill(
    conn: &Connection,
    id: i64,
    tier: Tier,
    (x, y): (u64, u64),
    watch: &Watch,
    out: &mut dyn FnMut(Bucket),
) -> Result<(), ReadError> {
    let mut roll = Roll::new(tier.width_ms());
    match tier {
        Tier::Raw => return Ok(()),
        Tier::Minute => points(conn, id, (x, y), watch, &mut |p| roll.push(p.t, |s| s.add_point(p), out))?,
        Tier::Hour => buckets(conn, id, Tier::Minute, (x, y), watch, &mut |m| roll.push(m.t, |s| s.add(&m), out))?,
    }
    roll.finish(out);
    Ok(())
}

/// Items in time order summed up into buckets of one width, each handed on when the next begins.
struct Roll {
    width: u64,
    current: Option<Summary>,
}

impl Roll {
    fn new(width: u64) -> Self {
        Self { width: width.max(1), current: None }
    }

    fn push(&mut self, t: u64, add: impl FnOnce(&mut Summary), out: &mut dyn FnMut(Bucket)) {
        let start = t / self.width * self.width;
        if self.current.as_ref().is_none_or(|s| s.start() != start) {
            self.finish(out);
            self.current = Some(Summary::starting(start));
        }
        if let Some(s) = &mut self.current {
            add(s);
        }
    }

    fn finish(&mut self, out: &mut dyn FnMut(Bucket)) {
        if let Some(b) = self.current.take().and_then(|s| s.bucket()) {
            out(b);
        }
    }
}

/// How many items a read of `tier` over `[a, b)` would decode from chunks (its own, and the finer
/// tiers' where it has none), counted from the chunk rows alone; counting stops past `budget`.
/// Pending points, at most a quarter or so and read in any tier, are not counted.
pub fn cost(conn: &Connection, id: i64, tier: Tier, (a, b): (u64, u64), budget: u64) -> Result<u64, ReadError> {
    let finer = match tier {
        Tier::Raw => None,
        Tier::Minute => Some(Tier::Raw),
        Tier::Hour => Some(Tier::Minute),
    };
    let (mut total, mut covered) = (0u64, a);
    let mut rows = conn.prepare_cached(&chunk_query("count"))?;
    let mut chunks = rows.query(chunk_params(id, tier, a, b))?;
    while let Some(row) = chunks.next()? {
        if total > budget {
            return Ok(total);
        }
        let (start, end, count): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if let Some(finer) = finer.filter(|_| ms(start) > covered) {
            total += cost(conn, id, finer, (covered, ms(start).min(b)), budget.saturating_sub(total))?;
        }
        total = total.saturating_add(ms(count));
        covered = covered.max(ms(end));
    }
    if let Some(finer) = finer.filter(|_| covered < b && total <= budget) {
        total += cost(conn, id, finer, (covered, b), budget.saturating_sub(total))?;
    }
    Ok(total)
}
