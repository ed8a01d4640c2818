//! Making a day's 1-hour roll-up again from its minute tier. Sealing keeps the hour tier whole as
//! points arrive; this step repairs what it did not make: the days of files written by older
//! versions (which rolled a day up once, only the two days before a start, and never again) and
//! hour chunks that were damaged. The days to do are rows of the `reroll` table (the migration
//! lists every day with minutes), a few at a time.
//!
//! Each hour keeps whichever summary holds more points: the one rolled from the minutes, or the one
//! already stored (whose minutes may have expired since).

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::damaged;
use super::{DAY_MS, put, roll_up_end};
use crate::store::error::StoreError;
use crate::store::{Bucket, Tier, codec, rollup};

/// Re-rolls up to `limit` listed days; returns whether any are left (1) or not (0) and how many
/// damaged chunks it set aside.
pub fn pending_days(conn: &Connection, limit: usize) -> Result<(u64, u64), StoreError> {
    let todo: Vec<(i64, i64)> = conn
        .prepare_cached("SELECT series, day FROM reroll ORDER BY day, series LIMIT ?1")?
        .query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut damaged = 0;
    for (series, day) in todo {
        let tx = conn.unchecked_transaction()?;
        damaged += reroll(&tx, series, u64::try_from(day).unwrap_or(0))?;
        tx.prepare_cached("DELETE FROM reroll WHERE series = ?1 AND day = ?2")?.execute(params![series, day])?;
        tx.commit()?;
    }
    let left: i64 = conn.query_row("SELECT EXISTS (SELECT 1 FROM reroll)", [], |r| r.get(0))?;
    Ok((u64::try_from(left).unwrap_or(0), damaged))
}

/// Re-rolls the day starting at `day` for every series with minutes in it; how many damaged
/// chunks it set aside.
pub fn roll_day(conn: &Connection, day: u64) -> Result<u64, StoreError> {
    let series: Vec<i64> = conn
        .prepare_cached("SELECT DISTINCT series FROM chunk WHERE tier = 1 AND start >= ?1 AND start < ?2")?
        .query_map(params![day as i64, (day + DAY_MS) as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let tx = conn.unchecked_transaction()?;
    let mut damaged = 0;
    for id in series {
        damaged += reroll(&tx, id, day)?;
    }
    tx.commit()?;
    Ok(damaged)
}

/// The hour roll-up of `series` for the day at `day`, made again from its minutes.
fn reroll(conn: &Connection, series: i64, day: u64) -> Result<u64, StoreError> {
    let mut damaged = 0;
    let starts: Vec<i64> = conn
        .prepare_cached("SELECT start FROM chunk WHERE series = ?1 AND tier = 1 AND start >= ?2 AND start < ?3")?
        .query_map(params![series, day as i64, (day + DAY_MS) as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut minutes = Vec::new();
    for start in starts {
        minutes.extend(
            damaged::buckets(conn, series, Tier::Minute, u64::try_from(start).unwrap_or(0))?.items(&mut damaged),
        );
    }
    let stored = damaged::buckets(conn, series, Tier::Hour, day)?.items(&mut damaged);
    let mut hours: BTreeMap<u64, Bucket> = stored.into_iter().map(|b| (b.t, b)).collect();
    for b in rollup::merge(&minutes, Tier::Hour.width_ms()) {
        if hours.get(&b.t).is_none_or(|old| old.count <= b.count) {
            hours.insert(b.t, b);
        }
    }
    if !hours.is_empty() {
        let hours: Vec<Bucket> = hours.into_values().collect();
        let end = roll_up_end(&hours, day, Tier::Hour.width_ms(), DAY_MS);
        put(conn, series, Tier::Hour, day, end, hours.len(), &codec::encode_buckets(&hours))?;
    }
    Ok(damaged)
}
