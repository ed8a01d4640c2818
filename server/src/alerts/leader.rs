//! What the alerts need of a cluster, and their part in it: this instance's [`Role`] for a
//! source (judge and record, judge and announce, or follow), the [`Cluster`] the cluster
//! wing provides (its node implements it; this wing never imports the cluster wing, which imports
//! the config, which imports this wing), and [`Clustered`], the state the alerts keep for it. How
//! the changes travel and are applied is in [`super::cluster`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use livedash::alerts::AlertEvent;
use parking_lot::Mutex;
use tokio::sync::mpsc;

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
pub trait Cluster: Send + Sync {
    /// This instance's role for `source`'s alerts now.
    fn role(&self, source: &str) -> Role;
    /// Appends `event` to the shared stream with this instance's fencing token for its source,
    /// fenced.
    fn announce(&self, event: AlertEvent) -> Pin<Box<dyn Future<Output = Announced> + Send + '_>>;
    /// The `seq` of the last sample read from the stream (Redis's time in µs).
    fn last_seq(&self) -> u64;
}

/// Hands a change read from the stream (`event`, its `seq`, read live) to the alerts' task;
/// false when its queue is full.
pub type Enqueue = Box<dyn Fn(AlertEvent, u64, bool) -> bool + Send + Sync>;

/// The alerts' part in a cluster.
pub struct Clustered {
    /// The cluster, once joined.
    pub node: OnceLock<Arc<dyn Cluster>>,
    /// Decided changes on their way to the stream, in order.
    pub outbox: OnceLock<mpsc::UnboundedSender<AlertEvent>>,
    /// Per source, the last `seq` applied: a change read twice is one change.
    applied: Mutex<HashMap<Arc<str>, u64>>,
    /// Into the alerts' own queue, where the stream's changes join the samples.
    pub enqueue: Enqueue,
}

impl Clustered {
    /// Not in a cluster (yet); `enqueue` hands the stream's changes to the alerts' task.
    pub fn new(enqueue: Enqueue) -> Self {
        Self { node: OnceLock::new(), outbox: OnceLock::new(), applied: Mutex::default(), enqueue }
    }

    /// This instance's role for `source`.
    pub fn role(&self, source: &str) -> Role {
        self.node.get().map_or(Role::Local, |s| s.role(source))
    }

    /// Whether `seq` of `source` was not applied yet (and notes it).
    pub fn first_time(&self, source: &Arc<str>, seq: u64) -> bool {
        let mut applied = self.applied.lock();
        let last = applied.entry(source.clone()).or_insert(0);
        if seq <= *last {
            return false;
        }
        *last = seq;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_read_twice_is_applied_once_and_alone_an_instance_judges_itself() {
        let clustered = Clustered::new(Box::new(|_, _, _| true));
        assert_eq!(clustered.role("up"), Role::Local, "no cluster joined");
        let up: Arc<str> = Arc::from("up");
        assert!(clustered.first_time(&up, 10));
        assert!(!clustered.first_time(&up, 10), "the same seq again (a rejoin's first page)");
        assert!(!clustered.first_time(&up, 9), "an older one");
        assert!(clustered.first_time(&up, 11));
        assert!(clustered.first_time(&Arc::from("other"), 5), "each source apart");
    }
}
