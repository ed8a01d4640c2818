//! The outbox's side of quiet hours and reminders: the rows quiet hours held summed up by one
//! digest row in one transaction ([`digest`]), and, for reminders, the alerts a channel was told
//! are firing and not told resolved since ([`told_firing`]) and how many reminders of an episode
//! were made ([`reminders_made`], so that a restart goes on counting and never reuses a key).

use livedash::alerts::Severity;
use rusqlite::{Connection, OptionalExtension, params};

use super::id::{stable_id, to_i64};
use super::read::{self, Row};
use super::write::{self, NewRow};
use crate::store::error::StoreError;

/// Sums `held` (rows of `channel` quiet hours held, oldest first) up in a pending digest row with
/// the stable `key`, made at `now_ms`: the digest is inserted and the rows marked `merged` into
/// it in ONE transaction, so that a crash leaves either the held rows or the digest of them. The
/// digest's source is its first row's (whose lease holder sends it in a cluster). Its number.
pub fn digest(conn: &Connection, channel: &str, key: &str, held: &[Row], now_ms: u64) -> Result<i64, StoreError> {
    let Some(first) = held.first() else { return Err(StoreError::Schema("a digest of nothing".into())) };
    let severity =
        if held.iter().any(|r| r.severity == Severity::Critical) { Severity::Critical } else { Severity::Warning };
    let row = NewRow {
        key: key.to_owned(),
        channel: channel.to_owned(),
        kind: "digest".into(),
        event: None,
        rule: "digest".into(),
        source: first.source.clone(),
        series: None,
        status: "firing".into(),
        severity,
        value: None,
        peak: None,
        threshold: None,
        reason: None,
        ts_ms: now_ms,
        started_ms: None,
        state: "pending".into(),
        created_ms: now_ms,
        parent: None,
        moved_from: None,
    };
    let tx = conn.unchecked_transaction()?;
    let parent = match write::insert(&tx, &row)? {
        Some(id) => id,
        // The same rows were summed up before (a digest of them is there): they go into it.
        None => tx
            .prepare_cached("SELECT id FROM notify_outbox WHERE key = ?1 AND channel = ?2")?
            .query_row(params![key, channel], |r| r.get(0))?,
    };
    for part in held {
        tx.prepare_cached(
            "UPDATE notify_outbox SET state = 'merged', parent = ?2, done_ms = ?3, next_ms = NULL
             WHERE id = ?1 AND state = 'held'",
        )?
        .execute(params![part.id, parent, to_i64(now_ms)])?;
    }
    tx.commit()?;
    Ok(parent)
}

/// The alert rows of `channel` whose alert was last told firing (sent, here or by another
/// instance, or in a digest) and not told resolved since: what reminders are about.
pub fn told_firing(conn: &Connection, channel: &str) -> Result<Vec<Row>, StoreError> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT o.id FROM notify_outbox o WHERE o.channel = ?1 AND o.kind = 'alert' AND o.moved_from IS NULL
             AND o.status = 'firing' AND o.state IN ('sent', 'sent_elsewhere', 'merged')
             AND o.id = (SELECT max(p.id) FROM notify_outbox p WHERE p.rule = o.rule AND p.source = o.source
                 AND coalesce(p.series, '') = coalesce(o.series, '') AND p.channel = o.channel AND p.kind = 'alert'
                 AND p.moved_from IS NULL AND (p.state != 'silenced' OR p.status = 'resolved'))
             ORDER BY o.id",
        )?
        .query_map([channel], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        rows.extend(read::get(conn, id)?);
    }
    Ok(rows)
}

/// How many reminders of `firing`'s episode were made on its channel.
pub fn reminders_made(conn: &Connection, firing: &Row) -> Result<u32, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM notify_outbox WHERE kind = 'reminder' AND channel = ?1 AND rule = ?2 AND source = ?3
             AND coalesce(series, '') = ?4 AND started_ms IS ?5",
        )?
        .query_row(
            params![
                firing.channel,
                firing.rule,
                firing.source,
                firing.series.as_deref().unwrap_or(""),
                firing.started_ms.map(to_i64)
            ],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Inserts reminder `n` (from 1) of `firing`'s episode, at `now_ms`, with the alert's value and
/// peak now (`(value, peak)`):
/// a pending row of kind `reminder` whose key is stable (the same on every instance that makes
/// the same reminder, so that one of them sends it). Its number, or `None` when it was there.
pub fn remind(
    conn: &Connection,
    firing: &Row,
    n: u32,
    (value, peak): (Option<f64>, Option<f64>),
    now_ms: u64,
) -> Result<Option<i64>, StoreError> {
    let started = firing.started_ms.unwrap_or(firing.ts_ms);
    let key = stable_id(&firing.rule, &firing.source, firing.series.as_deref(), &format!("reminder {n}"), started);
    write::insert(
        conn,
        &NewRow {
            key,
            channel: firing.channel.clone(),
            kind: "reminder".into(),
            event: firing.event,
            rule: firing.rule.clone(),
            source: firing.source.clone(),
            series: firing.series.clone(),
            status: "firing".into(),
            severity: firing.severity,
            value: value.or(firing.value),
            peak: peak.or(firing.peak),
            threshold: firing.threshold,
            reason: firing.reason.clone(),
            ts_ms: now_ms,
            started_ms: firing.started_ms,
            state: "pending".into(),
            created_ms: now_ms,
            parent: None,
            moved_from: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use livedash::alerts::{AlertEvent, AlertState, Severity};

    use super::*;
    use crate::store::alerts::{AlertWrite, write as write_alerts};
    use crate::store::outbox::Outgoing;

    fn event(rule: &str, to: AlertState, ts_ms: u64) -> AlertWrite {
        let e = AlertEvent {
            id: 0,
            rule: Arc::from(rule),
            source: Arc::from("up"),
            series: Some(Arc::from("v")),
            from: AlertState::Pending,
            to,
            value: Some(95.0),
            peak: Some(95.0),
            ts_ms,
            severity: Severity::Warning,
            token: 0,
        };
        AlertWrite::Event(e, Outgoing { channels: vec![Arc::from("ops")], ..Outgoing::default() })
    }

    fn all(conn: &Connection) -> Vec<Row> {
        let mut rows = read::recent(conn, None, 100).expect("rows");
        rows.reverse();
        rows
    }

    #[test]
    fn held_rows_go_into_one_digest_in_one_step() {
        let (_config, conn) = crate::store::temp_store("outbox-digest");
        let writes = [event("hot", AlertState::Firing, 1000), event("blip", AlertState::Firing, 2000)];
        write_alerts(&conn, &writes, 10).expect("written");
        let held = all(&conn);
        write::set_open(&conn, &held.iter().map(|r| r.id).collect::<Vec<_>>(), "held").expect("held");
        let held = all(&conn);
        let id = digest(&conn, "ops", "k", &held, 5000).expect("a digest");
        let rows = all(&conn);
        let parent = rows.iter().find(|r| r.id == id).expect("the digest row");
        assert_eq!((parent.kind.as_str(), parent.state.as_str(), parent.source.as_str()), ("digest", "pending", "up"));
        let parts = read::parts(&conn, id).expect("parts");
        assert_eq!(parts.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>(), ["hot", "blip"]);
        assert!(parts.iter().all(|r| r.state == "merged"));
        // The same rows again (a pass that raced): the same digest, nothing new.
        assert_eq!(digest(&conn, "ops", "k", &held, 6000).expect("the same"), id);
        assert_eq!(all(&conn).len(), 3);
    }

    #[test]
    fn reminders_are_about_what_was_told_firing_and_count_on() {
        let (_config, conn) = crate::store::temp_store("outbox-remind");
        write_alerts(&conn, &[event("hot", AlertState::Firing, 1000)], 10).expect("written");
        assert!(told_firing(&conn, "ops").expect("read").is_empty(), "not sent yet: nothing to remind of");
        let firing = all(&conn).remove(0);
        write::sent(&conn, &[firing.id], "200", 1500).expect("sent");
        let told = told_firing(&conn, "ops").expect("read");
        assert_eq!(told.len(), 1);
        assert_eq!(reminders_made(&conn, &told[0]).expect("count"), 0);
        let first = remind(&conn, &told[0], 1, (Some(97.0), Some(99.0)), 9000).expect("inserted");
        assert!(first.is_some());
        assert!(remind(&conn, &told[0], 1, (None, None), 9500).expect("ignored").is_none(), "one row per key");
        assert_eq!(reminders_made(&conn, &told[0]).expect("count"), 1);
        let reminder = all(&conn).into_iter().find(|r| r.kind == "reminder").expect("the reminder");
        assert_eq!((reminder.value, reminder.peak, reminder.started_ms), (Some(97.0), Some(99.0), Some(1000)));
        assert_ne!(reminder.key, firing.key);
        // Its resolution written: nothing to remind of any more.
        write_alerts(&conn, &[event("hot", AlertState::Resolved, 20_000)], 10).expect("written");
        assert!(told_firing(&conn, "ops").expect("read").is_empty());
    }
}
