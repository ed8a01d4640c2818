//! The schema's versions, each step from one to the next in ONE transaction that also bumps
//! `PRAGMA user_version` (SQLite keeps it in the file's header, written by the same transaction),
//! so a crash at any point leaves the file at one version or the next, never between: the next
//! start simply runs the step again.
//!
//! - 0 -> 6: a new file gets the current tables at once.
//! - 1 -> 2: chunks leave the WITHOUT ROWID table (whose rows over a quarter of a page spilled
//!   into overflow pages). Files left half-way by the old three-transaction step (a `chunk_v1`
//!   table beside or instead of `chunk`) are finished, not refused.
//! - 2 -> 3: the ageing index covers the tier (eviction goes finest tier first); `reroll` lists
//!   the days whose 1-hour roll-up must be made again from the minute tier (every day with
//!   minutes, once: older versions missed some); `damaged` holds chunks set aside.
//! - 3 -> 4: the alerts' tables: events, instances, silences (see [`super::alerts`]).
//! - 4 -> 5: the notifications' outbox, a row per (event, channel) (see [`super::outbox`]).
//! - 5 -> 6: the login's sessions, API tokens, second factors and audit log (see [`super::auth`]).
//!
//! `LIVEDASH_FAULT_MIGRATION=<step>` makes the process abort inside that step (`copy`: after
//! copying the chunks, before the transaction commits): the test of a crash mid-migration.

use rusqlite::Connection;

use super::error::StoreError;

/// The schema's version, kept in `PRAGMA user_version`.
pub const VERSION: i64 = 6;

const TABLES: &str = "
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
CREATE TABLE IF NOT EXISTS run (
    start INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
";

const CHUNK: &str = "
CREATE TABLE IF NOT EXISTS chunk (
    id INTEGER PRIMARY KEY,
    series INTEGER NOT NULL,
    tier INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    count INTEGER NOT NULL,
    data BLOB NOT NULL
);
";

const V3: &str = "
DROP INDEX IF EXISTS chunk_age;
CREATE UNIQUE INDEX IF NOT EXISTS chunk_key ON chunk (series, tier, start);
CREATE INDEX IF NOT EXISTS chunk_age ON chunk (tier, start);
CREATE TABLE IF NOT EXISTS reroll (
    series INTEGER NOT NULL,
    day INTEGER NOT NULL,
    PRIMARY KEY (series, day)
) WITHOUT ROWID;
ALTER TABLE run ADD COLUMN first INTEGER;
CREATE TABLE IF NOT EXISTS damaged (
    id INTEGER PRIMARY KEY,
    series INTEGER NOT NULL,
    tier INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    data BLOB NOT NULL,
    error TEXT NOT NULL,
    found INTEGER NOT NULL
);
";

/// The alerts' tables (see [`super::alerts`]), made by the step to version 4.
const ALERTS: &str = "
CREATE TABLE IF NOT EXISTS alert_event (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    source TEXT NOT NULL,
    series TEXT,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    value REAL,
    peak REAL,
    ts_ms INTEGER NOT NULL,
    severity TEXT NOT NULL,
    token INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alert_event_ts ON alert_event (ts_ms);
CREATE TABLE IF NOT EXISTS alert_instance (
    rule TEXT NOT NULL,
    source TEXT NOT NULL,
    series TEXT NOT NULL,
    state TEXT NOT NULL,
    since_ms INTEGER NOT NULL,
    spent_ms INTEGER NOT NULL,
    cleared INTEGER NOT NULL,
    value REAL,
    peak REAL,
    PRIMARY KEY (rule, source, series)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alert_hush (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    rule TEXT NOT NULL,
    source TEXT,
    series TEXT,
    by_user TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    until_ms INTEGER,
    comment TEXT NOT NULL,
    ended INTEGER NOT NULL DEFAULT 0
);
";

/// The table and its indexes, made by the step to version 5 (see [`super::outbox`]).
const OUTBOX: &str = "
CREATE TABLE IF NOT EXISTS notify_outbox (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    event INTEGER,
    rule TEXT NOT NULL,
    source TEXT NOT NULL,
    series TEXT,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    value REAL,
    peak REAL,
    threshold REAL,
    side TEXT,
    reason TEXT,
    ts_ms INTEGER NOT NULL,
    started_ms INTEGER,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    waited_ms INTEGER NOT NULL DEFAULT 0,
    last TEXT,
    created_ms INTEGER NOT NULL,
    next_ms INTEGER,
    done_ms INTEGER,
    parent INTEGER,
    moved_from TEXT,
    UNIQUE (key, channel)
);
CREATE INDEX IF NOT EXISTS notify_outbox_open ON notify_outbox (channel, state) WHERE state IN ('pending', 'held');
CREATE INDEX IF NOT EXISTS notify_outbox_alert ON notify_outbox (rule, source, series, channel, id);
CREATE INDEX IF NOT EXISTS notify_outbox_parent ON notify_outbox (parent) WHERE parent IS NOT NULL;
";

/// Brings the file to [`VERSION`], a step at a time.
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    loop {
        let version = version(conn)?;
        match version {
            VERSION => return Ok(()),
            v if v > VERSION => {
                return Err(StoreError::Schema(format!(
                    "made by a newer livedash (schema {v}, this one knows {VERSION})"
                )));
            }
            0 => step(conn, VERSION, |tx| {
                tx.execute_batch(TABLES)?;
                tx.execute_batch(CHUNK)?;
                tx.execute_batch(V3)?;
                tx.execute_batch(ALERTS)?;
                tx.execute_batch(OUTBOX)?;
                auth_tables(tx)
            })?,
            1 => step(conn, 2, v1_to_v2)?,
            2 => step(conn, 3, |tx| {
                tx.execute_batch(V3)?;
                tx.execute_batch(
                    "INSERT OR IGNORE INTO reroll (series, day)
                     SELECT DISTINCT series, start - start % 86400000 FROM chunk WHERE tier = 1",
                )?;
                Ok(())
            })?,
            3 => step(conn, 4, |tx| Ok(tx.execute_batch(ALERTS)?))?,
            4 => step(conn, 5, |tx| Ok(tx.execute_batch(OUTBOX)?))?,
            5 => step(conn, 6, auth_tables)?,
            v => return Err(StoreError::Schema(format!("schema {v} is not one livedash ever made"))),
        }
    }
}

/// The login's tables (schema 6).
fn auth_tables(tx: &Connection) -> Result<(), StoreError> {
    for group in super::auth::schema::ALL {
        tx.execute_batch(group)?;
    }
    Ok(())
}

/// The file's version.
pub fn version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Runs `body` and sets the version to `to`, in one immediate transaction.
fn step(
    conn: &Connection,
    to: i64,
    body: impl FnOnce(&Connection) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    // Another process (`livedash token create` beside a starting server) took the step while
    // this one waited for the lock: nothing to do (the caller reads the version again).
    if version(&tx)? >= to {
        return Ok(());
    }
    body(&tx)?;
    tx.execute_batch(&format!("PRAGMA user_version = {to}"))?;
    tx.commit()?;
    tracing::info!(version = to, "history store: schema updated");
    Ok(())
}

fn table_exists(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |r| {
        r.get::<_, i64>(0)
    })? > 0)
}

/// Version 1's chunks into the ordinary table, whatever an interrupted old migration left.
fn v1_to_v2(tx: &Connection) -> Result<(), StoreError> {
    tx.execute_batch(TABLES)?;
    if !table_exists(tx, "chunk_v1")? {
        tx.execute_batch("DROP INDEX IF EXISTS chunk_age; ALTER TABLE chunk RENAME TO chunk_v1;")?;
    }
    tx.execute_batch(CHUNK)?;
    tx.execute_batch(
        "INSERT OR IGNORE INTO chunk (series, tier, start, end, count, data)
         SELECT series, tier, start, end, count, data FROM chunk_v1",
    )?;
    fault("copy");
    tx.execute_batch(
        "DROP TABLE chunk_v1;
         CREATE UNIQUE INDEX IF NOT EXISTS chunk_key ON chunk (series, tier, start);
         CREATE INDEX IF NOT EXISTS chunk_age ON chunk (start);",
    )?;
    Ok(())
}

/// Aborts the process at `point` when `LIVEDASH_FAULT_MIGRATION` names it (a crash, for tests).
fn fault(point: &str) {
    if std::env::var("LIVEDASH_FAULT_MIGRATION").is_ok_and(|p| p == point) {
        tracing::error!(point, "LIVEDASH_FAULT_MIGRATION: aborting mid-migration");
        std::process::abort();
    }
}
