//! What the alerts' handle, its task and its silences share: the instances and silences under one
//! lock, the recent events, the counters, and the two ways out (the store's writer, the hub's
//! `alerts` frame); and the errors and targets of the handle's requests.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use livedash::alerts::AlertEvent;
use parking_lot::Mutex;

use super::engine::Engine;
use super::silence::Silence;
use super::view;
use crate::live::hub::Hub;
use crate::store::Store;
use crate::store::alerts::AlertWrite;

/// Why an alerts request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AlertsError {
    /// No rule has that name (404).
    #[error("no alert rule is named {0:?}")]
    UnknownRule(String),
    /// The request is malformed: an end in the past, a comment too long... (400).
    #[error("{0}")]
    BadRequest(String),
    /// The history store failed (503).
    #[error("history store: {0}")]
    Store(String),
}

/// Which instances a silence or an acknowledgement is for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Target {
    /// The rule's name.
    pub rule: String,
    /// One source (`None`: every source of the rule).
    pub source: Option<String>,
    /// One series (`None`: every series of the rule).
    pub series: Option<String>,
}

/// The most events kept in memory (all of them when there is no store; the store keeps them all).
pub const EVENTS_IN_MEMORY: usize = 10_000;

/// What the handle and its task share.
pub(super) struct Inner {
    pub(super) state: Mutex<State>,
    pub(super) events: Mutex<Events>,
    pub(super) store: Option<Arc<Store>>,
    pub(super) hub: Arc<Hub>,
    /// Events by the state they entered: pending, firing, resolved, ok.
    pub(super) counts: [AtomicU64; 4],
    /// Samples the alerts' queue refused.
    pub(super) dropped: Arc<AtomicU64>,
    /// Told when a silence or an acknowledgement with an end is made (the task's next wake-up).
    pub(super) hushed: tokio::sync::Notify,
    /// The fencing token each source's events carry (absent: 0, not clustered).
    pub(super) tokens: Mutex<std::collections::HashMap<Arc<str>, u64>>,
    /// The sources that some series rule watches (the others' samples are not parsed).
    pub(super) valued: std::collections::HashSet<Arc<str>>,
    /// The names of the notification channels, once the notifications started
    /// ([`Alerts::notify_through`]); none before.
    pub(super) channels: std::sync::OnceLock<Vec<Arc<str>>>,
    /// Which sources this instance judges, in a cluster.
    pub(super) cluster: super::leader::Clustered,
}

/// The instances and the silences, under one lock.
pub(super) struct State {
    pub(super) engine: Engine,
    pub(super) silences: Vec<Silence>,
    pub(super) pace: Pace,
}

/// The shortest time between two `alerts` frames made by the evaluation. A quiet change is sent at
/// once; a storm of changes (thousands of instances crossing back and forth) is sent as it stands
/// four times a second instead of once per sample, whose frames cost more than judging the samples.
pub(super) const FRAME_GAP: std::time::Duration = std::time::Duration::from_millis(250);

/// Whether the `alerts` frame is owed, and when the last was sent (monotonic).
#[derive(Default)]
pub(super) struct Pace {
    owed: bool,
    sent: Option<Instant>,
}

impl Pace {
    /// Something the frame shows changed.
    pub(super) fn owe(&mut self) {
        self.owed = true;
    }

    /// Whether the owed frame may go at `now`; if so it counts as sent.
    pub(super) fn send(&mut self, now: Instant) -> bool {
        let ready = self.owed && self.sent.is_none_or(|at| now.duration_since(at) >= FRAME_GAP);
        if ready {
            (self.owed, self.sent) = (false, Some(now));
        }
        ready
    }

    /// When an owed frame may go, if one is owed.
    pub(super) fn due(&self) -> Option<Instant> {
        self.owed.then(|| self.sent.map_or_else(Instant::now, |at| at + FRAME_GAP))
    }
}

/// Recent events (the store keeps them all), and the next number for one.
#[derive(Default)]
pub(super) struct Events {
    pub(super) recent: VecDeque<AlertEvent>,
    pub(super) next_id: i64,
}

/// The alerts, cheap to clone: the rules, their instances, events and silences.
#[derive(Clone)]
pub struct Alerts(pub(super) Arc<Inner>);

impl Alerts {
    /// Hands `write` to the store's writer, if there is a store.
    pub(super) fn keep(&self, write: AlertWrite) {
        if let Some(store) = &self.0.store {
            store.alert(write);
        }
    }

    /// From now on every event is handed to the store with the rows of its notifications for
    /// these channels (`channels`: every configured channel's name; a rule whose `notify` is
    /// empty tells them all). Set once; later calls change nothing.
    pub fn notify_through(&self, channels: Vec<Arc<str>>) {
        let _ = self.0.channels.set(channels);
    }

    /// Publishes the `alerts` frame (called when what it shows changed: see `Engine::take_changed`).
    pub(super) fn publish(&self, state: &State) {
        self.0.hub.set_alerts(view::status(&state.engine, &state.silences, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_change_goes_at_once_and_a_storm_four_times_a_second() {
        let mut pace = Pace::default();
        let t0 = Instant::now();
        assert!(!pace.send(t0), "nothing owed, nothing sent");
        pace.owe();
        assert!(pace.send(t0), "the first change goes at once");
        pace.owe();
        assert!(!pace.send(t0 + FRAME_GAP / 2), "the next waits for the gap");
        assert_eq!(pace.due(), Some(t0 + FRAME_GAP), "and says when");
        assert!(pace.send(t0 + FRAME_GAP));
        assert_eq!(pace.due(), None);
    }
}
