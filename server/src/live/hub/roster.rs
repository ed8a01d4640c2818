//! The hub's roll of sources: declaring one ([`Hub::register_source`], at start for the configured
//! sources, at run time for the fleet's hosts) and taking one away ([`Hub::unregister_source`]).
//!
//! A removed source's history, status, settings and interval go at once; every socket is told by
//! one last `status` frame whose state is `gone` (in order with the samples), and a later `hello`
//! simply leaves the source out. A `since` from before the removal cannot be resumed exactly (the
//! resume would not say the source went): it gets a full `hello`.

use std::sync::Arc;
use std::time::Duration;

use livedash::SourceState;
use livedash::settings::SeriesRule;

use super::{Hub, tap};
use crate::clock::now_ms;
use crate::live::history::SourceLog;

impl Hub {
    /// Declares a source so that it appears (with its interval and its per-series setting rules,
    /// in the order they apply) before its first sample. A name registered before keeps what it
    /// was first registered with.
    pub fn register_source(&self, name: &Arc<str>, interval: Duration, rules: &[SeriesRule]) {
        let mut inner = self.inner.lock();
        if !inner.sources.contains_key(name) {
            let index = inner.next_index;
            inner.next_index = index.saturating_add(1);
            let log = SourceLog::new(index, name, interval, &self.limits, now_ms());
            inner.sources.insert(name.clone(), log);
            if !rules.is_empty() {
                Arc::make_mut(&mut inner.page.settings).insert(name.to_string(), rules.to_vec());
            }
        }
        inner.changed_statuses();
    }

    /// Takes `name` away: its history, status, settings and interval go, every socket gets its
    /// `gone` status frame (and the taps its `gone` status), and a resume from before now gets a
    /// full `hello`. Samples of it that arrive later are refused as of an unknown source. Returns
    /// whether it was registered.
    pub fn unregister_source(&self, name: &str) -> bool {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        let Some(mut log) = inner.sources.shift_remove(name) else { return false };
        if inner.page.settings.contains_key(name) {
            Arc::make_mut(&mut inner.page.settings).remove(name);
        }
        if let Some(frame) = log.set_status(SourceState::Gone, None, now_ms()) {
            tap::status(&inner.taps, &log.status);
            self.broadcast(frame);
        }
        inner.resumable.restart();
        inner.changed_statuses();
        true
    }

    /// Whether `name` is registered now.
    pub fn has_source(&self, name: &str) -> bool {
        self.inner.lock().sources.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::history::HistoryLimits;
    use crate::live::start::Start;
    use livedash::{Frame, Sample};

    fn hub() -> Hub {
        Hub::with_first_seq(HistoryLimits { max_age: Duration::from_secs(60), max_len: None, max_bytes: 1 << 20 }, 10)
    }

    fn sample(seq: u64, source: &str) -> Sample {
        Sample { seq, source: Arc::from(source), ts_ms: seq, data: livedash::raw_json(&serde_json::json!({"v": 1})) }
    }

    #[test]
    fn a_removed_source_is_told_gone_and_left_out_of_later_hellos() {
        let hub = hub();
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        hub.register_source(&a, Duration::from_secs(1), &[]);
        hub.register_source(&b, Duration::from_secs(1), &[]);
        assert!(hub.accept(sample(11, "a")) && hub.accept(sample(12, "b")));
        let mut live = hub.subscribe(None, None);
        assert!(hub.unregister_source("a") && !hub.unregister_source("a"));
        let frame = live.frames.try_recv().expect("the gone frame");
        let Ok(Frame::Status(status)) = Frame::from_json(frame.text.as_str()) else { panic!("{}", frame.text) };
        assert_eq!((&*status.source, status.state), ("a", SourceState::Gone));
        assert!(!hub.accept(sample(13, "a")), "a sample of a removed source is refused");
        let hello = hub.snapshot();
        let names: Vec<&str> = hello.sources.iter().map(|s| &*s.source).collect();
        assert_eq!(names, ["b"]);
        assert!(hello.history.iter().all(|s| &*s.source == "b") && !hello.interval_ms.contains_key("a"));
        // A resume from before the removal would not say that `a` went: a full hello.
        assert!(matches!(hub.subscribe(Some(12), None).start, Start::Hello(_)));
        // Registered again, it is a new source with its own index (the old one is not reused).
        hub.register_source(&a, Duration::from_secs(2), &[]);
        assert!(hub.has_source("a") && hub.accept(sample(14, "a")));
        let frame = live.frames.try_recv().expect("the new sample");
        assert_eq!(frame.kind, crate::live::outgoing::FrameKind::Sample { source: 2, seq: 14 });
        assert!(matches!(hub.subscribe(Some(14), None).start, Start::Resume(_)));
    }
}
