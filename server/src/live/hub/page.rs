//! The hub's page-wide states: whether history is being saved, the alerts that are not ok, and
//! whether the sources are shared with other instances through Redis (with the joining of the shared stream, which
//! changes what a resume may start from). Each change reaches every client as a frame, in order
//! with the samples, and every later `hello`.

use std::collections::HashMap;
use std::sync::Arc;

use livedash::alerts::AlertsStatus;
use livedash::{ClusterStatus, Frame, Ring, Sample, StoreStatus};

use super::{Hub, Inner};
use crate::clock::{millis, now_ms};
use crate::live::history::Entry;
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
        let frame = Outgoing::page(Frame::Store(status.clone()).to_json());
        inner.page.store = Some(status);
        inner.changed_statuses();
        self.broadcast(frame);
    }

    /// Records the alert instances that are not ok; a change reaches every client (an `alerts`
    /// frame, in order with the samples) and every later `hello`. Serialized before the lock is
    /// taken: a long list must not hold up the samples.
    pub fn set_alerts(&self, status: AlertsStatus) {
        let frame = Frame::Alerts(status);
        let text = Outgoing::page(frame.to_json());
        let Frame::Alerts(status) = frame else { return };
        let mut inner = self.inner.lock();
        if inner.page.alerts.as_ref() == Some(&status) {
            return;
        }
        let frame = text;
        inner.page.alerts = Some(status);
        inner.changed_statuses();
        self.broadcast(frame);
    }

    /// The alerts as last told (`None`: no alerts were started).
    pub fn alerts(&self) -> Option<AlertsStatus> {
        self.inner.lock().page.alerts.clone()
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
        let frame = Outgoing::page(Frame::Cluster(status.clone()).to_json());
        inner.page.cluster = Some(status);
        inner.changed_statuses();
        self.broadcast(frame);
    }

    /// Joins the shared stream in the state `status`, with the first samples it holds (oldest
    /// first; the rest reach [`Hub::accept`] after): those above every `seq` here are kept and
    /// broadcast. A hub that has only restored history so far (this server has just started)
    /// forgets what it restored that the stream holds too (from the stream's first sample on:
    /// the stream's copy has the real `seq`) and takes every sample above the rest; one that ran
    /// alone takes only what is above its own. Either way, only what is accepted from now on can
    /// be resumed from. Returns how many samples were taken.
    pub fn join(&self, status: ClusterStatus, backfill: Vec<Sample>) -> usize {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        if !inner.accepted_any {
            self.forget_restored_overlap(inner, &backfill);
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

    /// Drops the restored samples that the stream, whose oldest samples are `backfill`, holds
    /// too: of each source, those from the first time the stream has of it (of any source, for a
    /// source not in `backfill`), and any at or above the stream's first `seq`.
    fn forget_restored_overlap(&self, inner: &mut Inner, backfill: &[Sample]) {
        let Some(first_seq) = backfill.first().map(|s| s.seq) else { return };
        let mut from: HashMap<&str, u64> = HashMap::new();
        for s in backfill {
            from.entry(&*s.source).and_modify(|t| *t = (*t).min(s.ts_ms)).or_insert(s.ts_ms);
        }
        let any = from.values().copied().min().unwrap_or(0);
        let now = now_ms();
        for (name, log) in &mut inner.sources {
            let cut = from.get(&**name).copied().unwrap_or(any);
            let keep = |e: &Arc<Entry>| e.ts_ms < cut && e.seq < first_seq;
            if log.ring.iter().all(keep) {
                continue;
            }
            let kept: Vec<Arc<Entry>> = log.ring.iter().filter(|e| keep(e)).cloned().collect();
            log.ring = Ring::new(self.limits.len_for(log.interval), millis(self.limits.max_age));
            for entry in kept {
                log.ring.push(entry, now);
            }
        }
        inner.hellos.clear();
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
