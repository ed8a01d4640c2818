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
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::backoff;
use super::channel::Channel;
use super::handle::Notifier;
use super::hooks::{Hooks, Pass};
use crate::clock::now_ms;
use crate::shutdown::Shutdown;
use crate::store::outbox::{Row, read, write};
use crate::store::{StoreError, db};

/// How long a task waits after the writer added rows before it reads them, so that the rows of
/// one moment (a source down and its value rules) are sent as one message.
const GATHER: Duration = Duration::from_millis(250);
/// How soon a row is looked at again when it could not be tried (the store or Redis failed, or
/// another instance holds its source's lease).
pub(super) const LOOK_AGAIN: Duration = Duration::from_secs(2);

/// The store, through a connection of the task's own, used off the async threads.
pub(super) struct Db {
    path: PathBuf,
    conn: Option<Connection>,
}

impl Db {
    /// Runs `f` on the connection (opened if needed) in a blocking thread.
    pub(super) async fn run<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (path, conn) = (self.path.clone(), self.conn.take());
        let joined = tokio::task::spawn_blocking(move || {
            let conn = match conn {
                Some(c) => c,
                None => db::open_writer(&path)?,
            };
            let out = f(&conn);
            Ok::<_, StoreError>((conn, out))
        })
        .await;
        match joined {
            Ok(Ok((conn, out))) => {
                self.conn = Some(conn);
                out
            }
            Ok(Err(e)) => Err(e),
            Err(e) => Err(StoreError::Schema(format!("the outbox's store task failed: {e}"))),
        }
    }
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
}

/// Runs the task of channel `index` until `shutdown`, woken by the store's writer (`written`).
pub(super) fn spawn(
    notifier: &Notifier,
    index: usize,
    path: PathBuf,
    hooks: Arc<dyn Hooks>,
    base: Arc<str>,
    (mut written, mut shutdown): (tokio::sync::watch::Receiver<u64>, Shutdown),
) {
    let mut task = Task {
        notifier: notifier.clone(),
        index,
        channel: notifier.0.channels[index].clone(),
        db: Db { path, conn: None },
        due: HashMap::new(),
        hooks,
        base,
    };
    let mut wake = notifier.0.wake.subscribe();
    tokio::spawn(async move {
        loop {
            let next = match task.pass().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(channel = %task.channel.name, error = %e, "notify: the outbox could not be read; trying again");
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
                changed = written.changed() => {
                    if changed.is_err() {
                        // The store's writer is gone: nothing new will come; what is open still goes.
                        written = tokio::sync::watch::channel(0).1;
                    }
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
    async fn pass(&mut self) -> Result<Option<Instant>, StoreError> {
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
        self.counts().waiting.store(rows.len() as u64, std::sync::atomic::Ordering::Relaxed);
        self.due.retain(|id, _| rows.iter().any(|r| r.id == *id));
        let pending: Vec<Row> = rows.into_iter().filter(|r| r.state == "pending").collect();
        if hold {
            let ids: Vec<i64> = pending.iter().map(|r| r.id).collect();
            self.db.run(move |conn| write::set_open(conn, &ids, "held")).await?;
            return Ok(hook_next.map(|d| now + d));
        }
        for row in &pending {
            let left = row.next_ms.unwrap_or(0).saturating_sub(now_ms);
            self.due.entry(row.id).or_insert(now + Duration::from_millis(left).min(backoff::CAP));
        }
        let ready: Vec<Row> = pending.into_iter().filter(|r| self.due.get(&r.id).is_none_or(|t| *t <= now)).collect();
        for group in groups(ready) {
            self.deliver(group).await?;
        }
        let next = self.due.values().min().copied();
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
