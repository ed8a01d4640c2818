//! Reading the outbox: a channel's open rows (the delivery task's work), one row, a digest's
//! parts, the recent rows and the ones given up (the page and the API), counts per channel, and
//! an episode's peak from the history.

use livedash::alerts::{Severity, Side, Threshold};
use rusqlite::{Connection, Row as SqlRow, params};

use super::id::to_u64;
use crate::store::error::StoreError;
use crate::store::{db, read};

/// One outbox row as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its number.
    pub id: i64,
    /// The stable id receivers de-duplicate by.
    pub key: String,
    /// The channel's name.
    pub channel: String,
    /// `alert`, `reminder` or `digest`.
    pub kind: String,
    /// The `alert_event` row it tells of.
    pub event: Option<i64>,
    /// The rule.
    pub rule: String,
    /// The source.
    pub source: String,
    /// The series (`None`: a rule about the source).
    pub series: Option<String>,
    /// `firing` or `resolved`.
    pub status: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The value at the change.
    pub value: Option<f64>,
    /// The episode's peak as the machine saw it.
    pub peak: Option<f64>,
    /// The rule's threshold.
    pub threshold: Option<Threshold>,
    /// Why (a source's error).
    pub reason: Option<String>,
    /// The change's time (wall label, ms).
    pub ts_ms: u64,
    /// When the episode started firing (wall label, ms).
    pub started_ms: Option<u64>,
    /// `pending`, `held`, `sent`, `failed`, `moved`, `sent_elsewhere`, `merged` or `silenced`.
    pub state: String,
    /// Sends tried.
    pub attempts: u32,
    /// Failed tries on this channel (towards the fallback).
    pub failures: u32,
    /// The back-offs waited so far (monotonic, ms).
    pub waited_ms: u64,
    /// The receiver's last answer, or why it failed.
    pub last: Option<String>,
    /// When it was made (wall label, ms).
    pub created_ms: u64,
    /// When the next try is due (wall label, ms), while open.
    pub next_ms: Option<u64>,
    /// When it ended (wall label, ms).
    pub done_ms: Option<u64>,
    /// The digest it was merged into.
    pub parent: Option<i64>,
    /// The channel it was moved from.
    pub moved_from: Option<String>,
}

const COLUMNS: &str = "id, key, channel, kind, event, rule, source, series, status, severity, value, peak, threshold,
    side, reason, ts_ms, started_ms, state, attempts, failures, waited_ms, last, created_ms, next_ms, done_ms, parent,
    moved_from";

fn row(r: &SqlRow<'_>) -> rusqlite::Result<Row> {
    let threshold = r.get::<_, Option<f64>>(12)?.map(|value| Threshold {
        side: if r.get::<_, Option<String>>(13).ok().flatten().as_deref() == Some("below") {
            Side::Below
        } else {
            Side::Above
        },
        value,
        clear: value,
    });
    Ok(Row {
        id: r.get(0)?,
        key: r.get(1)?,
        channel: r.get(2)?,
        kind: r.get(3)?,
        event: r.get(4)?,
        rule: r.get(5)?,
        source: r.get(6)?,
        series: r.get(7)?,
        status: r.get(8)?,
        severity: if r.get::<_, String>(9)? == "critical" { Severity::Critical } else { Severity::Warning },
        value: r.get(10)?,
        peak: r.get(11)?,
        threshold,
        reason: r.get(14)?,
        ts_ms: to_u64(r.get(15)?),
        started_ms: r.get::<_, Option<i64>>(16)?.map(to_u64),
        state: r.get(17)?,
        attempts: u32::try_from(r.get::<_, i64>(18)?).unwrap_or(0),
        failures: u32::try_from(r.get::<_, i64>(19)?).unwrap_or(0),
        waited_ms: to_u64(r.get(20)?),
        last: r.get(21)?,
        created_ms: to_u64(r.get(22)?),
        next_ms: r.get::<_, Option<i64>>(23)?.map(to_u64),
        done_ms: r.get::<_, Option<i64>>(24)?.map(to_u64),
        parent: r.get(25)?,
        moved_from: r.get(26)?,
    })
}

fn query(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Row>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM notify_outbox {filter}");
    Ok(conn.prepare_cached(&sql)?.query_map(args, row)?.collect::<Result<Vec<_>, _>>()?)
}

/// Whether the file has the outbox's table (the writer makes it when it first opens the file).
pub fn ready(conn: &Connection) -> Result<bool, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'notify_outbox'",
        [],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// The open rows (pending or held) of `channel`, oldest first.
pub fn open(conn: &Connection, channel: &str) -> Result<Vec<Row>, StoreError> {
    query(conn, "WHERE channel = ?1 AND state IN ('pending', 'held') ORDER BY id", [channel])
}

/// Row `id`, if there is one.
pub fn get(conn: &Connection, id: i64) -> Result<Option<Row>, StoreError> {
    Ok(query(conn, "WHERE id = ?1", [id])?.pop())
}

/// The rows merged into digest row `parent`, oldest first.
pub fn parts(conn: &Connection, parent: i64) -> Result<Vec<Row>, StoreError> {
    query(conn, "WHERE parent = ?1 ORDER BY id", [parent])
}

/// The newest `limit` rows (of alerts of `rule`, or all), newest first.
pub fn recent(conn: &Connection, rule: Option<&str>, limit: usize) -> Result<Vec<Row>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    match rule {
        Some(rule) => query(conn, "WHERE rule = ?1 ORDER BY id DESC LIMIT ?2", params![rule, limit]),
        None => query(conn, "ORDER BY id DESC LIMIT ?1", [limit]),
    }
}

/// The newest `limit` rows given up (`failed`, or `moved` to a fallback), newest first.
pub fn given_up(conn: &Connection, limit: usize) -> Result<Vec<Row>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    query(conn, "WHERE state IN ('failed', 'moved') ORDER BY id DESC LIMIT ?1", [limit])
}

/// Per channel, how many rows are open (pending or held).
pub fn waiting(conn: &Connection) -> Result<Vec<(String, u64)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT channel, count(*) FROM notify_outbox WHERE state IN ('pending', 'held') GROUP BY channel",
        )?
        .query_map([], |r| Ok((r.get(0)?, to_u64(r.get(1)?))))?
        .collect::<Result<Vec<_>, _>>()?)
}

/// The worst value of `series` of `source` over `[from, to]` in the history (the highest for a
/// rule on the `above` side, the lowest for `below`); `None` when the store has no point there.
pub fn peak(
    conn: &Connection,
    source: &str,
    series: &str,
    (from, to): (u64, u64),
    side: Side,
) -> Result<Option<f64>, StoreError> {
    let Some(id) = db::find_series(conn, source, series)? else { return Ok(None) };
    let points = read::raw_points(conn, id, from, to)?;
    let worst = points.iter().map(|p| p.v).filter(|v| v.is_finite()).reduce(|a, b| match side {
        Side::Above => a.max(b),
        Side::Below => a.min(b),
    });
    Ok(worst)
}
