//! A socket's place in the hub's stream: its first frames (a `hello` or a resume) of the sources
//! it subscribed to, and its receiver, taken under one lock; the shared `hello`s, one per
//! subscription and state; the catch-up of a socket that fell behind; and the resolution of a
//! socket's filter (see [`crate::live::subscription`]) to the hub's source indices.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use livedash::Hello;
use tungstenite::Utf8Bytes;

use super::{Hub, Inner, Subscription};
use crate::live::history::Entry;
use crate::live::start::{self, Start, StateKey};
use crate::live::subscription::Filter;

/// The most shared `hello`s kept at once (distinct subscriptions arriving at the same state).
const SHARED_HELLOS: usize = 16;

/// What a shared `hello` was made for: the subscription's key, the hub's state, and the summary
/// `seq` of the overview's rows in it (`None`: none in it).
pub(super) type HelloKey = (String, StateKey, Option<u64>);

/// The overview's rows a `hello` carries: a full `fleet` frame and its summary `seq`.
pub type HelloFleet = Option<(u64, Utf8Bytes)>;

impl Inner {
    /// Resolves `filter` for the sources registered since it last was.
    fn resolve(&self, filter: &mut Filter) {
        if filter.is_all() {
            return;
        }
        let from = filter.known_below();
        let sources = self.sources.iter().filter(|(_, log)| log.index >= from).map(|(name, log)| (log.index, &**name));
        filter.resolve(sources, self.next_index);
    }
}

impl Hub {
    /// The current `hello` content (for the page's first render and `/api/snapshot`): the shared
    /// `hello` when there is one, without taking a receiver.
    pub fn snapshot(&self) -> Hello {
        self.snapshot_for(&mut Filter::all())
    }

    /// [`Hub::snapshot`] of the sources `filter` takes (a host's page rendered on the server).
    pub fn snapshot_for(&self, filter: &mut Filter) -> Hello {
        match self.first_frames(None, None, filter, None, || ()).0 {
            Start::Hello(text) => start::read_hello(&text),
            // Without a `since` there is no resume: the first frames are a `hello`.
            Start::Resume(_) => start::read_hello(&Utf8Bytes::from_static("")),
        }
    }

    /// A new client's first frames and its receiver for everything after them, of every source.
    /// With a `since` that can be resumed from here (see [`crate::live::epoch::Resumable`]: from
    /// this server's life, or of the current `epoch` when shared), and when every sample after it
    /// is still in the history, the first frames are the statuses and exactly those samples;
    /// otherwise a full `hello`.
    pub fn subscribe(&self, since: Option<u64>, epoch: Option<&str>) -> Subscription {
        self.subscribe_to(since, epoch, &mut Filter::all(), None)
    }

    /// [`Hub::subscribe`] for the sources `filter` takes (resolved here, under the lock): only
    /// theirs are resumed, or are in the `hello` (history, statuses, intervals, settings), with
    /// the overview's rows `fleet` in it when given.
    pub fn subscribe_to(
        &self,
        since: Option<u64>,
        epoch: Option<&str>,
        filter: &mut Filter,
        fleet: HelloFleet,
    ) -> Subscription {
        let (start, frames, seq) = self.first_frames(since, epoch, filter, fleet, || self.tx.subscribe());
        Subscription { start, frames, seq }
    }

    /// The first frames for `since` (collected under the lock, put together after it), what
    /// `under_lock` takes under the same lock (a receiver, so that nothing falls between the two),
    /// and the last `seq` the frames cover.
    fn first_frames<R>(
        &self,
        since: Option<u64>,
        epoch: Option<&str>,
        filter: &mut Filter,
        fleet: HelloFleet,
        under_lock: impl FnOnce() -> R,
    ) -> (Start, R, u64) {
        let sub = filter.key();
        let fleet_seq = fleet.as_ref().map(|(seq, _)| *seq);
        let (collected, frames, seq) = {
            let inner = self.inner.lock();
            let frames = under_lock();
            inner.resolve(filter);
            let since = since.filter(|&s| inner.resumable.allows(s, epoch, inner.seq));
            let key = inner.state_key();
            let shared = inner
                .hellos
                .iter()
                .find(|((s, state, f), _)| *s == sub && *state == key && *f == fleet_seq)
                .map(|(_, text)| text.clone());
            let fleet = fleet.map(|(_, text)| text);
            let collected = start::collect(&inner.sources, &inner.page, (since, filter), key, (shared, fleet));
            (collected, frames, inner.seq)
        };
        let (start, made) = collected.finish();
        match &start {
            Start::Resume(_) => {
                self.stats.resumed.fetch_add(1, Ordering::Relaxed);
            }
            Start::Hello(text) => {
                if let Some(key) = made {
                    self.stats.hellos_made.fetch_add(1, Ordering::Relaxed);
                    let mut inner = self.inner.lock();
                    if inner.state_key() == key {
                        inner.hellos.retain(|((_, state, _), _)| *state == key);
                        if inner.hellos.len() >= SHARED_HELLOS {
                            inner.hellos.remove(0);
                        }
                        inner.hellos.push(((sub, key, fleet_seq), text.clone()));
                    }
                }
            }
        }
        (start, frames, seq)
    }

    /// For a socket that fell behind after sending everything up to `sent`: every source's status
    /// and the newest sample of each source after `sent`, in `seq` order, as a resume, and a
    /// receiver for everything after them (in place of the one that fell behind).
    pub fn catch_up(&self, sent: u64) -> Subscription {
        self.catch_up_for(sent, &mut Filter::all())
    }

    /// [`Hub::catch_up`] for the sources `filter` takes.
    pub fn catch_up_for(&self, sent: u64, filter: &mut Filter) -> Subscription {
        let inner = self.inner.lock();
        let frames = self.tx.subscribe();
        inner.resolve(filter);
        let taken = |index| filter.takes(index) == Some(true);
        let sources = || inner.sources.values().filter(|log| taken(log.index));
        let mut newest: Vec<&Arc<Entry>> =
            sources().filter_map(|log| log.ring.latest()).filter(|e| e.seq > sent).collect();
        newest.sort_unstable_by_key(|e| e.seq);
        let statuses = sources().map(|log| log.status_frame.text.clone());
        let resume = statuses.chain(newest.into_iter().map(|e| e.frame.text.clone())).collect();
        Subscription { start: Start::Resume(resume), frames, seq: inner.seq }
    }

    /// Resolves `filter` for the sources registered since it last was (a socket that met a frame
    /// of a source newer than its filter).
    pub fn resolve(&self, filter: &mut Filter) {
        self.inner.lock().resolve(filter);
    }
}
