//! The alerts' rows (schema 4): every state change (`alert_event`), each instance's state so that a
//! restart neither forgets a firing alert nor fires it again (`alert_instance`), and silences and
//! acknowledgements with who made them, until when and why (`alert_hush`); the tables are made by
//! [`super::migrate`] (the step to version 4). Written by the one
//! writer ([`AlertWrite`], handed over like samples, never waited for), read here on connections
//! of their own.

use std::path::Path;
use std::sync::Arc;

use livedash::alerts::{AlertEvent, AlertState, Hush, Severity};
use rusqlite::{Connection, OptionalExtension, params};

use super::db;
use super::error::StoreError;
use super::outbox::Outgoing;

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
    /// A state change, with what its notifications need (its outbox rows are written in the same
    /// transaction: [`super::outbox::write::for_event`]).
    Event(AlertEvent, Outgoing),
    /// An instance's state.
    Instance(InstanceRow),
    /// A silence or an acknowledgement made.
    Hush(HushRow),
    /// The acknowledgements of this instance end (it resolved).
    EndAcks((String, String, String)),
}

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

/// Writes `writes` in one transaction, an event's outbox rows with it; how many outbox rows.
pub fn write(conn: &Connection, writes: &[AlertWrite], now_ms: u64) -> Result<usize, StoreError> {
    if writes.is_empty() {
        return Ok(0);
    }
    let tx = conn.unchecked_transaction()?;
    let mut outbox = 0;
    for w in writes {
        match w {
            AlertWrite::Event(e, out) => {
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
                outbox += super::outbox::write::for_event(&tx, tx.last_insert_rowid(), e, out, now_ms)?;
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
    Ok(outbox)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id_ts: u64, to: AlertState) -> AlertEvent {
        AlertEvent {
            id: 0,
            rule: Arc::from("busy"),
            source: Arc::from("up"),
            series: Some(Arc::from("v")),
            from: AlertState::Pending,
            to,
            value: Some(95.0),
            peak: Some(97.5),
            ts_ms: id_ts,
            severity: Severity::Critical,
            token: 7,
        }
    }

    #[test]
    fn events_instances_and_hushes_are_written_in_one_go_and_read_back() {
        let (config, conn) = super::super::temp_store("alert-rows");
        let key = ("busy".to_owned(), "up".to_owned(), "v".to_owned());
        let instance = InstanceRow {
            key: key.clone(),
            state: AlertState::Firing,
            since_ms: 1000,
            spent_ms: 0,
            cleared: false,
            value: Some(95.0),
            peak: Some(97.5),
        };
        let hush = |ack, until_ms| HushRow {
            ack,
            rule: "busy".into(),
            source: Some("up".into()),
            series: Some("v".into()),
            hush: Hush { by: "ann".into(), until_ms, comment: "on it".into(), at_ms: 900 },
        };
        let writes = [
            AlertWrite::Event(event(1000, AlertState::Firing), Outgoing::default()),
            AlertWrite::Event(event(2000, AlertState::Resolved), Outgoing::default()),
            AlertWrite::Instance(instance.clone()),
            AlertWrite::Hush(hush(false, Some(5000))),
            AlertWrite::Hush(hush(false, Some(1500))),
            AlertWrite::Hush(hush(true, None)),
        ];
        write(&conn, &writes, 0).expect("written");
        let (instances, hushes) = load(&config.path, 3000).expect("loads");
        assert_eq!(instances, [instance]);
        assert_eq!(hushes, [hush(false, Some(5000)), hush(true, None)], "the silence that ended at 1500 is not back");
        write(&conn, &[AlertWrite::EndAcks(key)], 0).expect("ended");
        assert_eq!(load(&config.path, 3000).expect("loads").1, [hush(false, Some(5000))]);
        let all = events(&config.path, 0, u64::MAX, 10).expect("events");
        assert_eq!(
            all.iter().map(|e| (e.ts_ms, e.to, e.token)).collect::<Vec<_>>(),
            [(1000, AlertState::Firing, 7), (2000, AlertState::Resolved, 7)]
        );
        assert!(all[0].id < all[1].id);
        assert_eq!(events(&config.path, 0, u64::MAX, 1).expect("the newest").len(), 1);
        assert_eq!(events(&config.path, 0, u64::MAX, 1).expect("the newest")[0].ts_ms, 2000);
        assert!(events(&config.path, 2001, 3000, 10).expect("none").is_empty());
        assert_eq!(count_events(&conn, AlertState::Firing).expect("counted"), 1);
    }

    #[test]
    fn a_file_without_the_alert_tables_has_no_alerts() {
        let config = super::super::state::StoreConfig::temporary("alert-old");
        std::fs::create_dir_all(config.path.parent().expect("dir")).expect("dir");
        Connection::open(&config.path).expect("open").execute_batch("CREATE TABLE x (y)").expect("a table");
        assert_eq!(load(&config.path, 0).expect("empty"), (Vec::new(), Vec::new()));
        assert!(events(&config.path, 0, 1, 1).expect("empty").is_empty());
    }
}
