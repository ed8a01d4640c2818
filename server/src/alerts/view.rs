//! Instances as the page and the API show them ([`AlertInstance`], the `alerts` frame's
//! [`AlertsStatus`]), events as they are kept, and the alerts' `/metrics` families:
//! `livedash_alerts{state=...}` (instances by state now) and `livedash_alert_events_total{to=...}`
//! (state changes since start).
//!
//! The frame lists the instances that are pending or firing (a paused pending one shows as
//! error, a frozen firing one as firing with its reason), and every source rule that fires; an
//! instance whose value rule is merely held (ok, its source down or its series absent) is left out:
//! the source alert speaks for them, and `instances()` lists them with their state.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use livedash::alerts::{AlertEvent, AlertInstance, AlertState, AlertsStatus, Threshold};

use super::Alerts;
use super::engine::{Engine, Instance};
use super::hush::Silence;
use super::machine::{Check, Transition};
use crate::metrics::{Families, family};

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

impl Families for Alerts {
    fn render(&self, out: &mut String) {
        let states = [AlertState::Firing, AlertState::Pending, AlertState::Ok, AlertState::NoData, AlertState::Error];
        let counted: Vec<AlertState> = {
            let state = self.0.state.lock();
            state.engine.instances.iter().map(|i| i.machine.state()).collect()
        };
        #[allow(clippy::cast_precision_loss)]
        let gauge: Vec<(String, f64)> = states
            .iter()
            .map(|s| {
                let n = counted.iter().filter(|c| *c == s).count();
                (format!(r#"{{state="{}"}}"#, s.as_str()), n as f64)
            })
            .collect();
        family(out, "alerts", "gauge", "Alert instances by state now.", &gauge);
        #[allow(clippy::cast_precision_loss)]
        let events: Vec<(String, f64)> = EVENT_STATES
            .iter()
            .zip(&self.0.counts)
            .map(|(s, n)| (format!(r#"{{to="{}"}}"#, s.as_str()), n.load(Ordering::Relaxed) as f64))
            .collect();
        family(out, "alert_events_total", "counter", "Alert state changes, by the state entered.", &events);
        let dropped = crate::metrics::count(self.dropped());
        family(out, "alert_samples_dropped_total", "counter", "Samples the alerts' full queue refused.", &dropped);
    }
}

/// The alerts as a `/metrics` family writer.
pub fn families(alerts: &Alerts) -> Arc<dyn Families> {
    Arc::new(alerts.clone())
}
