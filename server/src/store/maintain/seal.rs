//! Sealing pending points into chunks, in one transaction. Per series and quarter hour:
//!
//! - the points new to the store go into a raw chunk of their own (a segment of the quarter, from
//!   its first point to its last), merged with any stored segment they overlap (a point at the
//!   same millisecond replaced); once the quarter has ended (by the data's own time), its
//!   segments are compacted into one chunk starting at the quarter, so each is rewritten once;
//! - their 1-minute buckets are combined into the quarter's minute roll-up, and their 1-hour
//!   buckets into their day's hour roll-up: never replaced, so a roll-up keeps what it summed up
//!   even when the raw points under it are gone (expired, evicted, damaged), and every hour with
//!   data has its bucket as soon as it is sealed, however late its points come.
//!
//! Sealing often is cheap: a seal writes its new points once, plus two small roll-up chunks.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, params};

use super::damaged::{self, Read};
use super::{DAY_MS, QUARTER_MS, put, roll_up_end};
use crate::store::error::StoreError;
use crate::store::rollup::{self, combine};
use crate::store::{Bucket, Point, Tier, codec};

/// What a seal did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    /// Points moved out of `pending`.
    pub points: u64,
    /// Chunks found damaged and set aside.
    pub damaged: u64,
}

/// Seals every pending point before `until` (ms; any time), and compacts the quarters that ended
/// before it.
pub fn close_quarters(conn: &Connection, until: u64) -> Result<Sealed, StoreError> {
    let until_sql = i64::try_from(until).unwrap_or(i64::MAX);
    let tx = conn.unchecked_transaction()?;
    let mut groups: BTreeMap<(i64, u64), Vec<Point>> = BTreeMap::new();
    {
        let mut rows = tx.prepare_cached("SELECT series, t, v FROM pending WHERE t < ?1 ORDER BY series, t")?;
        let mut rows = rows.query(params![until_sql])?;
        while let Some(row) = rows.next()? {
            let (series, t, v): (i64, i64, f64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let t = u64::try_from(t).unwrap_or(0);
            groups.entry((series, t / QUARTER_MS * QUARTER_MS)).or_default().push(Point { t, v });
        }
    }
    let mut sealed = Sealed::default();
    for ((series, start), fresh) in groups {
        sealed.points += fresh.len() as u64;
        sealed.damaged += seal_quarter(&tx, series, start, fresh)?;
    }
    tx.prepare_cached("DELETE FROM pending WHERE t < ?1")?.execute(params![until_sql])?;
    sealed.damaged += compact(&tx, until.min(u64::MAX >> 2) / QUARTER_MS * QUARTER_MS)?;
    tx.commit()?;
    Ok(sealed)
}

/// Raw chunks: each one's start and points.
type Segments = Vec<(u64, Vec<Point>)>;

/// The stored raw chunks of `series` in the quarter at `quarter` overlapping `[first, last]`:
/// their starts and points (damaged ones set aside and left out), and how many were damaged.
fn overlapping(
    conn: &Connection,
    series: i64,
    quarter: u64,
    (first, last): (u64, u64),
) -> Result<(Segments, u64), StoreError> {
    let starts: Vec<i64> = conn
        .prepare_cached(
            "SELECT start FROM chunk WHERE series = ?1 AND tier = 0 AND start >= ?2 AND start < ?3
             AND start <= ?5 AND end > ?4",
        )?
        .query_map(params![series, quarter as i64, (quarter + QUARTER_MS) as i64, first as i64, last as i64], |r| {
            r.get(0)
        })?
        .collect::<Result<_, _>>()?;
    let (mut found, mut damaged) = (Vec::new(), 0);
    for start in starts {
        let start = u64::try_from(start).unwrap_or(0);
        match damaged::points(conn, series, start)? {
            Read::Found(points) => found.push((start, points)),
            Read::Missing => {}
            Read::Damaged => damaged += 1,
        }
    }
    Ok((found, damaged))
}

/// Deletes the raw chunks `stored` of `series` and returns their points and `more` as one
/// time-ordered run, a later point replacing one at the same millisecond.
fn absorb(conn: &Connection, series: i64, stored: Segments, more: Vec<Point>) -> Result<Vec<Point>, StoreError> {
    let mut by_time: BTreeMap<u64, f64> = BTreeMap::new();
    for (start, points) in stored {
        conn.prepare_cached("DELETE FROM chunk WHERE series = ?1 AND tier = 0 AND start = ?2")?
            .execute(params![series, start as i64])?;
        by_time.extend(points.into_iter().map(|p| (p.t, p.v)));
    }
    by_time.extend(more.into_iter().map(|p| (p.t, p.v)));
    Ok(by_time.into_iter().map(|(t, v)| Point { t, v }).collect())
}

/// Seals `fresh` (time-ordered points of one quarter) into the chunks of `series`; how many
/// damaged chunks it set aside.
fn seal_quarter(conn: &Connection, series: i64, quarter: u64, fresh: Vec<Point>) -> Result<u64, StoreError> {
    let (Some(first), Some(last)) = (fresh.first().map(|p| p.t), fresh.last().map(|p| p.t)) else { return Ok(0) };
    let (stored, mut damaged) = overlapping(conn, series, quarter, (first, last))?;
    let new: Vec<Point> = if stored.is_empty() {
        fresh.clone()
    } else {
        let known: std::collections::HashSet<u64> = stored.iter().flat_map(|(_, ps)| ps.iter().map(|p| p.t)).collect();
        fresh.iter().filter(|p| !known.contains(&p.t)).copied().collect()
    };
    // The segment: the overlapped ones and the fresh points, as one.
    let segment_start = stored.iter().map(|(s, _)| *s).min().unwrap_or(first).min(first);
    let all = absorb(conn, series, stored, fresh)?;
    let end = all.last().map_or(last, |p| p.t) + 1;
    put(conn, series, Tier::Raw, segment_start, end, all.len(), &codec::encode_points(&all))?;
    if new.is_empty() {
        return Ok(damaged);
    }

    let minutes = damaged::buckets(conn, series, Tier::Minute, quarter)?.items(&mut damaged);
    let minutes = merge_buckets(&minutes, &rollup::roll(&new, Tier::Minute.width_ms()));
    // A roll-up chunk ends where its data does (readers fill what comes after from the finer tier).
    let minute_end = roll_up_end(&minutes, quarter, Tier::Minute.width_ms(), QUARTER_MS);
    put(conn, series, Tier::Minute, quarter, minute_end, minutes.len(), &codec::encode_buckets(&minutes))?;

    let day = quarter / DAY_MS * DAY_MS;
    let hours = match damaged::buckets(conn, series, Tier::Hour, day)? {
        Read::Found(old) => old,
        Read::Missing => Vec::new(),
        Read::Damaged => {
            damaged += 1;
            // Made again from the minute tier by the reroll step.
            conn.prepare_cached("INSERT OR IGNORE INTO reroll (series, day) VALUES (?1, ?2)")?
                .execute(params![series, day as i64])?;
            Vec::new()
        }
    };
    let hours = merge_buckets(&hours, &rollup::roll(&new, Tier::Hour.width_ms()));
    let hour_end = roll_up_end(&hours, day, Tier::Hour.width_ms(), DAY_MS);
    put(conn, series, Tier::Hour, day, hour_end, hours.len(), &codec::encode_buckets(&hours))?;
    Ok(damaged)
}

/// Compacts the segments of every quarter of the day that ended before `before` into one chunk
/// per quarter; how many damaged chunks it set aside. (Older segments, left by a server that
/// stopped mid-quarter and came back a day later, stay as they are: read alike, a little larger.)
fn compact(conn: &Connection, before: u64) -> Result<u64, StoreError> {
    let segments: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT series, start FROM chunk WHERE tier = 0 AND start >= ?3 AND start < ?1 AND start % ?2 != 0",
        )?
        .query_map(
            params![
                i64::try_from(before).unwrap_or(i64::MAX),
                QUARTER_MS as i64,
                i64::try_from(before.saturating_sub(DAY_MS)).unwrap_or(0)
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<Result<_, _>>()?;
    let quarters: BTreeSet<(i64, u64)> = segments
        .into_iter()
        .map(|(series, start)| (series, u64::try_from(start).unwrap_or(0) / QUARTER_MS * QUARTER_MS))
        .collect();
    let mut damaged = 0;
    for (series, quarter) in quarters {
        let (stored, d) = overlapping(conn, series, quarter, (quarter, quarter + QUARTER_MS - 1))?;
        damaged += d;
        let all = absorb(conn, series, stored, Vec::new())?;
        if !all.is_empty() {
            put(conn, series, Tier::Raw, quarter, quarter + QUARTER_MS, all.len(), &codec::encode_points(&all))?;
        }
    }
    Ok(damaged)
}

/// Two time-ordered runs of buckets of one width as one; buckets starting at the same time are
/// combined (`old` before `new`).
pub fn merge_buckets(old: &[Bucket], new: &[Bucket]) -> Vec<Bucket> {
    let mut by_time: BTreeMap<u64, Bucket> = old.iter().map(|b| (b.t, *b)).collect();
    for b in new {
        let merged = match by_time.get(&b.t) {
            Some(o) => combine(&[*o, *b], b.t).unwrap_or(*b),
            None => *b,
        };
        by_time.insert(b.t, merged);
    }
    by_time.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_at_the_same_time_combine_and_others_join() {
        let a = Bucket { t: 0, min: 1.0, max: 2.0, mean: 1.5, last: 2.0, count: 2 };
        let b = Bucket { t: 0, min: 0.0, max: 9.0, mean: 4.5, last: 9.0, count: 2 };
        let c = Bucket { t: 60, min: 5.0, max: 5.0, mean: 5.0, last: 5.0, count: 1 };
        let merged = merge_buckets(&[a], &[b, c]);
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[0].min, merged[0].max, merged[0].mean, merged[0].count), (0.0, 9.0, 3.0, 4));
        assert_eq!(merged[1], c);
        assert_eq!(merge_buckets(&[], &[c]), [c]);
    }
}
