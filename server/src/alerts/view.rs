//! Instances as the page and the API show them ([`AlertInstance`], the `alerts` frame's
//! [`AlertsStatus`]), and events as they are kept.
//!
//! The frame lists the instances that are pending or firing (a paused pending one shows as
//! error, a frozen firing one as firing with its reason), and every source rule that fires; an
//! instance whose value rule is merely held (ok, its source down or its series absent) is left out:
//! the source alert speaks for them, and `instances()` lists them with their state.

use std::sync::Arc;
use std::time::Instant;

use livedash::alerts::{AlertEvent, AlertInstance, AlertState, AlertsStatus, Threshold};

use super::engine::{Engine, Instance};
use super::machine::{Check, Transition};
use super::silence::Silence;
use crate::store::outbox::Outgoing;

/// The words of the states an event enters, in the order of the counters.
pub const EVENT_STATES: [AlertState; 4] =
    [AlertState::Pending, AlertState::Firing, AlertState::Resolved, AlertState::Ok];

/// `inst` as shown at `now`.
pub fn instance(engine: &Engine, inst: &Instance, silences: &[Silence], now: Instant) -> AlertInstance {
    let rule = &engine.rules()[inst.rule];
    let threshold = match inst.check {
        Check::Past { side, value, clear, .. } => Some(Threshold { side, value, clear }),
        _ => None,
    };
    let m = &inst.machine;
    AlertInstance {
        rule: rule.name.clone(),
        source: inst.source.clone(),
        series: inst.series.clone(),
        state: m.state(),
        severity: rule.severity,
        since_ms: m.since_ms(),
        value: m.value(),
        peak: if m.phase() == AlertState::Ok { None } else { m.peak() },
        threshold,
        reason: m.reason(),
        silenced: silences
            .iter()
            .find(|s| s.active(now) && s.covers(&rule.name, &inst.source, inst.series.as_deref()))
            .map(|s| s.hush.clone()),
        acked: inst.acked.clone(),
    }
}

/// The `alerts` frame's content at `now`.
pub fn status(engine: &Engine, silences: &[Silence], now: Instant) -> AlertsStatus {
    AlertsStatus::new(
        engine
            .instances
            .iter()
            .filter(|i| i.machine.phase() != AlertState::Ok)
            .map(|i| instance(engine, i, silences, now))
            .collect(),
    )
}

/// What the notifications of a change of `inst` need at `now`: the channels of its rule (its
/// `notify`, or every one of `channels` when it names none), its threshold, why, and whether a
/// silence covers it.
pub fn outgoing(
    engine: &Engine,
    inst: &Instance,
    silences: &[Silence],
    channels: &[Arc<str>],
    now: Instant,
) -> Outgoing {
    let rule = &engine.rules()[inst.rule];
    let channels = if rule.notify.is_empty() {
        channels.to_vec()
    } else {
        channels.iter().filter(|c| rule.notify.iter().any(|n| n == &***c)).cloned().collect()
    };
    let threshold = match inst.check {
        Check::Past { side, value, clear, .. } => Some(Threshold { side, value, clear }),
        _ => None,
    };
    let silenced = silences.iter().any(|s| s.active(now) && s.covers(&rule.name, &inst.source, inst.series.as_deref()));
    Outgoing { channels, threshold, reason: inst.machine.reason(), silenced }
}

/// The event of `transition` of `inst` (numbered later: by the store, or in memory).
pub fn event(engine: &Engine, inst: &Instance, transition: &Transition, token: u64) -> AlertEvent {
    let rule = &engine.rules()[inst.rule];
    AlertEvent {
        id: 0,
        rule: rule.name.clone(),
        source: inst.source.clone(),
        series: inst.series.clone(),
        from: transition.from,
        to: transition.to,
        value: transition.value,
        peak: transition.peak,
        ts_ms: transition.ts_ms,
        severity: rule.severity,
        token,
    }
}
