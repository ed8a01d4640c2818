//! From the hub to the instances, and from them to the store and the page.
//!
//! The alerts are the hub's second [`Tap`]: each accepted sample (a reference count on its
//! frame) and each source status change is handed, with the monotonic instant it happened at, to
//! a bounded channel with `try_send`, never waiting. Evaluating inline would need the sample's
//! JSON parsed and every matching instance stepped under the hub's lock, which would hold up
//! every source and socket; the channel moves that to the alerts' own task. Room is kept for
//! status changes: a sample is refused (counted in `livedash_alert_samples_dropped_total`) once
//! fewer than [`RESERVE`] places are left, and the tap says it is behind (so a backfill waits)
//! past half.
//!
//! The task takes what waits in batches, parses the samples outside any lock, steps the
//! instances, records each state change as an event (counted; in memory, and through the
//! store's one writer with the instance's new state), lifts silences whose end has come, and
//! publishes the `alerts` frame through the hub when what it shows changed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use livedash::alerts::{AlertEvent, AlertState};
use livedash::settings::SeriesRule;
use livedash::{Frame, SourceStatus, flatten};
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::engine::{Change, Engine};
use super::hush;
use super::leader::{Clustered, Role};
use super::rules::{self, Rule};
use super::shared::{Alerts, EVENTS_IN_MEMORY, Events, Inner, Pace, State};
use super::view::{self, EVENT_STATES};
use crate::clock::now_ms;
use crate::live::history::Entry;
use crate::live::hub::Hub;
use crate::live::tap::Tap;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::store::alerts::{AlertWrite, InstanceRow};

/// Places in the channel.
pub const CHANNEL: usize = 16_384;
/// Places kept for status changes.
pub const RESERVE: usize = 256;
/// The most messages evaluated under one lock.
const BATCH: usize = 512;

/// A sample's numeric series.
type Values = Vec<(String, f64)>;

enum Msg {
    Sample {
        source: Arc<str>,
        entry: Arc<Entry>,
        at: Instant,
    },
    Status {
        status: SourceStatus,
        at: Instant,
    },
    /// In a cluster: a change decided by the source's lease holder, read from the stream.
    Applied {
        event: AlertEvent,
        seq: u64,
        live: bool,
    },
}

/// The alerts as a tap of the hub.
struct Feed {
    tx: mpsc::Sender<Msg>,
    dropped: Arc<AtomicU64>,
}

impl Tap for Feed {
    fn accepted(&self, source: &Arc<str>, entry: &Arc<Entry>) {
        let msg = Msg::Sample { source: source.clone(), entry: entry.clone(), at: Instant::now() };
        if self.tx.capacity() <= RESERVE || self.tx.try_send(msg).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn status(&self, status: &SourceStatus) {
        if self.tx.try_send(Msg::Status { status: status.clone(), at: Instant::now() }).is_err() {
            tracing::error!(source = %status.source, "alerts: a source's status change was lost (the queue is full)");
        }
    }

    fn behind(&self) -> bool {
        self.tx.capacity() < CHANNEL / 2
    }
}

/// Starts the alerts for `rules` (the implicit "source down" rules are added for the hub's
/// sources that have a fetch interval in `intervals`, each waiting for it), with each source's series
/// settings (for `alert = true` rules): restores the
/// instances and silences the store kept, taps the hub, and evaluates until `shutdown`.
pub fn start(
    rules: Vec<Rule>,
    settings: HashMap<Arc<str>, Arc<[SeriesRule]>>,
    intervals: &HashMap<Arc<str>, std::time::Duration>,
    hub: &Arc<Hub>,
    store: Option<Arc<Store>>,
    mut shutdown: Shutdown,
) -> Alerts {
    let (now, now_ms) = (Instant::now(), now_ms());
    let (rows, hushes) = match store.as_ref().map(|s| crate::store::alerts::load(&s.config().path, now_ms)) {
        Some(Ok(kept)) => kept,
        Some(Err(e)) => {
            tracing::warn!(error = %e, "alerts: the kept instances could not be read; starting afresh");
            Default::default()
        }
        None => Default::default(),
    };
    let saved = rows.iter().map(|r| (r.key.clone(), saved(r))).collect();
    let sources = hub.source_names();
    let valued = sources.iter().filter(|s| rules.iter().any(|r| r.watches_source(s) && !r.condition.about_source()));
    let valued = valued.cloned().collect();
    // The configured sources (those with an interval here), not the fleet's hosts of a targets
    // file, which come and go at run time: the overview tells their state.
    let timed: Vec<_> = sources.iter().filter_map(|s| Some((s.clone(), *intervals.get(s)?))).collect();
    let engine = Engine::new(rules::with_implicit(rules, &timed), settings, saved, now);
    let mut state = State { engine, silences: Vec::new(), pace: Pace::default() };
    hush::restore(&mut state, hushes, now, now_ms);
    let dropped = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = mpsc::channel(CHANNEL);
    let alerts = Alerts(Arc::new(Inner {
        state: Mutex::new(state),
        events: Mutex::new(Events::default()),
        store,
        hub: hub.clone(),
        counts: Default::default(),
        dropped: dropped.clone(),
        hushed: tokio::sync::Notify::new(),
        tokens: Mutex::default(),
        valued,
        channels: std::sync::OnceLock::new(),
        cluster: Clustered::new(Box::new({
            let tx = tx.clone();
            move |event, seq, live| tx.try_send(Msg::Applied { event, seq, live }).is_ok()
        })),
    }));
    alerts.publish(&alerts.0.state.lock());
    hub.add_tap(Arc::new(Feed { tx, dropped }));
    let task = alerts.clone();
    tokio::spawn(async move {
        loop {
            let next = {
                let state = task.0.state.lock();
                hush::next_end(&state).into_iter().chain(state.pace.due()).chain(state.engine.deadline()).min()
            };
            let end = async {
                match next {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                first = rx.recv() => {
                    let Some(first) = first else { break };
                    let mut batch = vec![first];
                    while batch.len() < BATCH && let Ok(msg) = rx.try_recv() {
                        batch.push(msg);
                    }
                    task.handle(batch);
                }
                () = end => task.handle(Vec::new()),
                () = task.0.hushed.notified() => {}
                () = shutdown.stopped() => break,
            }
        }
    });
    alerts
}

/// A sample frame's numeric series (the core's flattening, as the store keeps them).
fn values(text: &str) -> Option<Vec<(String, f64)>> {
    let Ok(Frame::Sample(sample)) = Frame::from_json(text) else { return None };
    let value: serde_json::Value = serde_json::from_str(sample.data.get()).ok()?;
    Some(flatten(&value))
}

impl Alerts {
    fn handle(&self, batch: Vec<Msg>) {
        // Each message's role is taken once: a lease taken over between the parsing and the judging
        // must not make a sample look empty (in a cluster only the holder of a source's lease
        // judges it: `super::cluster`).
        let parsed: Vec<(Msg, Role, Option<Values>)> = batch
            .into_iter()
            .map(|m| {
                let role = match &m {
                    Msg::Sample { source, .. } => self.0.cluster.role(source),
                    Msg::Status { status, .. } => self.0.cluster.role(&status.source),
                    Msg::Applied { .. } => Role::Follow,
                };
                let values = match &m {
                    // A source no series rule watches needs no parsing: its sample only says it is
                    // up; nor does one another instance judges.
                    Msg::Sample { source, entry, .. } if self.0.valued.contains(source) && role != Role::Follow => {
                        values(entry.frame.text.as_str())
                    }
                    Msg::Sample { .. } | Msg::Status { .. } | Msg::Applied { .. } => None,
                };
                (m, role, values)
            })
            .collect();
        let mut state = self.0.state.lock();
        for (msg, role, values) in parsed {
            // A source's error, for the notifications of its source rules.
            let reason = match &msg {
                Msg::Status { status, .. } => status.error.clone(),
                _ => None,
            };
            let changes = match msg {
                Msg::Applied { event, seq, live } => {
                    self.applied(&mut state, event, (seq, live), Instant::now());
                    continue;
                }
                _ if role == Role::Follow => continue,
                Msg::Sample { source, entry, at } => {
                    state.engine.sample(&source, values.as_deref().unwrap_or_default(), at, entry.ts_ms)
                }
                Msg::Status { status, at } => {
                    state.engine.status(&status.source, status.state, status.error.as_deref(), at, status.since_ms)
                }
            };
            match role {
                Role::Lead(token) => self.announce(&state.engine, &changes, token),
                Role::Local | Role::Follow => self.record(&state, &changes, reason.as_deref(), Instant::now()),
            }
        }
        // A source rule's `for` ending while its source is still down (no sample comes to tell it).
        let ticked = state.engine.tick(Instant::now(), now_ms());
        for change in ticked {
            let changes = std::slice::from_ref(&change);
            let source = state.engine.instances[change.instance].source.clone();
            match self.0.cluster.role(&source) {
                Role::Lead(token) => self.announce(&state.engine, changes, token),
                Role::Local => {
                    let reason = state.engine.down_reason(&source);
                    self.record(&state, changes, reason.as_deref(), Instant::now());
                }
                Role::Follow => {}
            }
        }
        let lifted = hush::lift(&mut state, Instant::now());
        if state.engine.take_changed() || lifted {
            state.pace.owe();
        }
        if state.pace.send(Instant::now()) {
            self.publish(&state);
        }
    }

    /// Keeps each change as an event (counted, in memory, in the store) with its instance's state
    /// (`reason`: the source's error, when the changes come from its status).
    fn record(&self, state: &State, changes: &[Change], reason: Option<&str>, now: Instant) {
        for change in changes {
            let inst = &state.engine.instances[change.instance];
            let token = self.0.tokens.lock().get(&inst.source).copied().unwrap_or(0);
            let event = view::event(&state.engine, inst, &change.transition, token);
            self.record_event(state, change.instance, event, (reason, now));
        }
    }

    /// Keeps `event` of instance `i` (counted, in memory, in the store) with the instance's state,
    /// and with it what its notifications need (the store writes their outbox rows with it;
    /// `reason`: why, when known, for a rule about the source).
    pub(super) fn record_event(
        &self,
        state: &State,
        i: usize,
        mut event: AlertEvent,
        (reason, now): (Option<&str>, Instant),
    ) {
        let engine = &state.engine;
        let inst = &engine.instances[i];
        let channels = self.0.channels.get().map_or(&[][..], |c| &c[..]);
        let mut outgoing = view::outgoing(engine, inst, &state.silences, channels, now);
        if inst.series.is_none() && event.to == AlertState::Firing {
            outgoing.reason = reason.map(str::to_owned).or(outgoing.reason);
        }
        if let Some(slot) = EVENT_STATES.iter().position(|s| *s == event.to) {
            self.0.counts[slot].fetch_add(1, Ordering::Relaxed);
        }
        {
            let mut events = self.0.events.lock();
            events.next_id += 1;
            event.id = events.next_id;
            events.recent.push_back(event.clone());
            if events.recent.len() > EVENTS_IN_MEMORY {
                events.recent.pop_front();
            }
        }
        let key = engine.disk_key(inst);
        if event.to == AlertState::Resolved {
            self.keep(AlertWrite::EndAcks(key.clone()));
        }
        self.keep(AlertWrite::Event(event, outgoing));
        self.keep(AlertWrite::Instance(row(key, &inst.machine.save(now))));
    }

    /// Hands the store every instance's state now (the countdowns' time spent), for a restart:
    /// call before the store stops.
    pub fn stop(&self) {
        let saved = self.0.state.lock().engine.saved(Instant::now());
        for (key, saved) in saved {
            if saved.state != Some(AlertState::Ok) || saved.spent_ms > 0 {
                self.keep(AlertWrite::Instance(row(key, &saved)));
            }
        }
    }

    /// Samples the alerts' queue refused (it was full).
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }
}

fn row(key: (String, String, String), saved: &super::machine::Saved) -> InstanceRow {
    InstanceRow {
        key,
        state: saved.state.unwrap_or(AlertState::Ok),
        since_ms: saved.since_ms,
        spent_ms: saved.spent_ms,
        cleared: saved.cleared,
        value: saved.value,
        peak: saved.peak,
    }
}

fn saved(r: &InstanceRow) -> super::machine::Saved {
    super::machine::Saved {
        state: Some(r.state),
        since_ms: r.since_ms,
        spent_ms: r.spent_ms,
        cleared: r.cleared,
        value: r.value,
        peak: r.peak,
    }
}
