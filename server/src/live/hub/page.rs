//! The hub's page-wide states: whether history is being saved, and whether the sources are
//! shared with other instances through Redis (with the joining of the shared stream, which
//! changes what a resume may start from). Each change reaches every client as a frame, in order
//! with the samples, and every later `hello`.

use livedash::{ClusterStatus, Frame, Sample, StoreStatus};

use super::{Hub, Inner};
use crate::live::outgoing::Outgoing;
use crate::live::wire::Framed;

impl Hub {
    /// Records whether history is being saved; a change reaches every client (a `store` frame)
    /// and every later `hello`.
    pub fn set_store_status(&self, status: StoreStatus) {
        let mut inner = self.inner.lock();
        if inner.page.store.as_ref() == Some(&status) {
            return;
        }
        let frame = Outgoing::status(Frame::Store(status.clone()).to_json());
        inner.page.store = Some(status);
        inner.changed_statuses();
        self.broadcast(frame);
    }

    /// Records how the sources are shared with other instances; a change reaches every client (a
    /// `cluster` frame, in order with the samples) and every later `hello`. A new epoch means the
    /// `seq`s that follow are of another stream: a `since` from before it gets a full `hello`.
    pub fn set_cluster(&self, status: ClusterStatus) {
        let mut guard = self.inner.lock();
        self.set_cluster_locked(&mut guard, status);
    }

    fn set_cluster_locked(&self, inner: &mut Inner, status: ClusterStatus) {
        if inner.page.cluster.as_ref() == Some(&status) {
            return;
        }
        inner.resumable.enter(&status.epoch);
        let frame = Outgoing::status(Frame::Cluster(status.clone()).to_json());
        inner.page.cluster = Some(status);
        inner.changed_statuses();
        self.broadcast(frame);
    }

    /// Joins the shared stream in the state `status`, with the samples it still holds (oldest
    /// first): those above every `seq` here are kept and broadcast. A hub that has only restored
    /// history so far (this server has just started) takes every sample above what it restored;
    /// one that ran alone takes only what is above its own. Either way, only what is accepted
    /// from now on can be resumed from. Returns how many samples were taken.
    pub fn join(&self, status: ClusterStatus, backfill: Vec<Sample>) -> usize {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        if !inner.accepted_any {
            inner.seq = inner.sources.values().filter_map(|log| log.ring.latest()).map(|e| e.seq).max().unwrap_or(0);
        }
        self.set_cluster_locked(inner, status);
        inner.resumable.restart();
        let mut taken = 0;
        for sample in backfill {
            let (seq, ts_ms, source) = (sample.seq, sample.ts_ms, sample.source.clone());
            if seq > inner.seq
                && self.accept_locked(inner, seq, ts_ms, &source, Framed::new(Frame::Sample(sample).to_json()))
            {
                taken += 1;
            }
        }
        taken
    }

    /// How the sources are shared (`None`: this server alone).
    pub fn cluster(&self) -> Option<ClusterStatus> {
        self.inner.lock().page.cluster.clone()
    }

    /// Whether history is being saved (`None`: memory only).
    pub fn store_status(&self) -> Option<StoreStatus> {
        self.inner.lock().page.store.clone()
    }
}
