//! Stamping: where this instance's own samples get their global `seq` and receive time before the
//! hub accepts them (in a cluster, the shared stream stamps them, see `crate::cluster`). Stamping is kept apart from the fan-out so that another producer (another
//! instance's already stamped samples) can feed the same [`Hub::accept`].
//!
//! Sequence numbers continue from the hub's first (the start-up time in microseconds), so that
//! they keep increasing across restarts.

use std::sync::Arc;
use std::time::Duration;

use livedash::settings::SeriesRule;
use parking_lot::Mutex;
use serde_json::value::RawValue;

use super::hub::Hub;
use crate::clock::now_ms;

/// Stamps samples of this instance's sources and hands them to the hub, in `seq` order.
pub struct Stamper {
    hub: Arc<Hub>,
    /// The last `seq` handed out. Held while the hub accepts, so that samples reach it in order.
    seq: Mutex<u64>,
}

impl Stamper {
    /// Stamps for `hub`, continuing after the last `seq` it has.
    pub fn new(hub: Arc<Hub>) -> Self {
        let seq = Mutex::new(hub.last_seq());
        Self { hub, seq }
    }

    /// The hub it feeds.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Declares `source` so that it appears (with its interval and its per-series setting rules)
    /// before its first sample.
    pub fn register(&self, source: &Arc<str>, interval: Duration, rules: &[SeriesRule]) {
        self.hub.register_source(source, interval, rules);
    }

    /// Stamps one sample of `source` (its `data` relayed verbatim) and has the hub keep and
    /// broadcast it. The `seq` follows every one the hub has, whoever stamped it (in a cluster,
    /// this instance stamps only while the shared stream is out of reach).
    pub fn publish(&self, source: &Arc<str>, data: Arc<RawValue>) {
        let mut seq = self.seq.lock();
        *seq = (*seq).max(self.hub.last_seq()) + 1;
        self.hub.accept(livedash::Sample { seq: *seq, source: source.clone(), ts_ms: now_ms(), data });
    }

    /// Marks `source` as failing with a readable `reason` (told to clients once per reason).
    pub fn fail(&self, source: &Arc<str>, reason: String) {
        self.hub.set_failing(source, reason);
    }
}
