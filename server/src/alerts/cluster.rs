//! Alerts in a cluster (`--redis-url`): each source's rules are judged by one instance only, the
//! one holding the source's lease. What it decides is not recorded where it is decided: it is
//! announced through the shared stream, beside the source's samples, with the lease's fencing
//! token (the cluster wing's fenced append: a holder whose lease passed on cannot announce), and
//! every instance, the holder included, applies it to its own instances and records it in its own
//! store when it reads it back ([`Alerts::apply`]). So a failover neither loses nor duplicates a
//! change: the new holder goes on from the states the stream's last changes left, a pending
//! instance with the time it has already spent (from the stream's `seq`s, Redis's clock).
//!
//! A change that cannot be announced (Redis failing past a few tries, or the instance gone alone
//! meanwhile) is recorded where it was decided, not lost. While Redis is unreachable an instance
//! is alone: it judges every source and records what it decides itself, as without a cluster.
//! The cluster wing implements [`Cluster`] (this wing never imports it: it imports the config,
//! which imports this wing); the roles are in [`super::leader`].

use std::time::{Duration, Instant};

use livedash::alerts::{AlertEvent, AlertState};
use tokio::sync::mpsc;

use super::engine::{Change, Engine};
use super::leader::{Announced, Cluster, Role};
use super::machine::Saved;
use super::shared::{Alerts, State};
use super::view;

/// How many times an announcement is tried while Redis fails.
const TRIES: u32 = 3;

impl Alerts {
    /// Takes part in a cluster through `node`: from now on each source's alerts are judged by
    /// the holder of its lease alone ([`Role`]), and its decisions are announced in order by a
    /// task of their own.
    pub fn join_cluster(&self, node: std::sync::Arc<dyn Cluster>) {
        // Unbounded: a change per state change of an instance, few; the evaluating task must not
        // wait for Redis.
        let (tx, mut rx) = mpsc::unbounded_channel::<AlertEvent>();
        if self.0.cluster.node.set(node.clone()).is_err() || self.0.cluster.outbox.set(tx).is_err() {
            return;
        }
        // Weak: the task must not keep the alerts (which hold its sender) alive.
        let alerts = std::sync::Arc::downgrade(&self.0);
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                if !announce(&*node, event.clone()).await
                    && let Some(inner) = alerts.upgrade()
                {
                    Alerts(inner).keep_unannounced(event);
                }
            }
        });
    }

    /// A change decided under a lease that could not be announced (Redis failed, or this
    /// instance went alone meanwhile): recorded here, so that it is not lost.
    fn keep_unannounced(&self, event: AlertEvent) {
        let mut state = self.0.state.lock();
        let key = (&*event.rule, &event.source, event.series.clone());
        if let Some(i) = state.engine.adopt(key, None, Instant::now()) {
            self.record_event(&state, i, event, Instant::now());
        }
    }

    /// A change decided by `event.source`'s lease holder, read from the stream at `seq` (`live`:
    /// as it was appended): queued for the alerts' task, never waiting.
    pub fn apply(&self, event: AlertEvent, seq: u64, live: bool) {
        if !(self.0.cluster.enqueue)(event, seq, live) {
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
                let since_us = cluster.node.get().map_or(0, |s| s.last_seq()).saturating_sub(seq);
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
            self.record_event(state, i, event, now);
        }
    }
}

/// Appends `event` to the stream, trying again a little while Redis fails. False when it could
/// not be announced though it is still this instance's to record (it was not fenced).
async fn announce(node: &dyn Cluster, event: AlertEvent) -> bool {
    for attempt in 1..=TRIES {
        match node.announce(event.clone()).await {
            Announced::Stamped(_) => return true,
            Announced::Fenced => {
                tracing::warn!(source = %event.source, rule = %event.rule, "alerts: lost the lease before announcing a change; the new holder decides now");
                return true;
            }
            Announced::NotShared => {
                tracing::warn!(source = %event.source, rule = %event.rule, "alerts: not sharing the stream now; a change is kept here only");
                return false;
            }
            Announced::Failed(e) if attempt == TRIES => {
                tracing::error!(source = %event.source, rule = %event.rule, error = %e, "alerts: could not announce a change; it is kept here only");
            }
            Announced::Failed(_) => tokio::time::sleep(Duration::from_millis(100) * attempt).await,
        }
    }
    false
}
