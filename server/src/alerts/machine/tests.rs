//! The state machine, step by step, at instants the test chooses.

use super::*;

const ABOVE_90_CLEAR_80: Check =
    Check::Past { side: Side::Above, value: 90.0, clear: 80.0, inclusive: false, scale: 1.0 };

struct Run {
    m: Machine,
    check: Check,
    timing: Timing,
    t0: Instant,
}

impl Run {
    fn new(check: Check, for_s: u64, keep_s: u64) -> Self {
        let timing = Timing { for_: Duration::from_secs(for_s), keep: Duration::from_secs(keep_s) };
        Self { m: Machine::new(0), check, timing, t0: Instant::now() }
    }

    /// `obs` at second `s`; the wall label is deliberately unrelated (a clock that jumps).
    fn at(&mut self, s: u64, obs: &Observation) -> Option<(AlertState, AlertState)> {
        let now = self.t0 + Duration::from_secs(s);
        let wall = 5_000_000 - s * 7;
        self.m.observe(&self.check, self.timing, now, wall, obs).map(|t| (t.from, t.to))
    }

    fn value(&mut self, s: u64, v: f64) -> Option<(AlertState, AlertState)> {
        self.at(s, &Observation::Value(v))
    }
}

fn down() -> Observation {
    Observation::Down { stale: false, reason: Arc::from("connection refused") }
}

use AlertState::{Firing, Ok as Fine, Pending, Resolved};

#[test]
fn fires_after_for_not_before() {
    let mut r = Run::new(ABOVE_90_CLEAR_80, 10, 0);
    assert_eq!(r.value(0, 95.0), Some((Fine, Pending)));
    assert_eq!(r.value(5, 96.0), None);
    assert_eq!(r.value(9, 97.0), None, "9 s < for");
    assert_eq!(r.value(10, 93.0), Some((Pending, Firing)));
    assert_eq!(r.m.peak(), Some(97.0));
    assert_eq!(r.m.since_ms(), 5_000_000 - 70, "since is the label of the firing observation");
}

#[test]
fn pending_needs_the_threshold_and_goes_back_to_ok() {
    let mut r = Run::new(ABOVE_90_CLEAR_80, 10, 0);
    assert_eq!(r.value(0, 95.0), Some((Fine, Pending)));
    assert_eq!(r.value(3, 85.0), Some((Pending, Fine)), "85 is not past 90");
    assert_eq!(r.value(4, 95.0), Some((Fine, Pending)));
    assert_eq!(r.value(13, 95.0), None, "the timer started again at 4 s");
    assert_eq!(r.value(14, 95.0), Some((Pending, Firing)));
}

#[test]
fn flapping_between_threshold_and_clear_never_refires_and_resolves_once() {
    let mut r = Run::new(ABOVE_90_CLEAR_80, 0, 0);
    assert_eq!(r.value(0, 95.0), Some((Fine, Firing)), "for = 0 fires at once, no pending");
    for s in 1..20 {
        let v = if s % 2 == 0 { 95.0 } else { 85.0 };
        assert_eq!(r.value(s, v), None, "flap at {s} s");
    }
    assert_eq!(r.value(20, 80.0), Some((Firing, Resolved)), "at clear: resolved");
    assert_eq!(r.m.state(), Fine);
    assert_eq!(r.value(21, 79.0), None);
}

#[test]
fn without_clear_it_resolves_at_the_threshold() {
    let check = Check::Past { side: Side::Below, value: 10.0, clear: 10.0, inclusive: false, scale: 1.0 };
    let mut r = Run::new(check, 0, 0);
    assert_eq!(r.value(0, 10.0), None, "not below 10");
    assert_eq!(r.value(1, 5.0), Some((Fine, Firing)));
    assert_eq!(r.value(2, 2.0), None);
    assert_eq!(r.m.peak(), Some(2.0), "below: the peak is the lowest");
    assert_eq!(r.value(3, 10.0), Some((Firing, Resolved)));
}

#[test]
fn the_card_way_counts_the_line_and_scales() {
    let check = Check::Past { side: Side::Above, value: 90.0, clear: 90.0, inclusive: true, scale: 100.0 };
    let mut r = Run::new(check, 0, 0);
    assert_eq!(r.value(0, 0.9), Some((Fine, Firing)), "0.9 x 100 = 90, at the line");
    assert_eq!(r.m.value(), Some(90.0));
    assert_eq!(r.value(1, 0.899), Some((Firing, Resolved)));
}

#[test]
fn keep_firing_for_holds_then_resolves_with_the_resolving_value() {
    let mut r = Run::new(ABOVE_90_CLEAR_80, 0, 30);
    r.value(0, 99.0);
    assert_eq!(r.value(10, 50.0), None, "held by keep_firing_for");
    assert_eq!(r.value(30, 95.0), None, "back past clear: the countdown stops");
    assert_eq!(r.value(31, 50.0), None, "a new countdown from 31 s");
    assert_eq!(r.value(60, 40.0), None);
    let now = r.t0 + Duration::from_secs(61);
    let t = r.m.observe(&r.check, r.timing, now, 1, &Observation::Value(30.0)).expect("resolves");
    assert_eq!((t.from, t.to, t.value, t.peak), (Firing, Resolved, Some(30.0), Some(99.0)));
}

#[test]
fn a_source_down_freezes_firing_and_pauses_pending() {
    let mut r = Run::new(ABOVE_90_CLEAR_80, 10, 0);
    assert_eq!(r.value(0, 95.0), Some((Fine, Pending)));
    assert_eq!(r.at(4, &down()), None);
    assert_eq!(r.m.state(), AlertState::Error);
    assert_eq!(r.m.reason().as_deref(), Some("paused: connection refused"));
    assert_eq!(r.at(100, &Observation::Up), None, "a value rule waits for a value");
    assert_eq!(r.value(200, 95.0), None, "4 s spent before the outage, 0 after it");
    assert_eq!(r.value(205, 95.0), None, "9 s spent");
    assert_eq!(r.value(206, 95.0), Some((Pending, Firing)));
    assert_eq!(r.at(207, &down()), None);
    assert_eq!(r.m.state(), Firing, "frozen");
    assert_eq!(r.m.reason().as_deref(), Some("frozen: connection refused"));
    assert_eq!(r.at(208, &Observation::NoData), None);
    assert_eq!(r.value(300, 10.0), Some((Firing, Resolved)));
}

#[test]
fn no_data_is_neither_a_value_nor_an_error() {
    let mut r = Run::new(ABOVE_90_CLEAR_80, 0, 0);
    assert_eq!(r.at(0, &Observation::NoData), None);
    assert_eq!(r.m.state(), AlertState::NoData);
    assert_eq!(r.m.value(), None);
    assert_eq!(r.value(1, 0.0), None);
    assert_eq!(r.m.state(), Fine);
}

#[test]
fn source_rules_follow_the_source() {
    let mut r = Run::new(Check::Failing, 0, 0);
    assert_eq!(r.at(0, &Observation::Value(1.0)), None);
    assert_eq!(r.at(1, &down()), Some((Fine, Firing)));
    assert_eq!(r.at(2, &Observation::Down { stale: true, reason: Arc::from("no data for 3 s") }), None);
    assert_eq!(r.at(3, &Observation::Up), Some((Firing, Resolved)));
    let mut stale = Run::new(Check::Stale, 5, 0);
    assert_eq!(stale.at(0, &down()), None, "failing is not stale");
    assert_eq!(stale.at(1, &Observation::Down { stale: true, reason: Arc::from("quiet") }), Some((Fine, Pending)));
    assert_eq!(stale.at(7, &Observation::Down { stale: true, reason: Arc::from("quiet") }), Some((Pending, Firing)));
}

#[test]
fn absent_fires_on_no_data_and_is_suppressed_by_a_down_source() {
    let mut r = Run::new(Check::Absent, 5, 0);
    assert_eq!(r.at(0, &Observation::NoData), Some((Fine, Pending)));
    assert_eq!(r.at(3, &down()), None);
    assert_eq!(r.at(50, &Observation::NoData), None, "3 s spent");
    assert_eq!(r.at(52, &Observation::NoData), Some((Pending, Firing)));
    assert_eq!(r.at(53, &Observation::Value(0.0)), Some((Firing, Resolved)));
}

#[test]
fn saved_and_restored_it_keeps_since_and_the_time_spent() {
    let mut r = Run::new(ABOVE_90_CLEAR_80, 10, 0);
    r.value(0, 95.0);
    let saved = r.m.save(r.t0 + Duration::from_secs(6));
    assert_eq!((saved.state, saved.spent_ms), (Some(Pending), 6000));
    let later = Instant::now() + Duration::from_secs(3600);
    let mut back = Machine::restore(&saved, later);
    let obs = Observation::Value(95.0);
    assert_eq!(back.observe(&r.check, r.timing, later + Duration::from_secs(3), 1, &obs), None);
    let t = back.observe(&r.check, r.timing, later + Duration::from_secs(4), 2, &obs).expect("fires");
    assert_eq!((t.from, t.to), (Pending, Firing));
    let saved = back.save(later + Duration::from_secs(5));
    let mut again = Machine::restore(&saved, later + Duration::from_secs(99));
    assert_eq!((again.state(), again.since_ms()), (Firing, 2), "still firing, its since kept");
    assert_eq!(again.observe(&r.check, r.timing, later + Duration::from_secs(100), 3, &obs), None, "no new fired");
}
