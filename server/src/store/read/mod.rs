//! Reading the store: one series over a range (what is not rolled up yet is rolled up on the
//! fly), the list of series, the gaps when the server was down, and the last minutes of every
//! series for refilling the live history at start.
//!
//! A read costs what is asked, not what the range holds: it takes the finest tier within
//! retention whose chunks would decode at most [`DECODE_PER_POINT`] items per point asked for (or
//! [`DECODE_FLOOR`]), else a coarser one; it streams chunk after chunk into the downsampler
//! ([`super::downsample`]), all in one read transaction (one snapshot: a quarter closed meanwhile
//! neither drops nor doubles points); a damaged chunk is skipped (counted) and its span filled
//! from the finer tier; and a client's read stops when its client goes.
//!
//! - [`error`]: why a read gave no answer.
//! - [`scan`]: one tier over a range, streamed, its holes filled from the finer tier; the cost.
//! - [`watch`]: a read's cancellation and skipped chunks, and the cap on reads at once.
//!
//! May import the rest of [`crate::store`] only.

pub mod error;
pub mod scan;
pub mod watch;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;

use super::downsample::{BucketThinner, PointThinner};
use super::error::StoreError;
use super::state::{Shared, StoreConfig};
use super::{Bucket, Point, Tier, db};
pub use error::ReadError;
pub use watch::{Permit, Watch};

#[cfg(test)]
mod tests;

/// A gap shorter than this between two lives of the server is not reported (a quick restart).
const MIN_GAP_MS: u64 = 2_000;
/// Items a read may decode from chunks per point asked for before a coarser tier is taken.
pub const DECODE_PER_POINT: u64 = 8;
/// Items any read may decode from chunks (a raw chunk of a 50 ms source holds 18,000 points).
pub const DECODE_FLOOR: u64 = 40_000;

/// What a range of one series holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Points at full resolution (downsampled with min and max per bucket when there were more).
    Points(Vec<Point>),
    /// Roll-up buckets.
    Buckets(Vec<Bucket>),
}

/// A range of one series, as the API serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The tier it came from.
    pub tier: Tier,
    /// Its data.
    pub data: Data,
    /// When the server was down within the range: `(from, to)` in ms.
    pub gaps: Vec<(u64, u64)>,
}

/// The finest tier whose retention reaches back to `from`.
pub fn tier_for(config: &StoreConfig, from: u64, now: u64) -> Tier {
    let reaches =
        |keep: std::time::Duration| now.saturating_sub(u64::try_from(keep.as_millis()).unwrap_or(u64::MAX)) <= from;
    if reaches(config.raw_for) {
        Tier::Raw
    } else if reaches(config.minute_for) {
        Tier::Minute
    } else {
        Tier::Hour
    }
}

/// Series `name` of `source` over `[from, to]`, at most `max` points or buckets; `None` when the
/// store has no such series. For a client: on a connection of its own, stopped once `cancelled`
/// is set, counted in `shared` (reads cancelled, damaged chunks skipped).
pub fn history_for_client(
    config: &StoreConfig,
    shared: &Shared,
    (key, range, max, now): ((&str, &str), (u64, u64), usize, u64),
    cancelled: Arc<AtomicBool>,
) -> Result<Option<History>, ReadError> {
    let watch = Watch::new(cancelled);
    let result = db::open_reader(&config.path)
        .map_err(ReadError::from)
        .and_then(|mut conn| {
            watch.guard(&mut conn)?;
            history_watched(&conn, config, key, range, max, now, &watch)
        })
        .map_err(|e| if watch.is_cancelled() { ReadError::Cancelled } else { e });
    shared.read_chunks_skipped.fetch_add(watch.skipped(), Ordering::Relaxed);
    if matches!(result, Err(ReadError::Cancelled)) {
        shared.reads_cancelled.fetch_add(1, Ordering::Relaxed);
    }
    result
}

/// Series `name` of `source` over `[from, to]`, at most `max` points or buckets; `None` when the
/// store has no such series.
pub fn history(
    conn: &Connection,
    config: &StoreConfig,
    key: (&str, &str),
    range: (u64, u64),
    max: usize,
    now: u64,
) -> Result<Option<History>, ReadError> {
    history_watched(conn, config, key, range, max, now, &Watch::default())
}

/// [`history`], watched by `watch`.
pub fn history_watched(
    conn: &Connection,
    config: &StoreConfig,
    (source, name): (&str, &str),
    (from, to): (u64, u64),
    max: usize,
    now: u64,
    watch: &Watch,
) -> Result<Option<History>, ReadError> {
    // One snapshot for everything below (a caller's own transaction is one already).
    let _snapshot = if conn.is_autocommit() { Some(conn.unchecked_transaction()?) } else { None };
    let Some(id) = db::find_series(conn, source, name)? else { return Ok(None) };
    let end = to.saturating_add(1);
    let tier = plan(conn, config, id, (from, to), max, now)?;
    let data = if tier == Tier::Raw {
        let mut thinner = PointThinner::new(from, to, max);
        scan::points(conn, id, (from, end), watch, &mut |p| thinner.push(p))?;
        Data::Points(thinner.finish())
    } else {
        let mut thinner = BucketThinner::new(from, to, max);
        let start = from / tier.width_ms() * tier.width_ms();
        scan::buckets(conn, id, tier, (start, end), watch, &mut |b| thinner.push(b))?;
        Data::Buckets(thinner.finish())
    };
    Ok(Some(History { tier, data, gaps: gaps(conn, from, to)? }))
}

/// The tier a read of series `id` over `[from, to]` for `max` points takes: the finest within
/// retention ([`tier_for`]) whose chunks decode at most `max * DECODE_PER_POINT` items (at least
/// [`DECODE_FLOOR`]), else the next coarser, the 1-hour tier in the end.
pub fn plan(
    conn: &Connection,
    config: &StoreConfig,
    id: i64,
    (from, to): (u64, u64),
    max: usize,
    now: u64,
) -> Result<Tier, ReadError> {
    let budget = u64::try_from(max).unwrap_or(u64::MAX).saturating_mul(DECODE_PER_POINT).max(DECODE_FLOOR);
    let mut tier = tier_for(config, from, now);
    while tier != Tier::Hour {
        let start = from / tier.width_ms().max(1) * tier.width_ms().max(1);
        if scan::cost(conn, id, tier, (start, to.saturating_add(1)), budget)? <= budget {
            return Ok(tier);
        }
        tier = if tier == Tier::Raw { Tier::Minute } else { Tier::Hour };
    }
    Ok(tier)
}

/// Every point of series `id` in `[from, to]`, from its chunks and its pending points (damaged
/// chunks skipped).
pub fn raw_points(conn: &Connection, id: i64, from: u64, to: u64) -> Result<Vec<Point>, StoreError> {
    let mut points = Vec::new();
    scan::points(conn, id, (from, to.saturating_add(1)), &Watch::default(), &mut |p| points.push(p))?;
    Ok(points)
}

/// The earliest time `tier` holds of series `id` (for raw points, in a chunk or still pending),
/// or `None` when it holds nothing: the tiers are trimmed from the oldest end, so from there on
/// the tier covers the series.
pub fn earliest(conn: &Connection, id: i64, tier: Tier) -> Result<Option<u64>, StoreError> {
    let chunk: Option<i64> = conn
        .prepare_cached("SELECT min(start) FROM chunk WHERE series = ?1 AND tier = ?2")?
        .query_row(rusqlite::params![id, tier.code()], |r| r.get(0))?;
    let pending: Option<i64> = if tier == Tier::Raw {
        conn.prepare_cached("SELECT min(t) FROM pending WHERE series = ?1")?.query_row([id], |r| r.get(0))?
    } else {
        None
    };
    let earliest = match (chunk, pending) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(earliest.map(|t| u64::try_from(t).unwrap_or(0)))
}

/// When the server was down within `[from, to]`: between the last write of one life and the
/// start of the next.
pub fn gaps(conn: &Connection, from: u64, to: u64) -> Result<Vec<(u64, u64)>, StoreError> {
    // A life's start is where it began writing: its earliest point when that came first (a cluster
    // instance's backfill of the time it was down).
    let mut rows = conn.prepare_cached("SELECT min(start, coalesce(first, start)), last FROM run ORDER BY start")?;
    let runs: Vec<(u64, u64)> = rows
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
        .map(|r| r.map(|(s, l)| (u64::try_from(s).unwrap_or(0), u64::try_from(l).unwrap_or(0))))
        .collect::<Result<_, _>>()?;
    Ok(runs
        .windows(2)
        .map(|w| (w[0].1, w[1].0))
        .filter(|&(down, up)| up > down + MIN_GAP_MS && up >= from && down <= to)
        .collect())
}

/// Every series the store has: `(source, name)`, sorted.
pub fn series(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut rows = conn.prepare_cached("SELECT source, name FROM series ORDER BY source, name")?;
    let rows = rows.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One past sample rebuilt from the store: its source, time and numeric series.
pub type Recent = (Arc<str>, u64, Vec<(String, f64)>);

/// Every source's samples since `since`, rebuilt from the stored points (time-ordered).
pub fn recent(conn: &Connection, since: u64) -> Result<Vec<Recent>, StoreError> {
    let _snapshot = if conn.is_autocommit() { Some(conn.unchecked_transaction()?) } else { None };
    let mut names: BTreeMap<i64, (Arc<str>, String)> = BTreeMap::new();
    {
        let mut rows = conn.prepare_cached("SELECT id, source, name FROM series")?;
        let mut rows = rows.query([])?;
        while let Some(r) = rows.next()? {
            names.insert(r.get(0)?, (Arc::from(r.get::<_, String>(1)?), r.get(2)?));
        }
    }
    type Values = Vec<(String, f64)>;
    let mut samples: BTreeMap<(u64, Arc<str>), Values> = BTreeMap::new();
    for (id, (source, name)) in &names {
        for p in raw_points(conn, *id, since, u64::MAX >> 1)? {
            samples.entry((p.t, source.clone())).or_default().push((name.clone(), p.v));
        }
    }
    Ok(samples.into_iter().map(|((t, source), values)| (source, t, values)).collect())
}
