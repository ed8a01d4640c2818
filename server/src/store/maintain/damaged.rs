//! Chunks that do not decode (a flipped bit on disk, a bug of an older version): set aside into
//! the `damaged` table with the reason, so that no step trips over them again, and counted by the
//! caller (`store_chunks_damaged_total`). Nothing else is lost: the other chunks, and the roll-ups
//! that already summarise the damaged one, stay.

use rusqlite::{Connection, OptionalExtension, params};

use crate::clock::now_ms;
use crate::store::codec::CodecError;
use crate::store::error::StoreError;
use crate::store::{Bucket, Point, Tier, codec};

/// A chunk read for a step: its content, or why it is unusable (already set aside).
pub enum Read<T> {
    /// There is none.
    Missing,
    /// It decoded.
    Found(Vec<T>),
    /// It did not decode and was set aside.
    Damaged,
}

impl<T> Read<T> {
    /// Its items, none when missing or damaged; a damaged one is added to `damaged`.
    pub fn items(self, damaged: &mut u64) -> Vec<T> {
        match self {
            Self::Found(items) => items,
            Self::Missing => Vec::new(),
            Self::Damaged => {
                *damaged += 1;
                Vec::new()
            }
        }
    }
}

/// Moves the chunk `(series, tier, start)` into `damaged`, with `error`.
pub fn set_aside(conn: &Connection, series: i64, tier: Tier, start: u64, error: &CodecError) -> Result<(), StoreError> {
    let moved = conn
        .prepare_cached(
            "INSERT INTO damaged (series, tier, start, end, data, error, found)
             SELECT series, tier, start, end, data, ?4, ?5 FROM chunk WHERE series = ?1 AND tier = ?2 AND start = ?3",
        )?
        .execute(params![series, tier.code(), start as i64, error.to_string(), now_ms() as i64])?;
    conn.prepare_cached("DELETE FROM chunk WHERE series = ?1 AND tier = ?2 AND start = ?3")?.execute(params![
        series,
        tier.code(),
        start as i64
    ])?;
    if moved > 0 {
        tracing::warn!(series, tier = tier.name(), start, error = %error, "history store: a damaged chunk was set aside");
    }
    Ok(())
}

fn blob(conn: &Connection, series: i64, tier: Tier, start: u64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT data FROM chunk WHERE series = ?1 AND tier = ?2 AND start = ?3")?
        .query_row(params![series, tier.code(), start as i64], |r| r.get(0))
        .optional()?)
}

/// The raw chunk `(series, start)`; a damaged one is set aside.
pub fn points(conn: &Connection, series: i64, start: u64) -> Result<Read<Point>, StoreError> {
    decoded(conn, series, Tier::Raw, start, codec::decode_points)
}

/// The roll-up chunk `(series, tier, start)`; a damaged one is set aside.
pub fn buckets(conn: &Connection, series: i64, tier: Tier, start: u64) -> Result<Read<Bucket>, StoreError> {
    decoded(conn, series, tier, start, codec::decode_buckets)
}

fn decoded<T>(
    conn: &Connection,
    series: i64,
    tier: Tier,
    start: u64,
    decode: fn(&[u8]) -> Result<Vec<T>, CodecError>,
) -> Result<Read<T>, StoreError> {
    let Some(b) = blob(conn, series, tier, start)? else { return Ok(Read::Missing) };
    match decode(&b) {
        Ok(items) => Ok(Read::Found(items)),
        Err(e) => {
            set_aside(conn, series, tier, start, &e)?;
            Ok(Read::Damaged)
        }
    }
}
