//! Sealing pending points into chunks, in one transaction: per series and quarter, the points join
//! the quarter's raw chunk (merged with what it already holds), its 1-minute roll-up, and the
//! 1-hour roll-up of their day. Merges, never replaces:
//!
//! - the raw chunk is the union of what it held and the new points (a point at the same
//!   millisecond replaced);
//! - the minute roll-up is rolled from that union when the raw chunk was there; when it is gone
//!   (expired, evicted, damaged) and a minute roll-up exists, the new points' buckets are combined
//!   into it instead of replacing it;
//! - the hour roll-up takes the buckets of the points that are new to the store, combined into
//!   the hour buckets it has: every hour with data has its bucket as soon as it is sealed, however
//!   late its points come.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::damaged::{self, Read};
use super::{DAY_MS, QUARTER_MS, put};
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

/// Seals every pending point before `until` (ms; any time, not only a quarter's start).
pub fn close_quarters(conn: &Connection, until: u64) -> Result<Sealed, StoreError> {
    let until = i64::try_from(until).unwrap_or(i64::MAX);
    let tx = conn.unchecked_transaction()?;
    let mut groups: BTreeMap<(i64, u64), Vec<Point>> = BTreeMap::new();
    {
        let mut rows = tx.prepare_cached("SELECT series, t, v FROM pending WHERE t < ?1 ORDER BY series, t")?;
        let mut rows = rows.query(params![until])?;
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
    tx.prepare_cached("DELETE FROM pending WHERE t < ?1")?.execute(params![until])?;
    tx.commit()?;
    Ok(sealed)
}

/// Seals `fresh` (time-ordered points of one quarter) into the chunks of `series`; how many
/// damaged chunks it set aside.
fn seal_quarter(conn: &Connection, series: i64, start: u64, fresh: Vec<Point>) -> Result<u64, StoreError> {
    let end = start + QUARTER_MS;
    let mut damaged = 0;
    let stored = damaged::points(conn, series, start)?;
    let (all, new, raw_whole) = match stored {
        Read::Found(old) => {
            let new: Vec<Point> =
                fresh.iter().filter(|p| old.binary_search_by_key(&p.t, |o| o.t).is_err()).copied().collect();
            (merge_points(old, fresh), new, true)
        }
        Read::Missing => (fresh.clone(), fresh, false),
        Read::Damaged => {
            damaged += 1;
            (fresh.clone(), fresh, false)
        }
    };
    put(conn, series, Tier::Raw, start, end, all.len(), &codec::encode_points(&all))?;

    let minute = Tier::Minute.width_ms();
    let minutes = if raw_whole {
        rollup::roll(&all, minute)
    } else {
        match damaged::buckets(conn, series, Tier::Minute, start)? {
            Read::Found(old) => merge_buckets(&old, &rollup::roll(&new, minute)),
            Read::Missing => rollup::roll(&all, minute),
            Read::Damaged => {
                damaged += 1;
                rollup::roll(&all, minute)
            }
        }
    };
    put(conn, series, Tier::Minute, start, end, minutes.len(), &codec::encode_buckets(&minutes))?;

    if !new.is_empty() {
        let day = start / DAY_MS * DAY_MS;
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
        put(conn, series, Tier::Hour, day, day + DAY_MS, hours.len(), &codec::encode_buckets(&hours))?;
    }
    Ok(damaged)
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
