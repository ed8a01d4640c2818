//! Taps: what is told of every sample the hub accepts, beside the sockets. The history store is
//! one (its own queue, bounded in bytes, instead of the sockets' broadcast, which a burst of
//! thousands of samples overruns); the alerts are another, at the same place,
//! and are told each source's status change too.
//!
//! A tap is called under the hub's lock, in `seq` order, with the sample's entry as the history
//! keeps it: the frame's text is shared, so telling a tap costs a reference count, not a copy or
//! a serialization. It must never wait; one that falls behind says so ([`Tap::behind`]) and a
//! producer that may wait (a backfill from the shared stream) does.

use std::sync::Arc;

use livedash::SourceStatus;

use super::history::Entry;

/// A consumer of every accepted sample (not those restored from the store at start: they came
/// from it).
pub trait Tap: Send + Sync {
    /// `entry`, a sample of `source`, was accepted. Called under the hub's lock: must not wait.
    fn accepted(&self, source: &Arc<str>, entry: &Arc<Entry>);

    /// A source's status changed (ok, failing, stale), in order with its samples. Called under
    /// the hub's lock: must not wait.
    fn status(&self, _status: &SourceStatus) {}

    /// Whether it has so much waiting that a producer able to wait should, before handing the
    /// hub more.
    fn behind(&self) -> bool {
        false
    }
}
