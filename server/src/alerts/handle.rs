//! The alerts' handle as the rest of the server uses it: the `alerts` frame's content, every
//! instance, the rules, the events (from the store, or memory without one), silences and
//! acknowledgements, and the `/metrics` families: `livedash_alerts{state=...}` (instances by state
//! now), `livedash_alert_events_total{to=...}` (state changes since start) and
//! `livedash_alert_samples_dropped_total`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use livedash::alerts::{AlertEvent, AlertInstance, AlertState, AlertsStatus, Hush};

use super::hush;
use super::rules::{Rule, RuleView};
use super::shared::{Alerts, AlertsError, Target};
use super::view::{self, EVENT_STATES};
use crate::metrics::{Families, family};

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

    /// Whether a silence in force now covers the instance of `rule` for `source`'s `series` (a
    /// notification due now is then not sent).
    pub fn silenced(&self, rule: &str, source: &str, series: Option<&str>) -> bool {
        let now = Instant::now();
        self.0.state.lock().silences.iter().any(|s| s.active(now) && s.covers(rule, source, series))
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

    /// Sets the fencing token that the events of `source`'s instances carry from now on (the
    /// lease holder's, in a cluster; 0 until set).
    pub fn set_token(&self, source: &str, token: u64) {
        self.0.tokens.lock().insert(Arc::from(source), token);
    }

    /// Acknowledges the instances of `target` that are not ok (until they resolve, or until
    /// `hush.until_ms`); returns how many.
    pub async fn ack(&self, target: Target, hush: Hush) -> Result<usize, AlertsError> {
        hush::ack(self, &target, &hush)
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
