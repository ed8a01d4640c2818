//! One delivery task per channel: it reads the channel's open rows from the outbox, sends what is
//! due (the rows of one source due together as ONE message), and records each try's outcome in
//! the store before anything else happens to the row. A channel that is down only delays its own
//! rows: every channel has its own task, and the alerts hand their events to the store's writer
//! without ever waiting for a delivery.
//!
//! When a row is next due is kept on the monotonic clock (the store's `next_ms` is a label; after
//! a restart a row is due at once, or after what remains of its back-off, never more than the
//! back-off's cap). The outcome of a try ([`super::deliver`]): sent; tried again after a back-off
//! ([`super::backoff`]); moved to the channel's fallback after `fallback_after` failures; failed
//! (a refusal, or 24 h of failures with no fallback).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::backoff;
use super::channel::Channel;
use super::handle::Notifier;
use super::hooks::{Hooks, Pass};
use crate::alerts::Alerts;
use crate::clock::now_ms;
use crate::shutdown::Shutdown;
use crate::store::StoreError;
use crate::store::outbox::{Row, read, write};

/// How long a task waits after the writer added rows before it reads them, so that the rows of
/// one moment (a source down and its value rules) are sent as one message.
const GATHER: Duration = Duration::from_millis(250);
/// How soon a row is looked at again when it could not be tried (the store or Redis failed, or
/// another instance holds its source's lease).
pub(super) const LOOK_AGAIN: Duration = Duration::from_secs(2);

/// The store, through a connection of the task's own, used off the async threads. The task never
/// makes the file nor its tables (the store's writer does, at its start): until they are there it
/// has nothing to deliver.
pub(super) struct Db {
    path: PathBuf,
    conn: Option<Connection>,
    /// Whether the file was ever opened (a failure before is the writer not having made it yet).
    pub(super) opened: bool,
}

impl Db {
    /// The store at `path` (opened at the first use).
    pub(super) fn new(path: PathBuf) -> Self {
        Self { path, conn: None, opened: false }
    }

    /// Runs `f` on the connection (opened if needed) in a blocking thread.
    pub(super) async fn run<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (path, conn) = (self.path.clone(), self.conn.take());
        let joined = tokio::task::spawn_blocking(move || {
            let conn = match conn {
                Some(c) => c,
                None => open(&path)?,
            };
            let out = f(&conn);
            Ok::<_, StoreError>((conn, out))
        })
        .await;
        match joined {
            Ok(Ok((conn, out))) => {
                (self.conn, self.opened) = (Some(conn), true);
                out
            }
            Ok(Err(e)) => Err(e),
            Err(e) => Err(StoreError::Schema(format!("the outbox's store task failed: {e}"))),
        }
    }
}

/// Opens the store's file for the outbox, once the writer has made it with the outbox's table.
fn open(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open(path.to_owned(), e.to_string()))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    if !read::ready(&conn)? {
        return Err(StoreError::Open(path.to_owned(), "the outbox's table is not made yet".into()));
    }
    Ok(conn)
}

/// A channel's delivery task.
pub(super) struct Task {
    pub(super) notifier: Notifier,
    /// The channel's index in the notifier.
    pub(super) index: usize,
    pub(super) channel: Arc<Channel>,
    pub(super) db: Db,
    /// When each open row is next due (monotonic).
    pub(super) due: HashMap<i64, Instant>,
    pub(super) hooks: Arc<dyn Hooks>,
    /// The links' base (`http://host:port[/path]`).
    pub(super) base: Arc<str>,
    /// The alerts, asked whether a silence covers a row when it is due (`None`: never).
    pub(super) alerts: Option<Alerts>,
    /// Until when the channel rests after a send worth retrying failed (monotonic): a receiver
    /// that is down gets one try per back-off (and one per new alert), not one per open row (the
    /// storm of alertmanager#2286).
    pub(super) resting: Option<Instant>,
}

/// Runs the task of channel `index` until `shutdown`, woken by the store's writer (`written`).
pub(super) fn spawn(
    notifier: &Notifier,
    index: usize,
    path: PathBuf,
    hooks: Arc<dyn Hooks>,
    (base, alerts): (Arc<str>, Alerts),
    (mut written, mut shutdown): (tokio::sync::watch::Receiver<u64>, Shutdown),
) {
    let mut task = Task {
        notifier: notifier.clone(),
        index,
        channel: notifier.0.channels[index].clone(),
        db: Db::new(path),
        due: HashMap::new(),
        hooks,
        base,
        alerts: Some(alerts),
        resting: None,
    };
    let mut wake = notifier.0.wake.subscribe();
    tokio::spawn(async move {
        let mut writer_gone = false;
        loop {
            // A stop cancels a pass even mid-send: its rows stay pending for the next start (the
            // receivers de-duplicate by id).
            let passed = tokio::select! {
                passed = task.pass() => passed,
                () = shutdown.stopped() => break,
            };
            let next = match passed {
                Ok(next) => next,
                Err(e) => {
                    if task.db.opened {
                        tracing::warn!(channel = %task.channel.name, error = %e, "notify: the outbox failed; trying again");
                    } else {
                        tracing::debug!(channel = %task.channel.name, error = %e, "notify: the outbox is not there yet");
                    }
                    Some(Instant::now() + LOOK_AGAIN)
                }
            };
            let sleep = async {
                match next {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = written.changed(), if !writer_gone => {
                    // The store's writer gone (stopping): nothing new will come; what is open still goes.
                    writer_gone = changed.is_err();
                    tokio::time::sleep(GATHER).await;
                }
                _ = wake.changed() => {}
                () = sleep => {}
                () = shutdown.stopped() => break,
            }
        }
    });
}

impl Task {
    /// One pass: the hooks, then every due row sent; when the next row is due.
    pub(super) async fn pass(&mut self) -> Result<Option<Instant>, StoreError> {
        let (now, now_ms) = (Instant::now(), now_ms());
        let hold = self.hooks.hold(&self.channel, now_ms);
        let (channel, hooks) = (self.channel.clone(), self.hooks.clone());
        let (rows, hook_next) = self
            .db
            .run(move |conn| {
                let next = hooks.pass(&Pass { channel: &channel, conn, now, now_ms }).unwrap_or_else(|e| {
                    tracing::warn!(channel = %channel.name, error = %e, "notify: a hook failed");
                    None
                });
                Ok((read::open(conn, &channel.name)?, next))
            })
            .await?;
        self.due.retain(|id, _| rows.iter().any(|r| r.id == *id));
        let held = rows.iter().filter(|r| r.state == "held").count() as u64;
        let pending: Vec<Row> = rows.into_iter().filter(|r| r.state == "pending").collect();
        if hold {
            self.counts().waiting.store(held + pending.len() as u64, Ordering::Relaxed);
            let ids: Vec<i64> = pending.iter().map(|r| r.id).collect();
            self.db.run(move |conn| write::set_open(conn, &ids, "held")).await?;
            return Ok(hook_next.map(|d| now + d));
        }
        for row in &pending {
            let left = row.next_ms.unwrap_or(0).saturating_sub(now_ms);
            self.due.entry(row.id).or_insert(now + Duration::from_millis(left).min(backoff::CAP));
        }
        // While the channel rests, only rows never tried go (the oldest first, one message per
        // pass): a new alert is a probe, not held back by its channel's earlier failures; what
        // already failed waits for the rest to end. A probe that goes through ends the rest.
        let resting = self.resting.is_some_and(|r| r > now);
        let ready: Vec<Row> = pending
            .into_iter()
            .filter(|r| self.due.get(&r.id).is_none_or(|t| *t <= now) && (!resting || r.failures == 0))
            .collect();
        for group in groups(ready) {
            self.deliver(group).await?;
            if self.resting.is_some_and(|r| r > Instant::now()) {
                break;
            }
        }
        // What is still open: the held rows and the pending ones not closed by this pass.
        self.counts().waiting.store(held + self.due.len() as u64, Ordering::Relaxed);
        let next = self.due.values().min().map(|t| self.resting.map_or(*t, |r| r.max(*t)));
        Ok(match (next, hook_next.map(|d| now + d)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    pub(super) fn counts(&self) -> &super::handle::Counts {
        &self.notifier.0.counts[self.index]
    }
}

/// Due rows into messages: the alert rows of one source together, each digest and each reminder
/// on its own, oldest first.
fn groups(rows: Vec<Row>) -> Vec<Vec<Row>> {
    let mut out: Vec<Vec<Row>> = Vec::new();
    for row in rows {
        let alone = row.kind != "alert";
        match out.iter_mut().find(|g| !alone && g[0].kind == "alert" && g[0].source == row.source) {
            Some(g) => g.push(row),
            None => out.push(vec![row]),
        }
    }
    out
}
