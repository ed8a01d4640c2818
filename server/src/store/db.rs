//! The store's file: opening it (WAL, a busy timeout, the schema), and the tables it holds.
//!
//! - `series`: one row per `(source, name)`, numbered.
//! - `pending`: the points not yet in a chunk, one row each (a quarter of an hour at most).
//! - `chunk`: compressed chunks of points (tier 0) or roll-up buckets (tiers 1 and 2) per series,
//!   each covering `[start, end)`: an ordinary table (a chunk of a kilobyte or two fits in its
//!   page), with a unique index on `(series, tier, start)` and one on `(tier, start)` for ageing.
//! - `run`: each life of the server (`start`, the last time it wrote), so that the time it was
//!   down shows as a gap.
//! - `reroll`: days whose 1-hour roll-up is to be made again from the minute tier; `damaged`:
//!   chunks that did not decode, set aside ([`super::migrate`] makes and updates them all).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::error::StoreError;
use super::migrate;

/// Opens (creating if needed) the store at `path` for writing, its schema brought to the current
/// version ([`migrate`]).
pub fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open(path.to_owned(), e.to_string()))?;
    }
    let conn = Connection::open(path).map_err(|e| StoreError::Open(path.to_owned(), e.to_string()))?;
    // A disk (or another process) that holds the writer up longer than this is reported: the
    // batch is dropped, counted, and the next one tries again.
    conn.busy_timeout(Duration::from_secs(2))?;
    // Free pages go back to the file system when the budget asks (`incremental_vacuum`); on a new
    // file this must come before the first table.
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    if pages == 0 {
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
    }
    // WAL: readers never block the writer; NORMAL: a power cut may lose the last transactions,
    // never the file; the integrity of what was committed is SQLite's.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Open(path.to_owned(), format!("could not switch to WAL (journal mode {mode})")));
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;")?;
    migrate::migrate(&conn).map_err(|e| match e {
        StoreError::Schema(why) => StoreError::Open(path.to_owned(), why),
        e => e,
    })?;
    let vacuum: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
    if vacuum != 2 {
        // A file made before incremental vacuum: rewritten once (atomic; needs its size again
        // in free space for a moment).
        tracing::info!(path = %path.display(), "history store: converting the file for incremental vacuum (once)");
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")?;
    }
    Ok(conn)
}

/// Keeps the write-ahead log small beside a budget of `max_bytes`: checkpointed every 1/16 of it
/// (at least 64 KiB, at most 4 MiB) and cut back to that size after each checkpoint.
pub fn limit_wal(conn: &Connection, max_bytes: u64) -> Result<(), StoreError> {
    let limit = (max_bytes / 16).clamp(64 << 10, 4 << 20);
    let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let pages = (limit / u64::try_from(page.max(512)).unwrap_or(4096)).max(16);
    let _: i64 = conn.query_row(&format!("PRAGMA journal_size_limit = {limit}"), [], |r| r.get(0))?;
    let _: i64 = conn.query_row(&format!("PRAGMA wal_autocheckpoint = {pages}"), [], |r| r.get(0))?;
    Ok(())
}

/// Opens the store at `path` for reading only (queries run on connections of their own).
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open(path.to_owned(), e.to_string()))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// The number of series `(source, name)`, made if it is new.
pub fn series_id(conn: &Connection, source: &str, name: &str) -> Result<i64, StoreError> {
    if let Some(id) = find_series(conn, source, name)? {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO series (source, name) VALUES (?1, ?2)")?.execute(params![source, name])?;
    Ok(conn.last_insert_rowid())
}

/// The number of series `(source, name)`, if it exists.
pub fn find_series(conn: &Connection, source: &str, name: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM series WHERE source = ?1 AND name = ?2")?
        .query_row(params![source, name], |r| r.get(0))
        .optional()?)
}

/// The bytes the file takes on disk: its pages (free ones included) and its write-ahead log.
pub fn file_bytes(conn: &Connection, path: &Path) -> Result<u64, StoreError> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::fs::metadata(&wal).map_or(0, |m| m.len());
    Ok(u64::try_from(pages.max(0) * size).unwrap_or(0) + wal)
}

/// The bytes the file's live pages take (free pages not counted: SQLite reuses them).
pub fn used_bytes(conn: &Connection) -> Result<u64, StoreError> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(u64::try_from((pages - free).max(0) * size).unwrap_or(0))
}
