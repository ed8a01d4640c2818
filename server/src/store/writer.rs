//! The one writer: takes samples from the bounded queue in batches, one transaction each, and
//! between batches closes the quarter-hours that ended into chunks (with their roll-ups) and keeps
//! the file within its retention and its byte budget ([`super::maintain`]).
//!
//! A failed batch (a busy, full or read-only disk) is counted as dropped and reported in
//! [`Shared`]; the next batch simply tries again, so writing resumes by itself.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use livedash::{Frame, flatten};
use rusqlite::{Connection, params};

use super::alerts::AlertWrite;
use super::error::StoreError;
use super::state::{Job, Shared, StoreConfig};
use super::{db, maintain};
use crate::clock::now_ms;

/// The most samples written in one transaction.
const MAX_BATCH: usize = 2000;
/// How long the writer waits for more before it writes what it has, and looks at maintenance.
const TICK: Duration = Duration::from_millis(500);

/// One sample's numeric series, parsed from its frame.
pub struct Parsed {
    source: Arc<str>,
    t: u64,
    values: Vec<(String, f64)>,
}

/// A sample frame's finite numeric series, without bookkeeping such as `seq`; `None` for any
/// other frame or text.
pub fn parse(text: &str) -> Option<Parsed> {
    let Ok(Frame::Sample(sample)) = Frame::from_json(text) else { return None };
    let value: serde_json::Value = serde_json::from_str(sample.data.get()).ok()?;
    let values =
        flatten(&value).into_iter().filter(|(name, v)| v.is_finite() && !livedash::series::is_meta(name)).collect();
    Some(Parsed { source: sample.source, t: sample.ts_ms, values })
}

/// Runs until the queue closes (or a `Stop`), then closes what it can and returns.
pub fn run(config: &StoreConfig, shared: &Arc<Shared>, jobs: &Receiver<Job>) {
    let mut conn: Option<Connection> = None;
    // The alerts' writes not kept yet (the file could not be opened, or a write failed): tried
    // again with the next batch, so that an event, and the notifications written with it, are
    // not lost to a busy disk for a moment.
    let mut alerts_owed = AlertsOwed::default();
    let mut next_open = Instant::now();
    let run_start = now_ms();
    let mut maint = maintain::Schedule::default();
    loop {
        let first = match jobs.recv_timeout(TICK) {
            Ok(job) => Some(job),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let mut alert_writes = std::mem::take(&mut alerts_owed.writes);
        let mut auth_writes = Vec::new();
        let mut stop = false;
        let mut take = |job: Job, batch: &mut Vec<Parsed>| match job {
            Job::Sample(text) => {
                if let Some(p) = parse(&text) {
                    batch.push(p);
                }
            }
            Job::Alert(write) => alert_writes.push(write),
            Job::Auth(write) => auth_writes.push(write),
            Job::Flush(done) => flushes.push(done),
            Job::Stop => stop = true,
        };
        if let Some(job) = first {
            take(job, &mut batch);
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => take(job, &mut batch),
                    Err(_) => break,
                }
            }
        }
        if conn.is_none() && Instant::now() >= next_open {
            match db::open_writer(&config.path).and_then(|c| db::limit_wal(&c, config.max_bytes).map(|()| c)) {
                Ok(c) => {
                    conn = Some(c);
                    shared.set_ok();
                }
                Err(e) => {
                    shared.set_failing(&e);
                    next_open = Instant::now() + Duration::from_secs(5);
                }
            }
        }
        let points: usize = batch.iter().map(|p| p.values.len()).sum();
        match conn.as_ref() {
            Some(c) => {
                // A batch written is never counted as lost because of a maintenance step after it.
                match write_batch(c, &batch, run_start) {
                    Ok(()) => {
                        shared.points_written.fetch_add(points as u64, Ordering::Relaxed);
                        shared.set_ok();
                        if let Some(newest) = batch.iter().map(|p| p.t).max() {
                            maint.written(newest, points as u64);
                        }
                    }
                    Err(e) => {
                        shared.points_dropped.fetch_add(points as u64, Ordering::Relaxed);
                        shared.set_failing(&e);
                    }
                }
                match super::alerts::write(c, &alert_writes, now_ms()) {
                    // The delivery tasks look at the outbox again.
                    Ok(rows) => {
                        alerts_owed.failing_since = None;
                        if rows > 0 {
                            shared.outbox.send_modify(|n| *n += 1);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, writes = alert_writes.len(), "history store: alert changes not kept yet; trying again");
                        shared.set_failing(&e);
                        alerts_owed.keep(alert_writes);
                    }
                }
                // Logins are few and each is kept when it happens: a failed write is logged, not
                // retried (a session still works from memory; the next write of it keeps it).
                if let Err(e) = super::auth::write(c, &auth_writes) {
                    tracing::warn!(error = %e, writes = auth_writes.len(), "history store: login changes not kept");
                    shared.set_failing(&e);
                }
                maint.run(c, config, shared, now_ms(), Instant::now());
            }
            None => {
                shared.points_dropped.fetch_add(points as u64, Ordering::Relaxed);
                alerts_owed.keep(alert_writes);
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
        if stop {
            break;
        }
    }
    if let Some(c) = conn.as_ref() {
        // What is pending is sealed too: a restart finds it in its chunks.
        match maintain::close_quarters(c, u64::MAX) {
            Ok(sealed) => shared.chunks_damaged.fetch_add(sealed.damaged, Ordering::Relaxed),
            Err(e) => {
                tracing::warn!(error = %e, "history store: the last seal failed (the points stay pending)");
                0
            }
        };
    }
}

/// The alerts' writes owed to the file, and since when its writes fail (monotonic).
#[derive(Default)]
struct AlertsOwed {
    writes: Vec<AlertWrite>,
    failing_since: Option<Instant>,
}

impl AlertsOwed {
    /// The most writes kept waiting (a state change or a silence each: hours of a storm).
    const MAX: usize = 100_000;
    /// How long they are tried again before they are given up.
    const FOR: Duration = Duration::from_secs(60);

    /// `writes` failed: kept for the next batch, unless the file has failed for too long or they
    /// are too many.
    fn keep(&mut self, writes: Vec<AlertWrite>) {
        if writes.is_empty() {
            return;
        }
        let since = *self.failing_since.get_or_insert_with(Instant::now);
        if since.elapsed() > Self::FOR || writes.len() > Self::MAX {
            tracing::error!(writes = writes.len(), "history store: alert changes lost (the file failed for a minute)");
            self.failing_since = None;
            return;
        }
        self.writes = writes;
    }
}

/// Writes one batch of samples as pending points, in one transaction, and notes how far this run
/// of the server has written.
pub fn write_batch(conn: &Connection, batch: &[Parsed], run_start: u64) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    {
        let mut insert = tx.prepare_cached("INSERT OR REPLACE INTO pending (series, t, v) VALUES (?1, ?2, ?3)")?;
        for p in batch {
            for (name, v) in &p.values {
                let id = db::series_id(&tx, &p.source, name)?;
                insert.execute(params![id, p.t as i64, v])?;
            }
        }
    }
    let last = batch.iter().map(|p| p.t).max().unwrap_or(run_start);
    let first = batch.iter().map(|p| p.t).min().unwrap_or(run_start);
    tx.prepare_cached(
        "INSERT INTO run (start, last, first) VALUES (?1, ?2, ?3) ON CONFLICT (start)
         DO UPDATE SET last = max(last, ?2), first = min(coalesce(first, ?3), ?3)",
    )?
    .execute(params![run_start as i64, last as i64, first as i64])?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_become_numeric_series_without_bookkeeping() {
        let text = r#"{"type":"sample","seq":5,"source":"up","ts_ms":1000,"data":{"a":1,"b":[2,3],"seq":9,"host":"x","bad":null}}"#;
        let p = parse(text).expect("parsed");
        assert_eq!((&*p.source, p.t), ("up", 1000));
        assert_eq!(p.values, [("a".to_owned(), 1.0), ("b.0".to_owned(), 2.0), ("b.1".to_owned(), 3.0)]);
        assert!(parse(r#"{"type":"status","source":"up","state":"ok","since_ms":1}"#).is_none());
        assert!(parse("not json").is_none());
    }
}
