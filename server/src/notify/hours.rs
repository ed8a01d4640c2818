//! Quiet hours and reminders ([`Hours`], the delivery tasks' [`Hooks`]).
//!
//! - Quiet hours: inside a channel's `quiet` span (the server's local time, asked on every pass:
//!   a wall clock that jumps never makes anything wait for ever) its rows are held, not sent; on
//!   the first pass after the span, every held row is summed up in ONE digest row, in one
//!   transaction ([`crate::store::outbox::hours::digest`]), which is delivered like any row (claimed,
//!   retried, moved to the fallback) and sent as one message of kind `digest`
//!   ([`super::digest::compose`]: a pair that fired and resolved inside is one notice). Nothing
//!   held is dropped.
//! - Reminders: an alert a channel with `repeat` was told is firing (and not told resolved since)
//!   that still fires, neither silenced nor acknowledged, gets a reminder row every `repeat`,
//!   measured on the monotonic clock from when this instance first saw it told (or since its last
//!   reminder). Their keys are stable (the episode and the reminder's number), so that in a
//!   cluster the lease holder sends each once. None is made inside quiet hours: the alerts still
//!   firing at their end are reminded of at once if their `repeat` has passed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use livedash::alerts::{AlertInstance, AlertState};
use parking_lot::Mutex;

use super::channel::Channel;
use super::digest;
use super::hooks::{Hooks, Pass};
use crate::alerts::Alerts;
use crate::store::StoreError;
use crate::store::outbox::{Row, hours, read};

/// How often a channel with quiet hours or reminders is looked at when nothing else wakes it.
const POLL: Duration = Duration::from_secs(1);

/// Per (channel, key of the firing row told): when its last reminder was made (or it was first
/// seen told, on the monotonic clock), and how many were made.
type Reminding = HashMap<(Arc<str>, String), (Instant, u32)>;

/// Quiet hours and reminders.
pub struct Hours {
    alerts: Alerts,
    reminding: Mutex<Reminding>,
}

impl Hours {
    /// Quiet hours and reminders of alerts judged by `alerts`.
    pub fn new(alerts: Alerts) -> Self {
        Self { alerts, reminding: Mutex::default() }
    }

    /// Sums the rows held for `pass.channel` up in one digest row.
    fn digest(pass: &Pass<'_>) -> Result<(), StoreError> {
        let held: Vec<Row> =
            read::open(pass.conn, &pass.channel.name)?.into_iter().filter(|r| r.state == "held").collect();
        if held.is_empty() {
            return Ok(());
        }
        let key = digest::key(held.iter().map(|r| r.key.as_str()));
        let id = hours::digest(pass.conn, &pass.channel.name, &key, &held, pass.now_ms)?;
        tracing::info!(channel = %pass.channel.name, rows = held.len(), digest = id, "notify: quiet hours ended; their digest is on its way");
        Ok(())
    }

    /// Makes the reminders due on `pass.channel`, every `repeat`.
    fn remind(&self, pass: &Pass<'_>, repeat: Duration) -> Result<(), StoreError> {
        let told = hours::told_firing(pass.conn, &pass.channel.name)?;
        let live = self.alerts.status().instances;
        let name: Arc<str> = pass.channel.name.clone();
        let mut reminding = self.reminding.lock();
        reminding.retain(|(channel, key), _| *channel != name || told.iter().any(|r| &r.key == key));
        for row in &told {
            let Some(alert) = live.iter().find(|a| is(a, row)) else { continue };
            let entry = match reminding.get_mut(&(name.clone(), row.key.clone())) {
                Some(entry) => entry,
                None => {
                    let made = hours::reminders_made(pass.conn, row)?;
                    reminding.entry((name.clone(), row.key.clone())).or_insert((pass.now, made))
                }
            };
            if alert.silenced.is_some() || alert.acked.is_some() || pass.now.duration_since(entry.0) < repeat {
                continue;
            }
            let n = entry.1 + 1;
            hours::remind(pass.conn, row, n, (alert.value, alert.peak), pass.now_ms)?;
            *entry = (pass.now, n);
        }
        Ok(())
    }
}

/// Whether `alert` is the one `row` told of, still firing.
fn is(alert: &AlertInstance, row: &Row) -> bool {
    alert.state == AlertState::Firing
        && *alert.rule == *row.rule
        && *alert.source == *row.source
        && alert.series.as_deref() == row.series.as_deref()
}

impl Hooks for Hours {
    fn hold(&self, channel: &Channel, now_ms: u64) -> bool {
        channel.quiet.is_some_and(|q| q.at(now_ms))
    }

    fn pass(&self, pass: &Pass<'_>) -> Result<Option<Duration>, StoreError> {
        if self.hold(pass.channel, pass.now_ms) {
            return Ok(Some(POLL));
        }
        Self::digest(pass)?;
        if let Some(repeat) = pass.channel.repeat {
            self.remind(pass, repeat)?;
        }
        Ok((pass.channel.quiet.is_some() || pass.channel.repeat.is_some()).then_some(POLL))
    }
}
