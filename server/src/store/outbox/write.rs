//! Writing the outbox: the rows of an alert's change (which changes notify, and whom), any other
//! row (a reminder, a digest), and each try's outcome.

use std::sync::Arc;

use livedash::alerts::{AlertEvent, AlertState, Severity, Side, Threshold};
use rusqlite::{Connection, OptionalExtension, params};

use super::id::{stable_id, to_i64, to_u64};
use crate::store::error::StoreError;

/// What the alerts hand with an event for its notifications.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outgoing {
    /// The channels to tell (the rule's `notify`, or every channel when it names none).
    pub channels: Vec<Arc<str>>,
    /// The rule's threshold, if it has one.
    pub threshold: Option<Threshold>,
    /// Why a source-level alert fired (the fetch's error), if known.
    pub reason: Option<String>,
    /// A silence covered the instance when it changed: its rows are written `silenced`.
    pub silenced: bool,
}

/// A row to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    /// The stable id ([`super::stable_id`]).
    pub key: String,
    /// The channel's name.
    pub channel: String,
    /// `alert`, `reminder` or `digest`.
    pub kind: String,
    /// The `alert_event` row it tells of, if one.
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
    /// `pending`, `held` or `silenced`.
    pub state: String,
    /// Now (wall label, ms).
    pub created_ms: u64,
    /// The digest it is part of.
    pub parent: Option<i64>,
    /// The channel it was moved from (a fallback's row).
    pub moved_from: Option<String>,
}

/// Inserts `row`; its number, or `None` when that (key, channel) is already there.
pub fn insert(conn: &Connection, row: &NewRow) -> Result<Option<i64>, StoreError> {
    let (threshold, side) = match row.threshold {
        Some(t) => (Some(t.value), Some(if t.side == Side::Above { "above" } else { "below" })),
        None => (None, None),
    };
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO notify_outbox (key, channel, kind, event, rule, source, series, status, severity,
             value, peak, threshold, side, reason, ts_ms, started_ms, state, created_ms, next_ms, parent, moved_from)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18, ?19, ?20)",
        )?
        .execute(params![
            row.key,
            row.channel,
            row.kind,
            row.event,
            row.rule,
            row.source,
            row.series,
            row.status,
            if row.severity == Severity::Critical { "critical" } else { "warning" },
            row.value,
            row.peak,
            threshold,
            side,
            row.reason,
            to_i64(row.ts_ms),
            row.started_ms.map(to_i64),
            row.state,
            to_i64(row.created_ms),
            row.parent,
            row.moved_from
        ])?;
    Ok((n > 0).then(|| conn.last_insert_rowid()))
}

/// The rows of alert event `e` (stored as row `event`), inside the event's transaction: a new
/// episode's firing and its resolution notify; pending, ok, no data never do. Per (instance,
/// channel) what was last told decides: a firing after one already told (the same episode seen
/// again after no data or a restart) is not a new message, and a resolution is told only after
/// its firing was. A silenced change is written `silenced` (shown, never sent). Returns how many
/// rows were written.
pub fn for_event(
    conn: &Connection,
    event: i64,
    e: &AlertEvent,
    out: &Outgoing,
    now_ms: u64,
) -> Result<usize, StoreError> {
    let status = match e.to {
        AlertState::Firing => "firing",
        AlertState::Resolved => "resolved",
        _ => return Ok(0),
    };
    let series = e.series.as_deref();
    let fired_ms = if e.to == AlertState::Firing {
        Some(e.ts_ms)
    } else {
        conn.prepare_cached(
            "SELECT max(ts_ms) FROM alert_event WHERE rule = ?1 AND source = ?2 AND coalesce(series, '') = ?3
             AND to_state = 'firing' AND ts_ms <= ?4",
        )?
        .query_row(params![&*e.rule, &*e.source, series.unwrap_or(""), to_i64(e.ts_ms)], |r| {
            r.get::<_, Option<i64>>(0)
        })?
        .map(to_u64)
    };
    let key = stable_id(&e.rule, &e.source, series, status, e.ts_ms);
    let mut written = 0;
    for channel in &out.channels {
        let told = last_told(conn, &e.rule, &e.source, series, channel)?;
        let started_ms = match (e.to, told) {
            (AlertState::Firing, Some((status, _))) if status == "firing" => continue,
            (AlertState::Firing, _) => fired_ms,
            // The episode began when its firing was told (a firing seen again later is the same one).
            (_, Some((status, started))) if status == "firing" => started.or(fired_ms),
            _ => continue,
        };
        let row = NewRow {
            key: key.clone(),
            channel: channel.to_string(),
            kind: "alert".into(),
            event: Some(event),
            rule: e.rule.to_string(),
            source: e.source.to_string(),
            series: series.map(str::to_owned),
            status: status.into(),
            severity: e.severity,
            value: e.value,
            peak: e.peak,
            threshold: out.threshold,
            reason: out.reason.clone(),
            ts_ms: e.ts_ms,
            started_ms,
            state: if out.silenced { "silenced" } else { "pending" }.into(),
            created_ms: now_ms,
            parent: None,
            moved_from: None,
        };
        written += usize::from(insert(conn, &row)?.is_some());
    }
    Ok(written)
}

/// The status last told (or silenced at its resolution) of an instance on `channel`, and when
/// its episode started.
fn last_told(
    conn: &Connection,
    rule: &str,
    source: &str,
    series: Option<&str>,
    channel: &str,
) -> Result<Option<(String, Option<u64>)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT status, started_ms FROM notify_outbox WHERE rule = ?1 AND source = ?2 AND coalesce(series, '') = ?3
             AND channel = ?4 AND kind = 'alert' AND moved_from IS NULL AND (state != 'silenced' OR status = 'resolved')
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![rule, source, series.unwrap_or(""), channel], |r| {
            Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.map(to_u64)))
        })
        .optional()?)
}

/// Rows `ids` were accepted by the receiver (`answer`) at `now_ms`.
pub fn sent(conn: &Connection, ids: &[i64], answer: &str, now_ms: u64) -> Result<(), StoreError> {
    each(conn, ids, |tx, id| {
        tx.prepare_cached(
            "UPDATE notify_outbox SET state = 'sent', attempts = attempts + 1, last = ?2, done_ms = ?3, next_ms = NULL
             WHERE id = ?1",
        )?
        .execute(params![id, answer, to_i64(now_ms)])?;
        Ok(())
    })
}

/// A try of rows `ids` failed (`reason`) and is worth another: counted, with the back-off
/// `waited_ms` added to what they waited, and the next try's label `next_ms`.
pub fn retry(conn: &Connection, ids: &[i64], reason: &str, waited_ms: u64, next_ms: u64) -> Result<(), StoreError> {
    each(conn, ids, |tx, id| {
        tx.prepare_cached(
            "UPDATE notify_outbox SET attempts = attempts + 1, failures = failures + 1, last = ?2,
             waited_ms = waited_ms + ?3, next_ms = ?4 WHERE id = ?1",
        )?
        .execute(params![id, reason, to_i64(waited_ms), to_i64(next_ms)])?;
        Ok(())
    })
}

/// Rows `ids` end in `state` (`failed`, `sent_elsewhere`, `silenced`...), with `last` when given
/// (`tried`: the end came from a try, counted).
pub fn close(
    conn: &Connection,
    ids: &[i64],
    state: &str,
    last: Option<&str>,
    tried: bool,
    now_ms: u64,
) -> Result<(), StoreError> {
    each(conn, ids, |tx, id| {
        tx.prepare_cached(
            "UPDATE notify_outbox SET state = ?2, last = coalesce(?3, last), attempts = attempts + ?4, done_ms = ?5,
             next_ms = NULL WHERE id = ?1",
        )?
        .execute(params![id, state, last, i64::from(tried), to_i64(now_ms)])?;
        Ok(())
    })
}

/// Rows `ids` (pending or held) become `state` (`held` or `pending`), still open.
pub fn set_open(conn: &Connection, ids: &[i64], state: &str) -> Result<(), StoreError> {
    each(conn, ids, |tx, id| {
        tx.prepare_cached("UPDATE notify_outbox SET state = ?2 WHERE id = ?1 AND state IN ('pending', 'held')")?
            .execute(params![id, state])?;
        Ok(())
    })
}

/// Rows `ids` are summed up by the digest row `parent`: `merged`, pointing at it.
pub fn merge_into(conn: &Connection, ids: &[i64], parent: i64, now_ms: u64) -> Result<(), StoreError> {
    each(conn, ids, |tx, id| {
        tx.prepare_cached(
            "UPDATE notify_outbox SET state = 'merged', parent = ?2, done_ms = ?3, next_ms = NULL WHERE id = ?1",
        )?
        .execute(params![id, parent, to_i64(now_ms)])?;
        Ok(())
    })
}

/// Row `id`, given up on its channel after a try (`state`: `moved` after too many failures,
/// `failed` when refused; `reason` kept), moves to `fallback` with the same key: a pending row of
/// `fallback` takes over, in one transaction. The new row's number, or `None` when `fallback`
/// already had that key.
pub fn move_to(
    conn: &Connection,
    id: i64,
    fallback: &str,
    state: &str,
    reason: &str,
    now_ms: u64,
) -> Result<Option<i64>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    tx.prepare_cached(
        "UPDATE notify_outbox SET state = ?4, attempts = attempts + 1, failures = failures + 1, last = ?2,
         done_ms = ?3, next_ms = NULL WHERE id = ?1",
    )?
    .execute(params![id, reason, to_i64(now_ms), state])?;
    let n = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO notify_outbox (key, channel, kind, event, rule, source, series, status, severity,
             value, peak, threshold, side, reason, ts_ms, started_ms, state, created_ms, next_ms, parent, moved_from)
             SELECT key, ?2, kind, event, rule, source, series, status, severity, value, peak, threshold, side, reason,
             ts_ms, started_ms, 'pending', ?3, ?3, NULL, channel FROM notify_outbox WHERE id = ?1",
        )?
        .execute(params![id, fallback, to_i64(now_ms)])?;
    let new = (n > 0).then(|| tx.last_insert_rowid());
    tx.commit()?;
    Ok(new)
}

/// Runs `f` for each of `ids` in one transaction.
fn each(
    conn: &Connection,
    ids: &[i64],
    f: impl Fn(&Connection, i64) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    for &id in ids {
        f(&tx, id)?;
    }
    tx.commit()?;
    Ok(())
}
