//! The byte budget: the whole file on disk (its pages, free ones included, and its write-ahead
//! log) kept within `--store-max-bytes`, measured from SQLite's page counts and the log's size,
//! never by scanning tables.
//!
//! Over the budget, in this order: free pages go back to the file system (incremental vacuum) and
//! the log is checkpointed and cut; then chunks are deleted, the finest tier first and the oldest within it, in
//! batches sized from the excess, until the file fits. 1-minute and 1-hour roll-ups, the only
//! long-range data, go only when no raw chunk is left.

use std::sync::atomic::Ordering;

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::db;
use crate::store::error::StoreError;
use crate::store::state::{Shared, StoreConfig};

/// The most rounds of one run (each deletes a batch and measures again).
const ROUNDS: usize = 64;
/// Bytes a pending point takes, about (a WITHOUT ROWID row of three numbers, with its b-tree share):
/// the schedule seals everything pending once they would take an eighth of the budget.
pub const PENDING_POINT_BYTES: u64 = 32;

/// Brings the file within the budget; whether it could.
pub fn keep_within(conn: &Connection, config: &StoreConfig, shared: &Shared) -> Result<bool, StoreError> {
    let max = config.max_bytes;
    if db::file_bytes(conn, &config.path)? <= max {
        return Ok(true);
    }
    reclaim(conn)?;
    // What a chunk frees, learnt from each batch (a first guess of a kilobyte), sizes the next.
    let mut per_chunk: u64 = 1024;
    let mut batch: u64 = 8;
    for _ in 0..ROUNDS {
        let size = db::file_bytes(conn, &config.path)?;
        if size <= max {
            return Ok(true);
        }
        let Some(tier) =
            conn.query_row("SELECT tier FROM chunk ORDER BY tier LIMIT 1", [], |r| r.get::<_, i64>(0)).optional()?
        else {
            break;
        };
        batch = ((size - max).div_ceil(per_chunk)).clamp(1, batch.saturating_mul(4).min(4096));
        let deleted = conn
            .prepare_cached(
                "DELETE FROM chunk WHERE id IN (SELECT id FROM chunk WHERE tier = ?1 ORDER BY start LIMIT ?2)",
            )?
            .execute(params![tier, i64::try_from(batch).unwrap_or(8)])?;
        shared.evicted_chunks.fetch_add(deleted as u64, Ordering::Relaxed);
        reclaim(conn)?;
        if deleted == 0 {
            break;
        }
        let freed = size.saturating_sub(db::file_bytes(conn, &config.path)?);
        per_chunk = (freed / deleted as u64).max(64);
    }
    let size = db::file_bytes(conn, &config.path)?;
    if size > max {
        tracing::warn!(size, max, "history store: over its byte budget with nothing left to evict");
    }
    Ok(size <= max)
}

/// Gives free pages back to the file system and cuts the write-ahead log.
fn reclaim(conn: &Connection) -> Result<(), StoreError> {
    // The pragma frees pages as it is stepped: stepped to its end.
    let mut vacuum = conn.prepare_cached("PRAGMA incremental_vacuum")?;
    let mut rows = vacuum.query([])?;
    while rows.next()?.is_some() {}
    // A reader in the middle of a query keeps the log from being cut: then it is cut next time.
    let _: (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(())
}
