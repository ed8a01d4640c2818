//! One alert instance's state machine, pure: given a monotonic instant, the wall-clock label of
//! that instant and an [`Observation`] (a value, the series absent, the source down or back), it
//! moves between ok, pending and firing and returns the [`Transition`] when there is one. No
//! clock is read here and nothing is waited for, so the live path, a restart and the preview
//! (`alerts check`, replaying stored history at given instants) run the very same code.
//!
//! - `for`: pending until the condition has held that long (monotonic), then firing; a value on
//!   the good side of the threshold before then is back to ok.
//! - Hysteresis: firing lasts while the value stays past `clear` (pending needs the threshold).
//! - `keep_firing_for`: once the condition ends, firing holds that long before it resolves; the
//!   condition coming back meanwhile cancels the countdown without a new event.
//! - Peak: the worst value since the episode began (pending, or firing at once).
//! - Hold: while the source is down (or the series has no data) a value rule judges nothing: a
//!   firing instance stays firing, frozen, with the reason; pending and keep-firing countdowns
//!   pause (the time of the hold is not counted) and resume when values come back.
//!
//! The wall clock only labels (`since_ms`, `ts_ms`): a jump of it changes no decision.

use std::sync::Arc;
use std::time::{Duration, Instant};

use livedash::alerts::{AlertState, Side};

/// What a rule instance is told.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The series' value in a sample.
    Value(f64),
    /// A sample of the source came without the series.
    NoData,
    /// The source is failing (`stale: false`) or stale, for `reason`.
    Down {
        /// Stale (no sample for a while) rather than failing.
        stale: bool,
        /// Why, in words.
        reason: Arc<str>,
    },
    /// The source is ok again (a sample arrived).
    Up,
}

/// What an instance compares: fixed for its life (resolved once from the rule and the series).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// A value past `value` (starting) or past `clear` (lasting), on `side`; `inclusive`: at the
    /// threshold counts as past it (the card's way). The value is multiplied by `scale` first.
    Past {
        /// Which side fires.
        side: Side,
        /// Where it starts.
        value: f64,
        /// Where it lasts while firing.
        clear: f64,
        /// At the line counts.
        inclusive: bool,
        /// Factor applied to every value first.
        scale: f64,
    },
    /// The series is missing.
    Absent,
    /// The source is failing or stale.
    Failing,
    /// The source is stale.
    Stale,
}

/// How long, of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    /// `for`.
    pub for_: Duration,
    /// `keep_firing_for`.
    pub keep: Duration,
}

/// Why an instance judges nothing for now.
#[derive(Debug, Clone, PartialEq)]
pub enum Hold {
    /// The series is absent from the source's samples.
    NoData,
    /// The source is failing or stale, for this reason.
    Error(Arc<str>),
}

/// A state change.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The state left.
    pub from: AlertState,
    /// The state entered.
    pub to: AlertState,
    /// The value that caused it.
    pub value: Option<f64>,
    /// The worst value of the episode.
    pub peak: Option<f64>,
    /// The wall-clock label of the observation.
    pub ts_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Ok,
    /// Pending since `started` (moved later by holds, so that `now - started` is the time spent).
    Pending {
        started: Instant,
    },
    /// Firing; `cleared`: since when the condition has ended (keep-firing countdown).
    Firing {
        cleared: Option<Instant>,
    },
}

/// What an instance keeps across a restart: its state, the label of since when, and the time
/// its countdown has already spent (pending: towards `for`; firing after the condition ended:
/// towards `keep_firing_for`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Saved {
    /// Ok, pending or firing.
    pub state: Option<AlertState>,
    /// Since when (wall label).
    pub since_ms: u64,
    /// The countdown's time spent, in ms.
    pub spent_ms: u64,
    /// Firing, with the condition ended (counting towards `keep_firing_for`).
    pub cleared: bool,
    /// The last value.
    pub value: Option<f64>,
    /// The episode's peak.
    pub peak: Option<f64>,
}

/// One instance's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    phase: Phase,
    since_ms: u64,
    value: Option<f64>,
    peak: Option<f64>,
    hold: Option<(Hold, Instant)>,
}

enum Verdict {
    Holds(Option<f64>),
    Ends(Option<f64>),
    Held(Hold),
    Ignore,
}

impl Check {
    fn past(&self, x: f64, line: f64) -> bool {
        match self {
            Self::Past { side: Side::Above, inclusive: true, .. } => x >= line,
            Self::Past { side: Side::Above, .. } => x > line,
            Self::Past { side: Side::Below, inclusive: true, .. } => x <= line,
            Self::Past { side: Side::Below, .. } => x < line,
            _ => false,
        }
    }

    /// The worse of two values (the peak's direction).
    fn worse(&self, a: f64, b: f64) -> f64 {
        match self {
            Self::Past { side: Side::Below, .. } => a.min(b),
            _ => a.max(b),
        }
    }

    fn judge(&self, obs: &Observation, firing: bool) -> Verdict {
        match (self, obs) {
            (Self::Past { value, clear, scale, .. }, Observation::Value(x)) => {
                let x = x * scale;
                let line = if firing { *clear } else { *value };
                if self.past(x, line) { Verdict::Holds(Some(x)) } else { Verdict::Ends(Some(x)) }
            }
            (Self::Past { .. } | Self::Absent, Observation::Down { reason, .. }) => {
                Verdict::Held(Hold::Error(reason.clone()))
            }
            (Self::Past { .. }, Observation::NoData) => Verdict::Held(Hold::NoData),
            (Self::Absent, Observation::Value(x)) => Verdict::Ends(Some(*x)),
            (Self::Absent, Observation::NoData) | (Self::Failing, Observation::Down { .. }) => Verdict::Holds(None),
            (Self::Stale, Observation::Down { stale, .. }) => {
                if *stale {
                    Verdict::Holds(None)
                } else {
                    Verdict::Ends(None)
                }
            }
            (Self::Failing | Self::Stale, Observation::Up | Observation::Value(_)) => Verdict::Ends(None),
            _ => Verdict::Ignore,
        }
    }
}

impl Machine {
    /// A new instance: ok since `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        Self { phase: Phase::Ok, since_ms: now_ms, value: None, peak: None, hold: None }
    }

    /// Tells the instance `obs`, seen at `now` (labelled `now_ms`); returns the state change it
    /// makes, if any.
    pub fn observe(
        &mut self,
        check: &Check,
        timing: Timing,
        now: Instant,
        now_ms: u64,
        obs: &Observation,
    ) -> Option<Transition> {
        let firing = matches!(self.phase, Phase::Firing { .. });
        let (value, holds) = match check.judge(obs, firing) {
            Verdict::Ignore => return None,
            Verdict::Held(hold) => {
                let began = self.hold.take().map_or(now, |(_, began)| began);
                self.hold = Some((hold, began));
                return None;
            }
            Verdict::Holds(v) => (v, true),
            Verdict::Ends(v) => (v, false),
        };
        if let Some((_, began)) = self.hold.take() {
            let paused = now.saturating_duration_since(began);
            match &mut self.phase {
                Phase::Pending { started } => *started += paused,
                Phase::Firing { cleared: Some(c) } => *c += paused,
                Phase::Ok | Phase::Firing { cleared: None } => {}
            }
        }
        self.value = value;
        if holds {
            if self.phase == Phase::Ok {
                self.peak = value;
                if timing.for_.is_zero() {
                    return Some(self.enter(Phase::Firing { cleared: None }, now_ms));
                }
                return Some(self.enter(Phase::Pending { started: now }, now_ms));
            }
            self.peak = match (self.peak, value) {
                (Some(p), Some(v)) => Some(check.worse(p, v)),
                (p, v) => p.or(v),
            };
            return match self.phase {
                Phase::Pending { started } if now.saturating_duration_since(started) >= timing.for_ => {
                    Some(self.enter(Phase::Firing { cleared: None }, now_ms))
                }
                Phase::Firing { .. } => {
                    self.phase = Phase::Firing { cleared: None };
                    None
                }
                _ => None,
            };
        }
        match self.phase {
            Phase::Ok => None,
            Phase::Pending { .. } => Some(self.enter(Phase::Ok, now_ms)),
            Phase::Firing { cleared } => {
                let cleared = cleared.unwrap_or(now);
                if now.saturating_duration_since(cleared) >= timing.keep {
                    let t = self.enter(Phase::Ok, now_ms);
                    Some(Transition { to: AlertState::Resolved, ..t })
                } else {
                    self.phase = Phase::Firing { cleared: Some(cleared) };
                    None
                }
            }
        }
    }

    fn enter(&mut self, phase: Phase, now_ms: u64) -> Transition {
        let from = self.phase_state();
        self.phase = phase;
        self.since_ms = now_ms;
        Transition { from, to: self.phase_state(), value: self.value, peak: self.peak, ts_ms: now_ms }
    }

    fn phase_state(&self) -> AlertState {
        match self.phase {
            Phase::Ok => AlertState::Ok,
            Phase::Pending { .. } => AlertState::Pending,
            Phase::Firing { .. } => AlertState::Firing,
        }
    }

    /// Since when it is pending (monotonic; moved later by holds, so `now - since` is the time
    /// spent towards `for`), if it is.
    pub fn pending_since(&self) -> Option<Instant> {
        match self.phase {
            Phase::Pending { started } => Some(started),
            Phase::Ok | Phase::Firing { .. } => None,
        }
    }

    /// Its state as shown: firing stays firing while held (frozen); otherwise a hold shows as
    /// no data or error.
    pub fn state(&self) -> AlertState {
        match (&self.phase, &self.hold) {
            (Phase::Firing { .. }, _) | (_, None) => self.phase_state(),
            (_, Some((Hold::NoData, _))) => AlertState::NoData,
            (_, Some((Hold::Error(_), _))) => AlertState::Error,
        }
    }

    /// What it shows, cheaply compared: its state, and whether (and why) it is held.
    pub fn shown(&self) -> (AlertState, Option<Hold>) {
        (self.state(), self.hold.as_ref().map(|(h, _)| h.clone()))
    }

    /// Its state ignoring any hold: ok, pending or firing.
    pub fn phase(&self) -> AlertState {
        self.phase_state()
    }

    /// Why it judges nothing now, in words, if it does not.
    pub fn reason(&self) -> Option<String> {
        let (hold, _) = self.hold.as_ref()?;
        let why = match hold {
            Hold::NoData => "no data",
            Hold::Error(reason) => reason,
        };
        Some(match self.phase {
            Phase::Firing { .. } => format!("frozen: {why}"),
            Phase::Pending { .. } => format!("paused: {why}"),
            Phase::Ok => why.to_owned(),
        })
    }

    /// Since when it is in its state (wall label).
    pub fn since_ms(&self) -> u64 {
        self.since_ms
    }

    /// The last value it judged.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The worst value of the current (or last) episode.
    pub fn peak(&self) -> Option<f64> {
        self.peak
    }

    /// What to keep of it at `now`, for a restart.
    pub fn save(&self, now: Instant) -> Saved {
        let at = self.hold.as_ref().map_or(now, |(_, began)| *began);
        let spent = |from: Instant| u64::try_from(at.saturating_duration_since(from).as_millis()).unwrap_or(u64::MAX);
        let (spent_ms, cleared) = match self.phase {
            Phase::Ok | Phase::Firing { cleared: None } => (0, false),
            Phase::Pending { started } => (spent(started), false),
            Phase::Firing { cleared: Some(c) } => (spent(c), true),
        };
        Saved {
            state: Some(self.phase_state()),
            since_ms: self.since_ms,
            spent_ms,
            cleared,
            value: self.value,
            peak: self.peak,
        }
    }

    /// An instance as `saved` left it, at `now`: its countdown continues from the time already
    /// spent (the time the server was down is not counted: nothing was observed).
    pub fn restore(saved: &Saved, now: Instant) -> Self {
        let back = now.checked_sub(Duration::from_millis(saved.spent_ms)).unwrap_or(now);
        let phase = match saved.state {
            Some(AlertState::Pending) => Phase::Pending { started: back },
            Some(AlertState::Firing) => Phase::Firing { cleared: saved.cleared.then_some(back) },
            _ => Phase::Ok,
        };
        Self { phase, since_ms: saved.since_ms, value: saved.value, peak: saved.peak, hold: None }
    }
}

#[cfg(test)]
mod tests;
