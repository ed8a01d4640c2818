//! The alerts' rows (schema 4): every state change (`alert_event`), each instance's state so that a
//! restart neither forgets a firing alert nor fires it again (`alert_instance`), and silences and
//! acknowledgements with who made them, until when and why (`alert_hush`). Written by the one
//! writer ([`AlertWrite`], handed over like samples, never waited for), read here on connections
//! of their own.

use std::path::Path;
use std::sync::Arc;

use livedash::alerts::{AlertEvent, AlertState, Hush, Severity};
use rusqlite::{Connection, OptionalExtension, params};

use super::db;
use super::error::StoreError;

/// An instance's state as kept: see the alerts' `machine::Saved`.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRow {
    /// Rule name, source, series (`""` for a rule about the source).
    pub key: (String, String, String),
    /// Ok, pending or firing.
    pub state: AlertState,
    /// Since when (wall label, ms).
    pub since_ms: u64,
    /// The countdown's time already spent (ms).
    pub spent_ms: u64,
    /// Firing with the condition ended (counting towards `keep_firing_for`).
    pub cleared: bool,
    /// The last value.
    pub value: Option<f64>,
    /// The episode's peak.
    pub peak: Option<f64>,
}

/// A silence (of a rule, optionally one source and series) or an acknowledgement (of one
/// instance).
#[derive(Debug, Clone, PartialEq)]
pub struct HushRow {
    /// An acknowledgement rather than a silence.
    pub ack: bool,
    /// The rule.
    pub rule: String,
    /// The source (`None`: all).
    pub source: Option<String>,
    /// The series (`None`: all).
    pub series: Option<String>,
    /// Who, when, until, why.
    pub hush: Hush,
}

/// What the writer is handed for the alerts.
#[derive(Debug, Clone)]
pub enum AlertWrite {
    /// A state change.
    Event(AlertEvent),
    /// An instance's state.
    Instance(InstanceRow),
    /// A silence or an acknowledgement made.
    Hush(HushRow),
    /// The acknowledgements of this instance end (it resolved).
    EndAcks((String, String, String)),
}

/// The tables, made by the step to version 4.
pub const TABLES: &str = "
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

fn state_word(s: AlertState) -> &'static str {
    s.as_str()
}

fn state_of(word: &str) -> AlertState {
    match word {
        "pending" => AlertState::Pending,
        "firing" => AlertState::Firing,
        "resolved" => AlertState::Resolved,
        "no_data" => AlertState::NoData,
        "error" => AlertState::Error,
        _ => AlertState::Ok,
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Writes `writes` in one transaction.
pub fn write(conn: &Connection, writes: &[AlertWrite]) -> Result<(), StoreError> {
    if writes.is_empty() {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    for w in writes {
        match w {
            AlertWrite::Event(e) => {
                let severity = if e.severity == Severity::Critical { "critical" } else { "warning" };
                tx.prepare_cached(
                    "INSERT INTO alert_event (rule, source, series, from_state, to_state, value, peak, ts_ms,
                     severity, token) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    &*e.rule,
                    &*e.source,
                    e.series.as_deref(),
                    state_word(e.from),
                    state_word(e.to),
                    e.value,
                    e.peak,
                    to_i64(e.ts_ms),
                    severity,
                    to_i64(e.token)
                ])?;
            }
            AlertWrite::Instance(r) => {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO alert_instance (rule, source, series, state, since_ms, spent_ms,
                     cleared, value, peak) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(params![
                    r.key.0,
                    r.key.1,
                    r.key.2,
                    state_word(r.state),
                    to_i64(r.since_ms),
                    to_i64(r.spent_ms),
                    r.cleared,
                    r.value,
                    r.peak
                ])?;
            }
            AlertWrite::Hush(h) => {
                tx.prepare_cached(
                    "INSERT INTO alert_hush (kind, rule, source, series, by_user, at_ms, until_ms, comment)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    if h.ack { "ack" } else { "silence" },
                    h.rule,
                    h.source,
                    h.series,
                    h.hush.by,
                    to_i64(h.hush.at_ms),
                    h.hush.until_ms.map(to_i64),
                    h.hush.comment
                ])?;
            }
            AlertWrite::EndAcks((rule, source, series)) => {
                tx.prepare_cached(
                    "UPDATE alert_hush SET ended = 1 WHERE kind = 'ack' AND ended = 0 AND rule = ?1
                     AND source = ?2 AND coalesce(series, '') = ?3",
                )?
                .execute(params![rule, source, series])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Whether `e` says a table is missing (a file from before version 4, not migrated yet: it has
/// no alerts).
fn missing_table(e: &rusqlite::Error) -> bool {
    e.to_string().contains("no such table")
}

/// Opens the store at `path` for reading, `None` when there is no file yet.
fn reader(path: &Path) -> Result<Option<Connection>, StoreError> {
    if !path.exists() {
        return Ok(None);
    }
    db::open_reader(path).map(Some)
}

/// The instances kept, and the silences and acknowledgements that have not ended (those whose
/// end, a wall label, is after `now_ms`, or that have none).
pub fn load(path: &Path, now_ms: u64) -> Result<(Vec<InstanceRow>, Vec<HushRow>), StoreError> {
    let Some(conn) = reader(path)? else { return Ok((Vec::new(), Vec::new())) };
    let instances = conn
        .prepare("SELECT rule, source, series, state, since_ms, spent_ms, cleared, value, peak FROM alert_instance");
    let instances = match instances {
        Err(e) if missing_table(&e) => return Ok((Vec::new(), Vec::new())),
        other => other?,
    }
    .query_map([], |r| {
        Ok(InstanceRow {
            key: (r.get(0)?, r.get(1)?, r.get(2)?),
            state: state_of(&r.get::<_, String>(3)?),
            since_ms: r.get::<_, i64>(4)?.max(0).unsigned_abs(),
            spent_ms: r.get::<_, i64>(5)?.max(0).unsigned_abs(),
            cleared: r.get(6)?,
            value: r.get(7)?,
            peak: r.get(8)?,
        })
    })?
    .collect::<Result<Vec<_>, _>>()?;
    let hushes = conn
        .prepare(
            "SELECT kind, rule, source, series, by_user, at_ms, until_ms, comment FROM alert_hush
             WHERE ended = 0 AND (until_ms IS NULL OR until_ms > ?1) ORDER BY id",
        )?
        .query_map([to_i64(now_ms)], |r| {
            Ok(HushRow {
                ack: r.get::<_, String>(0)? == "ack",
                rule: r.get(1)?,
                source: r.get(2)?,
                series: r.get(3)?,
                hush: Hush {
                    by: r.get(4)?,
                    at_ms: r.get::<_, i64>(5)?.max(0).unsigned_abs(),
                    until_ms: r.get::<_, Option<i64>>(6)?.map(|v| v.max(0).unsigned_abs()),
                    comment: r.get(7)?,
                },
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((instances, hushes))
}

/// The events from `from_ms` to `to_ms` (inclusive), the newest `limit`, oldest first.
pub fn events(path: &Path, from_ms: u64, to_ms: u64, limit: usize) -> Result<Vec<AlertEvent>, StoreError> {
    let Some(conn) = reader(path)? else { return Ok(Vec::new()) };
    let stmt = conn.prepare(
        "SELECT id, rule, source, series, from_state, to_state, value, peak, ts_ms, severity, token FROM alert_event
         WHERE ts_ms BETWEEN ?1 AND ?2 ORDER BY ts_ms DESC, id DESC LIMIT ?3",
    );
    let mut stmt = match stmt {
        Err(e) if missing_table(&e) => return Ok(Vec::new()),
        other => other?,
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut out = stmt
        .query_map(params![to_i64(from_ms), to_i64(to_ms), limit], |r| {
            Ok(AlertEvent {
                id: r.get(0)?,
                rule: Arc::from(r.get::<_, String>(1)?),
                source: Arc::from(r.get::<_, String>(2)?),
                series: r.get::<_, Option<String>>(3)?.map(Arc::from),
                from: state_of(&r.get::<_, String>(4)?),
                to: state_of(&r.get::<_, String>(5)?),
                value: r.get(6)?,
                peak: r.get(7)?,
                ts_ms: r.get::<_, i64>(8)?.max(0).unsigned_abs(),
                severity: if r.get::<_, String>(9)? == "critical" { Severity::Critical } else { Severity::Warning },
                token: r.get::<_, i64>(10)?.max(0).unsigned_abs(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    out.reverse();
    Ok(out)
}

/// How many events the store holds that entered `to` (for tests and checks).
pub fn count_events(conn: &Connection, to: AlertState) -> Result<u64, StoreError> {
    let n: Option<i64> = conn
        .query_row("SELECT count(*) FROM alert_event WHERE to_state = ?1", [state_word(to)], |r| r.get(0))
        .optional()?;
    Ok(n.unwrap_or(0).max(0).unsigned_abs())
}
