//! Keeping the file in shape as data ages, never by rescanning everything:
//!
//! - every quarter of an hour, the pending points of the quarters that ended become one chunk per
//!   series (tier 0) and that quarter's 1-minute roll-up (tier 1);
//! - when a day has ended, its 1-minute roll-ups become that day's 1-hour roll-up (tier 2);
//! - every minute, what is past its tier's retention goes, then the oldest chunks (of any tier)
//!   while the data is over the byte budget.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use rusqlite::{Connection, OptionalExtension, params};

use super::error::StoreError;
use super::state::{Shared, StoreConfig};
use super::{Bucket, Point, Tier, codec, db, rollup};

/// The span of one raw chunk, in ms.
pub const QUARTER_MS: u64 = 15 * 60_000;
/// One day, in ms.
pub const DAY_MS: u64 = 86_400_000;
/// How often retention and the budget are looked at, in ms.
const RETAIN_EVERY_MS: u64 = 60_000;

/// When each kind of maintenance last ran.
#[derive(Debug, Default)]
pub struct Schedule {
    closed_until: Option<u64>,
    rolled_day: Option<u64>,
    retained_at: u64,
}

impl Schedule {
    /// Does whatever is due at `now`.
    pub fn run(
        &mut self,
        conn: &Connection,
        config: &StoreConfig,
        shared: &Shared,
        now: u64,
    ) -> Result<(), StoreError> {
        let quarter = now / QUARTER_MS * QUARTER_MS;
        if self.closed_until != Some(quarter) {
            close_quarters(conn, quarter)?;
            self.closed_until = Some(quarter);
        }
        let today = now / DAY_MS * DAY_MS;
        if self.rolled_day != Some(today) {
            // The last two days: a day that ended while the server was down is rolled up now.
            for day in [today.saturating_sub(2 * DAY_MS), today.saturating_sub(DAY_MS)] {
                roll_day(conn, day)?;
            }
            self.rolled_day = Some(today);
        }
        if now >= self.retained_at + RETAIN_EVERY_MS {
            retain(conn, config, now)?;
            keep_within_budget(conn, config, shared)?;
            shared.bytes.store(db::used_bytes(conn)?, Ordering::Relaxed);
            self.retained_at = now;
        }
        Ok(())
    }
}

/// Turns every pending point before `until` (a quarter's start) into chunks: per series and
/// quarter, its points (tier 0) and its 1-minute buckets (tier 1).
pub fn close_quarters(conn: &Connection, until: u64) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    let mut groups: BTreeMap<(i64, u64), Vec<Point>> = BTreeMap::new();
    {
        let mut rows = tx.prepare_cached("SELECT series, t, v FROM pending WHERE t < ?1 ORDER BY series, t")?;
        let mut rows = rows.query(params![until as i64])?;
        while let Some(row) = rows.next()? {
            let (series, t, v): (i64, i64, f64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let t = u64::try_from(t).unwrap_or(0);
            groups.entry((series, t / QUARTER_MS * QUARTER_MS)).or_default().push(Point { t, v });
        }
    }
    for ((series, start), points) in groups {
        let points = merge_points(stored_points(&tx, series, start)?, points);
        put(&tx, series, Tier::Raw, start, start + QUARTER_MS, points.len(), &codec::encode_points(&points))?;
        let buckets = rollup::roll(&points, Tier::Minute.width_ms());
        put(&tx, series, Tier::Minute, start, start + QUARTER_MS, buckets.len(), &codec::encode_buckets(&buckets))?;
    }
    tx.prepare_cached("DELETE FROM pending WHERE t < ?1")?.execute(params![until as i64])?;
    tx.commit()?;
    Ok(())
}

/// Rolls the 1-minute buckets of the day starting at `day` into that day's 1-hour buckets, for
/// every series that has some and no 1-hour chunk for it yet.
pub fn roll_day(conn: &Connection, day: u64) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    let mut per_series: BTreeMap<i64, Vec<Bucket>> = BTreeMap::new();
    {
        let mut rows = tx.prepare_cached(
            "SELECT c.series, c.data FROM chunk c WHERE c.tier = 1 AND c.start >= ?1 AND c.start < ?2
             AND NOT EXISTS (SELECT 1 FROM chunk h WHERE h.series = c.series AND h.tier = 2 AND h.start = ?1)
             ORDER BY c.series, c.start",
        )?;
        let mut rows = rows.query(params![day as i64, (day + DAY_MS) as i64])?;
        while let Some(row) = rows.next()? {
            let series: i64 = row.get(0)?;
            let blob: Vec<u8> = row.get(1)?;
            let buckets = codec::decode_buckets(&blob).map_err(|e| StoreError::Chunk(e.to_string()))?;
            per_series.entry(series).or_default().extend(buckets);
        }
    }
    for (series, buckets) in per_series {
        let hours = rollup::merge(&buckets, Tier::Hour.width_ms());
        put(&tx, series, Tier::Hour, day, day + DAY_MS, hours.len(), &codec::encode_buckets(&hours))?;
    }
    tx.commit()?;
    Ok(())
}

/// The points already stored for `series` in the raw chunk starting at `start` (normally none:
/// a quarter is closed once; a clock set back can bring more).
fn stored_points(conn: &Connection, series: i64, start: u64) -> Result<Vec<Point>, StoreError> {
    let blob: Option<Vec<u8>> = conn
        .prepare_cached("SELECT data FROM chunk WHERE series = ?1 AND tier = 0 AND start = ?2")?
        .query_row(params![series, start as i64], |r| r.get(0))
        .optional()?;
    match blob {
        Some(b) => codec::decode_points(&b).map_err(|e| StoreError::Chunk(e.to_string())),
        None => Ok(Vec::new()),
    }
}

/// Two time-ordered runs of points as one, a later point replacing one at the same time.
fn merge_points(old: Vec<Point>, new: Vec<Point>) -> Vec<Point> {
    if old.is_empty() {
        return new;
    }
    let mut by_time: BTreeMap<u64, f64> = old.into_iter().map(|p| (p.t, p.v)).collect();
    by_time.extend(new.into_iter().map(|p| (p.t, p.v)));
    by_time.into_iter().map(|(t, v)| Point { t, v }).collect()
}

/// Writes (or replaces) the chunk of `series` in `tier` starting at `start`.
pub fn put(
    conn: &Connection,
    series: i64,
    tier: Tier,
    start: u64,
    end: u64,
    count: usize,
    data: &[u8],
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO chunk (series, tier, start, end, count, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![series, tier.code(), start as i64, end as i64, count as i64, data])?;
    Ok(())
}

/// Deletes what each tier keeps no longer.
fn retain(conn: &Connection, config: &StoreConfig, now: u64) -> Result<(), StoreError> {
    // `start < end`: bounding `start` too lets the index on it skip everything recent.
    let mut delete = conn.prepare_cached("DELETE FROM chunk WHERE start < ?2 AND tier = ?1 AND end <= ?2")?;
    for (tier, keep) in [(Tier::Raw, config.raw_for), (Tier::Minute, config.minute_for), (Tier::Hour, config.hour_for)]
    {
        let keep = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
        delete.execute(params![tier.code(), now.saturating_sub(keep) as i64])?;
    }
    Ok(())
}

/// Deletes the oldest chunks, a twentieth at a time, while the data is over the budget.
fn keep_within_budget(conn: &Connection, config: &StoreConfig, shared: &Shared) -> Result<(), StoreError> {
    while db::used_bytes(conn)? > config.max_bytes {
        let total: i64 = conn.query_row("SELECT count(*) FROM chunk", [], |r| r.get(0))?;
        if total == 0 {
            break;
        }
        let n = (total / 20).max(1);
        let deleted = conn
            .prepare_cached("DELETE FROM chunk WHERE id IN (SELECT id FROM chunk ORDER BY start LIMIT ?1)")?
            .execute(params![n])?;
        shared.evicted_chunks.fetch_add(deleted as u64, Ordering::Relaxed);
        if deleted == 0 {
            break;
        }
    }
    Ok(())
}
