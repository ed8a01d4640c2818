//! What a new client is sent first: a full `hello`, or after `?since=N` a resume (every source's
//! status, then exactly the samples after `N`). Collected under the hub's lock as reference
//! counts only; a `hello` is then put together from the kept sample frames after the lock is
//! released (no sample is serialized again), unless one made for the same state can be shared.
//! A `hello` also carries each source's per-series setting rules, and the page-wide states (store,
//! cluster, alerts); a resume sends those as frames after the statuses.

use std::collections::BTreeMap;
use std::sync::Arc;

use indexmap::IndexMap;
use livedash::alerts::AlertsStatus;
use livedash::settings::SeriesRule;
use livedash::{ClusterStatus, Frame, Hello, SourceStatus, StoreStatus};
use tungstenite::Utf8Bytes;

use super::history::{Entry, SourceLog};
use super::subscription::Filter;
use crate::clock::{millis, now_ms};

/// The state a `hello` shows: the last `seq` accepted and how many status changes there were.
pub type StateKey = (u64, u64);

/// A new socket's first frames.
pub enum Start {
    /// Everything: the `hello` frame.
    Hello(Utf8Bytes),
    /// A resume: the status of every source, then exactly the samples after `since`.
    Resume(Vec<Utf8Bytes>),
}

/// What every `hello` carries beside the sources: their per-series rules (only sources that have
/// any), whether history is being saved (absent: memory only), whether the sources are shared
/// with other instances (absent: this server alone) and the alerts that are not ok.
#[derive(Debug, Clone, Default)]
pub struct PageWide {
    /// Each source's rules, shared by every `hello` being made.
    pub settings: Arc<BTreeMap<String, Vec<SeriesRule>>>,
    /// The history store's state.
    pub store: Option<StoreStatus>,
    /// The cluster's state.
    pub cluster: Option<ClusterStatus>,
    /// The alert instances that are not ok (absent: no alerts started).
    pub alerts: Option<AlertsStatus>,
}

/// A new client's first frames, not yet ordered or put together.
pub enum Collected {
    /// A `hello` made for this very state, shared.
    Shared(Utf8Bytes),
    /// What a `hello` for the state `key` holds.
    Hello {
        key: StateKey,
        entries: Vec<Arc<Entry>>,
        statuses: Vec<SourceStatus>,
        intervals: Vec<(String, u64)>,
        page: Box<PageWide>,
        fleet: Option<Utf8Bytes>,
    },
    /// See [`Start::Resume`]: the status frames, then the samples in any order.
    Resume(Vec<Utf8Bytes>, Vec<Arc<Entry>>),
}

/// A resume after `since` when every sample after it of the sources `filter` takes (resolved)
/// is still kept, else a `hello` of those sources (`shared` when there is one for this state),
/// with what is `page`-wide and the overview's rows (`fleet`, a full `fleet` frame). `since` is
/// already known to be from this server's life.
pub fn collect(
    sources: &IndexMap<Arc<str>, SourceLog>,
    page: &PageWide,
    (since, filter): (Option<u64>, &Filter),
    key: StateKey,
    (shared, fleet): (Option<Utf8Bytes>, Option<Utf8Bytes>),
) -> Collected {
    let taken = |log: &&SourceLog| filter.takes(log.index) == Some(true);
    if let Some(since) = since {
        let mut samples = Vec::new();
        let complete = sources.values().filter(taken).all(|log| match log.ring.after(since) {
            Some(after) => {
                samples.extend(after.cloned());
                true
            }
            None => false,
        });
        if complete {
            let mut statuses: Vec<Utf8Bytes> =
                sources.values().filter(taken).map(|log| log.status_frame.text.clone()).collect();
            if let Some(store) = &page.store {
                statuses.push(Frame::Store(store.clone()).to_json().into());
            }
            if let Some(cluster) = &page.cluster {
                statuses.push(Frame::Cluster(cluster.clone()).to_json().into());
            }
            if let Some(alerts) = &page.alerts {
                statuses.push(Frame::Alerts(alerts.clone()).to_json().into());
            }
            return Collected::Resume(statuses, samples);
        }
    }
    if let Some(text) = shared {
        return Collected::Shared(text);
    }
    let mut page = Box::new(page.clone());
    if !filter.is_all() {
        let names: Vec<&str> = sources.iter().filter(|(_, log)| taken(log)).map(|(name, _)| &**name).collect();
        let settings = page.settings.iter().filter(|(name, _)| names.contains(&name.as_str()));
        page.settings = Arc::new(settings.map(|(name, rules)| (name.clone(), rules.clone())).collect());
    }
    Collected::Hello {
        key,
        entries: sources.values().filter(taken).flat_map(|log| log.ring.iter().cloned()).collect(),
        statuses: sources.values().filter(taken).map(|log| log.status.clone()).collect(),
        intervals: sources
            .iter()
            .filter(|(_, log)| taken(log))
            .map(|(name, log)| (name.to_string(), millis(log.interval)))
            .collect(),
        page,
        fleet,
    }
}

impl Collected {
    /// The frames, ordered and put together; with the state key when a `hello` was made here.
    pub fn finish(self) -> (Start, Option<StateKey>) {
        match self {
            Self::Shared(text) => (Start::Hello(text), None),
            Self::Hello { key, mut entries, statuses, intervals, page, fleet } => {
                entries.sort_unstable_by_key(|e| e.seq);
                let frames = entries.iter().map(|e| e.frame.text.as_str());
                let intervals = intervals.into_iter().collect();
                let text = livedash::hello_json(
                    now_ms(),
                    &intervals,
                    frames,
                    &statuses,
                    &page.settings,
                    livedash::PageStates {
                        store: page.store.as_ref(),
                        cluster: page.cluster.as_ref(),
                        alerts: page.alerts.as_ref(),
                        fleet: fleet.as_ref().map(Utf8Bytes::as_str),
                    },
                );
                (Start::Hello(text.into()), Some(key))
            }
            Self::Resume(mut frames, mut samples) => {
                samples.sort_unstable_by_key(|e| e.seq);
                frames.extend(samples.iter().map(|e| e.frame.text.clone()));
                (Start::Resume(frames), None)
            }
        }
    }
}

/// A `hello` frame's text read back (for the page's first render and `/api/snapshot`); an empty
/// `hello` if it does not read, which a text made by [`Collected::finish`] always does.
pub fn read_hello(text: &Utf8Bytes) -> Hello {
    match Frame::from_json(text.as_str()) {
        Ok(Frame::Hello(hello)) => hello,
        _ => livedash::Hello {
            v: livedash::PROTOCOL_VERSION,
            server_time_ms: now_ms(),
            interval_ms: Default::default(),
            history: Vec::new(),
            sources: Vec::new(),
            settings: Default::default(),
            store: None,
            cluster: None,
            alerts: None,
            fleet: None,
        },
    }
}
