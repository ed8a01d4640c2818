//! Alerts: rules that watch the sources' series, evaluated on every sample where the hub accepts
//! it, their states, events, silences and acknowledgements.
//!
//! - [`rules`]: the typed rules ([`Rule`], [`RuleView`]) and the implicit "source down" rule;
//! - [`machine`]: one instance's pure state machine (ok, pending, firing, resolved; `for`,
//!   `keep_firing_for`, hysteresis, peak, holds), the same code for the live path and a replay;
//! - [`cluster`], [`leader`]: with `--redis-url`, only the holder of a source's lease judges its
//!   rules; its changes reach every instance through the shared stream;
//! - [`engine`]: every instance, and which rules a (source, series) feeds, resolved once;
//! - [`feed`]: the hub's tap and status hook, a bounded channel, and the task that evaluates,
//!   writes events and instances through the store's writer and publishes the `alerts` frame;
//! - [`hush`]: silences and acknowledgements (who, until, comment), lifting by themselves;
//! - [`preview`]: `livedash alerts check`, each rule replayed over the history store's past;
//! - [`view`]: instances as the page and the API show them, and `/metrics`.
//!
//! May import the core (`livedash`), [`crate::live`] (the hub it taps and tells),
//! [`crate::store`] (its writer and reads), [`crate::metrics`] (the families it writes),
//! [`crate::cluster`] (the stream its changes travel through, in a cluster), [`crate::clock`] and
//! [`crate::shutdown`]; nothing from the config, the sources or the router
//! (the config makes [`Rule`]s; `api` takes an [`Alerts`]).

pub mod cluster;
pub mod engine;
pub mod feed;
pub mod hush;
pub mod leader;
pub mod machine;
pub mod preview;
pub mod rules;
pub mod view;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use livedash::alerts::{AlertEvent, AlertInstance, AlertsStatus, Hush};
use parking_lot::Mutex;

pub use rules::{Rule, RuleView};

use crate::live::hub::Hub;
use crate::store::Store;
use engine::Engine;
use hush::Silence;

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
struct Inner {
    state: Mutex<State>,
    events: Mutex<Events>,
    store: Option<Arc<Store>>,
    hub: Arc<Hub>,
    /// Events by the state they entered: pending, firing, resolved, ok.
    counts: [AtomicU64; 4],
    /// Samples the alerts' queue refused.
    dropped: Arc<AtomicU64>,
    /// Told when a silence or an acknowledgement with an end is made (the task's next wake-up).
    hushed: tokio::sync::Notify,
    /// Which sources this instance judges, in a cluster.
    cluster: leader::Clustered,
}

/// The instances and the silences, under one lock.
struct State {
    engine: Engine,
    silences: Vec<Silence>,
    /// The last `alerts` frame content published.
    published: Option<AlertsStatus>,
}

/// Recent events (the store keeps them all), and the next number for one.
#[derive(Default)]
struct Events {
    recent: VecDeque<AlertEvent>,
    next_id: i64,
}

/// The alerts, cheap to clone: the rules, their instances, events and silences.
#[derive(Clone)]
pub struct Alerts(Arc<Inner>);

impl Alerts {
    /// The non-ok instances (the `alerts` frame's content).
    pub fn status(&self) -> AlertsStatus {
        let state = self.0.state.lock();
        view::status(&state.engine, &state.silences, Instant::now())
    }

    /// Every instance, ok ones too.
    pub fn instances(&self) -> Vec<AlertInstance> {
        let state = self.0.state.lock();
        let now = Instant::now();
        state.engine.instances.iter().map(|i| view::instance(&state.engine, i, &state.silences, now)).collect()
    }

    /// Every rule, as configured (the implicit ones last).
    pub fn rules(&self) -> Vec<RuleView> {
        self.0.state.lock().engine.rules().iter().map(Rule::view).collect()
    }

    /// The events from `from_ms` to `to_ms` (wall labels, inclusive), the newest `limit` of them,
    /// oldest first.
    pub async fn events(&self, from_ms: u64, to_ms: u64, limit: usize) -> Result<Vec<AlertEvent>, AlertsError> {
        if from_ms > to_ms {
            return Err(AlertsError::BadRequest(format!("from ({from_ms}) is after to ({to_ms})")));
        }
        let Some(store) = self.0.store.clone() else {
            let events = self.0.events.lock();
            let mut out: Vec<AlertEvent> =
                events.recent.iter().filter(|e| e.ts_ms >= from_ms && e.ts_ms <= to_ms).cloned().collect();
            let skip = out.len().saturating_sub(limit);
            out.drain(..skip);
            return Ok(out);
        };
        tokio::task::spawn_blocking(move || {
            store.flush();
            crate::store::alerts::events(&store.config().path, from_ms, to_ms, limit)
        })
        .await
        .map_err(|e| AlertsError::Store(e.to_string()))?
        .map_err(|e| AlertsError::Store(e.to_string()))
    }

    /// Silences the instances of `target` (those there are now and those that appear while it
    /// lasts) until `hush.until_ms`; returns how many instances it covers now.
    pub async fn silence(&self, target: Target, hush: Hush) -> Result<usize, AlertsError> {
        hush::silence(self, target, hush)
    }

    /// Acknowledges the instances of `target` that are not ok (until they resolve, or until
    /// `hush.until_ms`); returns how many.
    pub async fn ack(&self, target: Target, hush: Hush) -> Result<usize, AlertsError> {
        hush::ack(self, target, hush)
    }
}
