//! The store's file: opening it (WAL, a busy timeout, the schema), and the tables it holds.
//!
//! - `series`: one row per `(source, name)`, numbered.
//! - `pending`: the points not yet in a chunk, one row each (a quarter of an hour at most).
//! - `chunk`: compressed chunks of points (tier 0) or roll-up buckets (tiers 1 and 2) per series,
//!   each covering `[start, end)`: an ordinary table (a chunk of a kilobyte or two fits in its
//!   page), with a unique index on `(series, tier, start)` and one on `start` for ageing.
//! - `run`: each life of the server (`start`, the last time it wrote), so that the time it was
//!   down shows as a gap.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::error::StoreError;

/// The schema's version, kept in `PRAGMA user_version`.
const VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (source, name)
);
CREATE TABLE IF NOT EXISTS pending (
    series INTEGER NOT NULL,
    t INTEGER NOT NULL,
    v REAL NOT NULL,
    PRIMARY KEY (series, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunk (
    id INTEGER PRIMARY KEY,
    series INTEGER NOT NULL,
    tier INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    count INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS chunk_key ON chunk (series, tier, start);
CREATE INDEX IF NOT EXISTS chunk_age ON chunk (start);
CREATE TABLE IF NOT EXISTS run (
    start INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
";

/// Opens (creating if needed) the store at `path` for writing.
pub fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open(path.to_owned(), e.to_string()))?;
    }
    let conn = Connection::open(path).map_err(|e| StoreError::Open(path.to_owned(), e.to_string()))?;
    // A disk (or another process) that holds the writer up longer than this is reported: the
    // batch is dropped, counted, and the next one tries again.
    conn.busy_timeout(Duration::from_secs(2))?;
    // WAL: readers never block the writer; NORMAL: a power cut may lose the last transactions,
    // never the file; the integrity of what was committed is SQLite's.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Open(path.to_owned(), format!("could not switch to WAL (journal mode {mode})")));
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;")?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > VERSION {
        return Err(StoreError::Open(
            path.to_owned(),
            format!("made by a newer livedash (schema {version}, this one knows {VERSION})"),
        ));
    }
    if version == 1 {
        // Version 1 kept chunks in a WITHOUT ROWID table, whose rows over a quarter of a page
        // spill into overflow pages: a chunk of 1 KiB then took most of two pages.
        conn.execute_batch("BEGIN; DROP INDEX IF EXISTS chunk_age; ALTER TABLE chunk RENAME TO chunk_v1; COMMIT;")?;
    }
    conn.execute_batch(SCHEMA)?;
    if version == 1 {
        conn.execute_batch(
            "BEGIN; INSERT INTO chunk (series, tier, start, end, count, data)
             SELECT series, tier, start, end, count, data FROM chunk_v1; DROP TABLE chunk_v1; COMMIT;",
        )?;
    }
    conn.execute_batch(&format!("PRAGMA user_version = {VERSION}"))?;
    Ok(conn)
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

/// The bytes the file's live pages take (free pages not counted: SQLite reuses them).
pub fn used_bytes(conn: &Connection) -> Result<u64, StoreError> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(u64::try_from((pages - free).max(0) * size).unwrap_or(0))
}
