//! Replaying one rule over one stored series through the alerts' own state machine
//! ([`Machine`], the code the live path runs): each stored value is told at the instant it was
//! taken (a monotonic instant made from its time, so `for` and `keep_firing_for` count what the
//! store holds), the server's own downtime (a gap between two lives) as the source being down,
//! which pauses the countdowns as it does live. A roll-up bucket stands for its minute or hour by
//! its worst value for the rule's side: the highest for `above`, the lowest for `below`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use livedash::alerts::{AlertState, Side};

use super::history::Step;
use crate::alerts::machine::{Check, Machine, Observation, Timing};

/// What a replay tells the machine at a time: a step's value, or the server down.
enum Told {
    Value(f64),
    Down,
}

/// The state changes of an instance comparing `check` with `timing` over `steps` (time-ordered),
/// the server having been down over `gaps`: `(time, state entered)`.
pub fn replay(check: &Check, timing: Timing, steps: &[Step], gaps: &[(u64, u64)]) -> Vec<(u64, AlertState)> {
    let side = match check {
        Check::Past { side, .. } => *side,
        _ => Side::Above,
    };
    let mut told: Vec<(u64, Told)> = steps
        .iter()
        .map(|s| {
            let v = match side {
                Side::Above => s.max,
                Side::Below => s.min,
            };
            (s.t, Told::Value(v))
        })
        .collect();
    told.extend(gaps.iter().map(|&(down, _)| (down, Told::Down)));
    // Stable: a value at the very time the server went down comes first.
    told.sort_by_key(|(t, _)| *t);
    let Some(&(first, _)) = told.first() else { return Vec::new() };
    let base = Instant::now();
    let down = Observation::Down { stale: true, reason: Arc::from("the server was down") };
    let mut machine = Machine::new(first);
    let mut changes = Vec::new();
    for (t, what) in &told {
        let now = base + Duration::from_millis(t - first);
        let obs = match what {
            Told::Value(v) => Observation::Value(*v),
            Told::Down => down.clone(),
        };
        if let Some(change) = machine.observe(check, timing, now, *t, &obs) {
            changes.push((*t, change.to));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::preview::table::Outcome;

    fn above(value: f64, clear: f64) -> Check {
        Check::Past { side: Side::Above, value, clear, inclusive: false, scale: 1.0 }
    }

    /// One value a second from 0 to `n` s: 95 inside the `high` spans (in s), else 50.
    fn steps(n: u64, high: &[(u64, u64)]) -> Vec<Step> {
        (0..n)
            .map(|s| {
                let v = if high.iter().any(|&(a, b)| s >= a && s < b) { 95.0 } else { 50.0 };
                Step { t: s * 1000, min: v, max: v }
            })
            .collect()
    }

    #[test]
    fn a_crossing_shorter_than_for_never_fires_and_longer_ones_fire_once_each() {
        let timing = Timing { for_: Duration::from_secs(30), keep: Duration::ZERO };
        // 20 s (too short), 90 s and 60 s above 90.
        let series = steps(1000, &[(100, 120), (300, 390), (600, 660)]);
        let changes = replay(&above(90.0, 90.0), timing, &series, &[]);
        let o = Outcome::of(&changes, 1_000_000);
        assert_eq!(o.fired, 2, "{changes:?}");
        // Fires 30 s in, resolves at the first value below: 60 s and 30 s of firing.
        assert_eq!((o.firing_ms, o.longest_ms, o.firing_at_end), (90_000, 60_000, false));
    }

    #[test]
    fn the_servers_downtime_pauses_a_pending_rule() {
        let timing = Timing { for_: Duration::from_secs(30), keep: Duration::ZERO };
        // Above from 100 s on, but the server was down from 110 s to 1000 s (no values).
        let mut series = steps(110, &[(100, 200)]);
        series.extend((1000..1030).map(|s| Step { t: s * 1000, min: 95.0, max: 95.0 }));
        let changes = replay(&above(90.0, 90.0), timing, &series, &[(109_500, 1_000_000)]);
        // 9.5 s before the gap and 20.5 s after it: fires at 1021 s, not at the first value after.
        assert!(changes.contains(&(1_021_000, AlertState::Firing)), "{changes:?}");
    }
}
