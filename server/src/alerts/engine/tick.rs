//! Time passing without a sample: while a source is failing or stale no sample comes, and its
//! status is told once, when it changes; a source rule with a `for` (the implicit "source down"
//! waits three fetches) must still fire once that time has passed. The alerts' task asks when the
//! next such countdown ends ([`Engine::deadline`]) and wakes then ([`Engine::tick`]).

use std::sync::Arc;
use std::time::Instant;

use super::{Change, Engine};
use crate::alerts::machine::{Check, Observation};

impl Engine {
    /// The instances of source rules counting towards their `for` while their source is down,
    /// with the instant their countdown ends.
    fn counting(&self) -> Vec<(usize, Instant)> {
        let mut out = Vec::new();
        for cache in self.sources.values().filter(|c| c.down.is_some()) {
            for &i in &cache.about {
                let inst = &self.instances[i];
                if matches!(inst.check, Check::Failing | Check::Stale)
                    && let Some(since) = inst.machine.pending_since()
                {
                    out.push((i, since + self.rules[inst.rule].for_));
                }
            }
        }
        out
    }

    /// When the next countdown of a source rule ends, if one is running.
    pub fn deadline(&self) -> Option<Instant> {
        self.counting().into_iter().map(|(_, end)| end).min()
    }

    /// Tells the source rules whose countdown has ended by `now` (labelled `now_ms`) that their
    /// source is still down: they fire.
    pub fn tick(&mut self, now: Instant, now_ms: u64) -> Vec<Change> {
        let mut out = Vec::new();
        for (i, end) in self.counting() {
            if end > now {
                continue;
            }
            let down = self.sources.get(&self.instances[i].source).and_then(|c| c.down.clone());
            if let Some(obs) = down {
                self.step(i, now, now_ms, &obs, &mut out);
            }
        }
        out
    }
}

impl Engine {
    /// Why `source` is down, while it is.
    pub fn down_reason(&self, source: &str) -> Option<Arc<str>> {
        match self.sources.get(source)?.down.as_ref()? {
            Observation::Down { reason, .. } => Some(reason.clone()),
            _ => None,
        }
    }
}
