//! The hub's side of its taps ([`crate::live::tap`]): adding one, telling them a status change,
//! asking whether any is behind,
//! and what the history store's refill needs of the hub (its sources, its limits).

use std::sync::Arc;

use livedash::SourceStatus;

use super::Hub;
use crate::live::history::HistoryLimits;
use crate::live::tap::Tap;

/// Tells every tap of a source's new `status` (under the hub's lock, in order with the samples).
pub(super) fn status(taps: &[Arc<dyn Tap>], status: &SourceStatus) {
    for tap in taps {
        tap.status(status);
    }
}

impl Hub {
    /// Adds `tap`: it is told of every sample accepted from now on.
    pub fn add_tap(&self, tap: Arc<dyn Tap>) {
        self.inner.lock().taps.push(tap);
    }

    /// Whether any tap is behind (see [`Tap::behind`]).
    pub fn taps_behind(&self) -> bool {
        let taps = self.inner.lock().taps.clone();
        taps.iter().any(|t| t.behind())
    }

    /// Its sources' names, in their order.
    pub fn source_names(&self) -> Vec<Arc<str>> {
        self.inner.lock().sources.keys().cloned().collect()
    }

    /// How much history it keeps.
    pub fn limits(&self) -> HistoryLimits {
        self.limits
    }
}
