//! The hub's side of its taps ([`crate::live::tap`]): adding one, asking whether any is behind,
//! and what the history store's refill needs of the hub (its sources, its limits).

use std::sync::Arc;

use super::Hub;
use crate::live::history::HistoryLimits;
use crate::live::tap::Tap;

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
