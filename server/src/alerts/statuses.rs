//! The sources' status changes on their way from the hub to the alerts' task: one place per
//! source, the latest change wins.
//!
//! A bounded queue of changes overflowed when a fleet of a thousand sources changed together
//! (its places were taken by samples, and a change that found no place was lost, with the alert
//! it should have raised). Here a source's change replaces the one of the same source still
//! waiting: the alerts judge the state a source is in, and a state that was replaced before the
//! task took it lasted less than one batch. The memory is one entry per source, and nothing is
//! refused.
//!
//! Each change keeps the monotonic instant it happened at, so that the task can put it among the
//! samples taken from the queue in the order they happened ([`merge`]).

use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;
use livedash::SourceStatus;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// The changes waiting for the alerts' task, the latest per source.
#[derive(Debug, Default)]
pub struct Statuses {
    waiting: Mutex<IndexMap<Arc<str>, (SourceStatus, Instant)>>,
    wake: Notify,
}

impl Statuses {
    /// Keeps `status` (changed at `at`) in place of any change of its source still waiting, and
    /// wakes the task. Never waits beyond the short lock, never refuses.
    pub fn put(&self, status: &SourceStatus, at: Instant) {
        self.waiting.lock().insert(status.source.clone(), (status.clone(), at));
        self.wake.notify_one();
    }

    /// Takes the waiting changes that happened at or before `until` (all of them with `None`),
    /// oldest first.
    pub fn take(&self, until: Option<Instant>) -> Vec<(SourceStatus, Instant)> {
        let mut taken = Vec::new();
        self.waiting.lock().retain(|_, (status, at)| {
            let due = until.is_none_or(|until| *at <= until);
            if due {
                taken.push((status.clone(), *at));
            }
            !due
        });
        taken.sort_by_key(|(_, at)| *at);
        taken
    }

    /// How many sources have a change waiting.
    pub fn len(&self) -> usize {
        self.waiting.lock().len()
    }

    /// Whether no change waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resolves once a change was put since the last time it resolved (a change put while no one
    /// waited is not missed).
    pub async fn changed(&self) {
        self.wake.notified().await;
    }
}

/// `items` (in the order they happened, each with its instant when it has one) with `changes`
/// (oldest first) put among them: a change goes before the first item that happened after it;
/// an item without an instant keeps its place after the one before it.
pub fn merge<T>(
    items: Vec<T>,
    changes: Vec<(SourceStatus, Instant)>,
    at: impl Fn(&T) -> Option<Instant>,
    change: impl Fn(SourceStatus, Instant) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len() + changes.len());
    let mut changes = changes.into_iter().peekable();
    for item in items {
        if let Some(when) = at(&item) {
            while let Some((status, t)) = changes.next_if(|(_, t)| *t < when) {
                out.push(change(status, t));
            }
        }
        out.push(item);
    }
    out.extend(changes.map(|(status, t)| change(status, t)));
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use livedash::SourceState;

    use super::*;

    fn status(source: &str, state: SourceState) -> SourceStatus {
        SourceStatus { source: Arc::from(source), state, error: None, since_ms: 1 }
    }

    #[test]
    fn the_latest_change_of_a_source_wins_and_the_others_wait_their_turn() {
        let statuses = Statuses::default();
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        statuses.put(&status("a", SourceState::Failing), at(0));
        statuses.put(&status("b", SourceState::Stale), at(1));
        statuses.put(&status("a", SourceState::Ok), at(2));
        assert_eq!(statuses.len(), 2);
        let early = statuses.take(Some(at(1)));
        assert_eq!(early.iter().map(|(s, _)| (&*s.source, s.state)).collect::<Vec<_>>(), [("b", SourceState::Stale)]);
        let rest = statuses.take(None);
        assert_eq!(rest.iter().map(|(s, _)| (&*s.source, s.state)).collect::<Vec<_>>(), [("a", SourceState::Ok)]);
        assert!(statuses.is_empty());
    }

    #[test]
    fn a_change_goes_among_the_items_by_its_instant() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        // Items: (name, instant); `None` for an item with no instant (it follows its predecessor).
        let items = vec![("s1", Some(at(10))), ("applied", None), ("s2", Some(at(30)))];
        let changes = vec![(status("x", SourceState::Failing), at(5)), (status("y", SourceState::Ok), at(20))];
        let changes = changes.into_iter().chain([(status("z", SourceState::Ok), at(40))]).collect();
        let merged =
            merge(items, changes, |(_, t)| *t, |s, t| (if &*s.source == "x" { "x" } else { "y or z" }, Some(t)));
        let names: Vec<&str> = merged.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["x", "s1", "applied", "y or z", "s2", "y or z"]);
    }
}
