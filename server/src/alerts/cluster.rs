//! Alerts in a cluster (`--redis-url`): each source's rules are judged by one instance only, the
//! one holding the source's lease. What it decides is not recorded where it is decided: it is
//! announced through the shared stream, beside the source's samples, with the lease's fencing
//! token (the cluster wing's fenced append: a holder whose lease passed on cannot announce), and
//! every instance, the holder included, applies it to its own instances and records it in its own
//! store when it reads it back ([`Alerts::apply`]). So a failover neither loses nor duplicates a
//! change: the new holder goes on from the states the stream's last changes left, a pending
//! instance with the time it has already spent (from the stream's `seq`s, Redis's clock).
//!
//! While Redis is unreachable an instance is alone: it judges every source and records what it
//! decides itself, as without a cluster. The cluster wing implements [`Shared`] (this wing never
//! imports it: it imports the config, which imports this wing).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use livedash::alerts::{AlertEvent, AlertState};
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::engine::{Change, Engine};
use super::feed::Msg;
use super::machine::Saved;
use super::{Alerts, State, view};

/// How this instance treats a source's alerts now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It judges them and records what it decides (no cluster, or alone).
    Local,
    /// It judges them, holding the source's lease with this fencing token, and announces what it
    /// decides; recorded when read back from the stream.
    Lead(u64),
    /// Another instance judges them: this one applies what that one announces.
    Follow,
}

/// How an announcement went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announced {
    /// In the stream at this `seq`.
    Stamped(u64),
    /// Refused: this instance does not hold the source's lease (any more).
    Fenced,
    /// This instance is not sharing the stream now (alone, or the stream began anew).
    NotShared,
    /// Redis failed.
    Failed(String),
}

/// What the alerts need of the cluster (the cluster wing's node implements it).
pub trait Shared: Send + Sync {
    /// This instance's role for `source`'s alerts now.
    fn role(&self, source: &str) -> Role;
    /// Appends `event` to the shared stream with this instance's fencing token for its source,
    /// fenced.
    fn announce(&self, event: AlertEvent) -> Pin<Box<dyn Future<Output = Announced> + Send + '_>>;
    /// The `seq` of the last sample read from the stream (Redis's time in µs).
    fn last_seq(&self) -> u64;
}

/// The alerts' part in a cluster.
pub struct Clustered {
    shared: OnceLock<Arc<dyn Shared>>,
    /// Decided changes on their way to the stream, in order.
    outbox: OnceLock<mpsc::UnboundedSender<AlertEvent>>,
    /// Per source, the last `seq` applied: a change read twice is one change.
    applied: Mutex<HashMap<Arc<str>, u64>>,
    /// The alerts' own queue, where the stream's changes join the samples.
    queue: mpsc::Sender<Msg>,
}

/// How many times an announcement is tried while Redis fails.
const TRIES: u32 = 3;

impl Clustered {
    /// Not in a cluster (yet); `queue` is the alerts' task's.
    pub(super) fn new(queue: mpsc::Sender<Msg>) -> Self {
        Self { shared: OnceLock::new(), outbox: OnceLock::new(), applied: Mutex::default(), queue }
    }

    /// This instance's role for `source`.
    pub(super) fn role(&self, source: &str) -> Role {
        self.shared.get().map_or(Role::Local, |s| s.role(source))
    }

    /// Whether `seq` of `source` was not applied yet (and notes it).
    fn first_time(&self, source: &Arc<str>, seq: u64) -> bool {
        let mut applied = self.applied.lock();
        let last = applied.entry(source.clone()).or_insert(0);
        if seq <= *last {
            return false;
        }
        *last = seq;
        true
    }
}

impl Alerts {
    /// Takes part in a cluster through `shared`: from now on each source's alerts are judged by
    /// the holder of its lease alone ([`Role`]), and its decisions are announced in order by a
    /// task of their own.
    pub fn join_cluster(&self, shared: Arc<dyn Shared>) {
        // Unbounded: a change per state change of an instance, few; the evaluating task must not
        // wait for Redis.
        let (tx, mut rx) = mpsc::unbounded_channel::<AlertEvent>();
        if self.0.cluster.shared.set(shared.clone()).is_err() || self.0.cluster.outbox.set(tx).is_err() {
            return;
        }
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                announce(&*shared, event).await;
            }
        });
    }

    /// A change decided by `event.source`'s lease holder, read from the stream at `seq` (`live`:
    /// as it was appended): queued for the alerts' task, never waiting.
    pub fn apply(&self, event: AlertEvent, seq: u64, live: bool) {
        if self.0.cluster.queue.try_send(Msg::Applied { event, seq, live }).is_err() {
            tracing::error!("alerts: a change from the shared stream was lost (the queue is full)");
        }
    }

    /// Changes this instance decided as the holder of their source's lease (`token`): to the
    /// stream.
    pub(super) fn announce(&self, engine: &Engine, changes: &[Change], token: u64) {
        let Some(outbox) = self.0.cluster.outbox.get() else { return };
        for change in changes {
            let event = view::event(engine, &engine.instances[change.instance], &change.transition, token);
            if outbox.send(event).is_err() {
                tracing::error!("alerts: the announcing task has stopped; a change was not shared");
            }
        }
    }

    /// A change from the stream, in the alerts' task: taken by an instance that does not judge
    /// the source itself (its state, a pending one with the time spent since it went pending),
    /// and recorded by every instance when it was read live.
    pub(super) fn applied(&self, state: &mut State, event: AlertEvent, (seq, live): (u64, bool), now: Instant) {
        let cluster = &self.0.cluster;
        if !cluster.first_time(&event.source, seq) {
            return;
        }
        let saved = match cluster.role(&event.source) {
            Role::Lead(_) => None,
            Role::Local | Role::Follow => {
                let since_us = cluster.shared.get().map_or(0, |s| s.last_seq()).saturating_sub(seq);
                let pending = event.to == AlertState::Pending;
                Some(Saved {
                    state: Some(if event.to == AlertState::Resolved { AlertState::Ok } else { event.to }),
                    since_ms: event.ts_ms,
                    spent_ms: if pending { since_us / 1000 } else { 0 },
                    cleared: false,
                    value: event.value,
                    peak: event.peak,
                })
            }
        };
        let key = (&*event.rule, &event.source, event.series.clone());
        let Some(i) = state.engine.adopt(key, saved.as_ref(), now) else {
            tracing::warn!(rule = %event.rule, source = %event.source, "alerts: a change from the shared stream names no rule of this instance (are the configs the same?)");
            return;
        };
        if live {
            self.record_event(&state.engine, i, event, now);
        }
    }
}

/// Appends `event` to the stream, trying again a little while Redis fails.
async fn announce(shared: &dyn Shared, event: AlertEvent) {
    for attempt in 1..=TRIES {
        match shared.announce(event.clone()).await {
            Announced::Stamped(_) => return,
            Announced::Fenced => {
                tracing::warn!(source = %event.source, rule = %event.rule, "alerts: lost the lease before announcing a change; the new holder decides now");
                return;
            }
            Announced::NotShared => {
                tracing::warn!(source = %event.source, rule = %event.rule, "alerts: not sharing the stream now; a change was not announced");
                return;
            }
            Announced::Failed(e) if attempt == TRIES => {
                tracing::error!(source = %event.source, rule = %event.rule, error = %e, "alerts: could not announce a change");
            }
            Announced::Failed(_) => tokio::time::sleep(Duration::from_millis(100) * attempt).await,
        }
    }
}
