//! Silences and acknowledgements. A silence covers a rule's instances (of one source and series,
//! or all) until its end, those that appear meanwhile too; an acknowledgement covers the
//! instances that are not ok now, until they resolve or until its end. Neither changes a state:
//! a silenced alert still fires and is listed, it only holds notifications (next issue).
//!
//! Ends: `until_ms` is a wall-clock label, as the user gave it; it is turned once, when the
//! silence is made (or read back at start), into a monotonic deadline (`now + (until_ms -
//! now_ms)`), and a silence lifts by that deadline. So a wall clock stepped back by NTP cannot
//! make a silence last longer than asked, nor one stepped forward lift it early; across a restart
//! the remaining time is taken from the wall clock once more (the only clock that survives).

use std::time::Instant;

use livedash::alerts::{AlertState, Hush};

use super::shared::{Alerts, AlertsError, State, Target};
use super::silence::{Silence, deadline};
use crate::clock::now_ms;
use crate::store::alerts::{AlertWrite, HushRow};

/// The most characters of a comment.
pub const MAX_COMMENT: usize = 1000;

fn check(state: &State, target: &Target, hush: &Hush, now_ms: u64) -> Result<(), AlertsError> {
    if !state.engine.rules().iter().any(|r| *r.name == *target.rule) {
        return Err(AlertsError::UnknownRule(target.rule.clone()));
    }
    if hush.comment.chars().count() > MAX_COMMENT {
        return Err(AlertsError::BadRequest(format!("comment: at most {MAX_COMMENT} characters")));
    }
    if hush.by.trim().is_empty() {
        return Err(AlertsError::BadRequest("who: a user name is needed".to_owned()));
    }
    if hush.until_ms.is_some_and(|u| u <= now_ms) {
        return Err(AlertsError::BadRequest("until_ms: the end must be in the future".to_owned()));
    }
    Ok(())
}

/// See [`Alerts::silence`].
pub fn silence(alerts: &Alerts, target: Target, hush: Hush) -> Result<usize, AlertsError> {
    let (now, now_ms) = (Instant::now(), now_ms());
    let Some(until_ms) = hush.until_ms else {
        return Err(AlertsError::BadRequest("until_ms: a silence needs an end (`until_ms` or `for`)".to_owned()));
    };
    let mut state = alerts.0.state.lock();
    check(&state, &target, &hush, now_ms)?;
    let covered = state
        .engine
        .instances
        .iter()
        .filter(|i| {
            *state.engine.rules()[i.rule].name == *target.rule
                && target.source.as_deref().is_none_or(|s| *s == *i.source)
                && target.series.as_deref().is_none_or(|s| Some(s) == i.series.as_deref())
        })
        .count();
    let Target { rule, source, series } = target;
    let row =
        HushRow { ack: false, rule: rule.clone(), source: source.clone(), series: series.clone(), hush: hush.clone() };
    state.silences.push(Silence { rule, source, series, hush, deadline: deadline(until_ms, now, now_ms) });
    alerts.keep(AlertWrite::Hush(row));
    alerts.publish(&state);
    drop(state);
    alerts.0.hushed.notify_one();
    Ok(covered)
}

/// See [`Alerts::ack`].
pub fn ack(alerts: &Alerts, target: &Target, hush: &Hush) -> Result<usize, AlertsError> {
    let (now, now_ms) = (Instant::now(), now_ms());
    let mut state = alerts.0.state.lock();
    check(&state, target, hush, now_ms)?;
    let until = hush.until_ms.map(|u| deadline(u, now, now_ms));
    let mut rows = Vec::new();
    let names: Vec<bool> = state.engine.rules().iter().map(|r| *r.name == *target.rule).collect();
    for inst in &mut state.engine.instances {
        let matched = names[inst.rule]
            && target.source.as_deref().is_none_or(|s| *s == *inst.source)
            && target.series.as_deref().is_none_or(|s| Some(s) == inst.series.as_deref())
            && inst.machine.phase() != AlertState::Ok;
        if matched {
            inst.acked = Some(hush.clone());
            inst.ack_until = until;
            rows.push(HushRow {
                ack: true,
                rule: target.rule.clone(),
                source: Some(inst.source.to_string()),
                series: inst.series.as_deref().map(str::to_owned),
                hush: hush.clone(),
            });
        }
    }
    let n = rows.len();
    for row in rows {
        alerts.keep(AlertWrite::Hush(row));
    }
    alerts.publish(&state);
    drop(state);
    alerts.0.hushed.notify_one();
    Ok(n)
}

/// Lifts the silences and acknowledgements whose end has come by `now`; whether any did.
pub(super) fn lift(state: &mut State, now: Instant) -> bool {
    let before = state.silences.len();
    state.silences.retain(|s| s.active(now));
    let mut lifted = state.silences.len() != before;
    for inst in &mut state.engine.instances {
        if inst.ack_until.is_some_and(|u| u <= now) {
            inst.acked = None;
            inst.ack_until = None;
            lifted = true;
        }
    }
    lifted
}

/// The next end to come, if any.
pub(super) fn next_end(state: &State) -> Option<Instant> {
    let silences = state.silences.iter().map(|s| s.deadline);
    silences.chain(state.engine.instances.iter().filter_map(|i| i.ack_until)).min()
}

/// Puts back what the store kept: silences, and acknowledgements of instances still not ok.
pub(super) fn restore(state: &mut State, rows: Vec<HushRow>, now: Instant, now_ms: u64) {
    for row in rows {
        let end = row.hush.until_ms.map(|u| deadline(u, now, now_ms));
        if !row.ack {
            if let Some(deadline) = end {
                let HushRow { rule, source, series, hush, .. } = row;
                state.silences.push(Silence { rule, source, series, hush, deadline });
            }
            continue;
        }
        let key = (row.rule.clone(), row.source.clone().unwrap_or_default(), row.series.clone().unwrap_or_default());
        let engine = &mut state.engine;
        let found = (0..engine.instances.len()).find(|&i| engine.disk_key(&engine.instances[i]) == key);
        if let Some(inst) = found.map(|i| &mut engine.instances[i])
            && inst.machine.phase() != AlertState::Ok
        {
            inst.acked = Some(row.hush);
            inst.ack_until = end;
        }
    }
}
