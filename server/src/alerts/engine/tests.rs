//! The engine without a server: observations at instants the test chooses (as a replay of
//! stored history would give them).

use std::time::Duration;

use livedash::alerts::{Severity, Threshold};

use super::*;
use crate::alerts::rules::{Origin, with_implicit};

fn value_rule(name: &str, series: &str, above: f64) -> Rule {
    Rule {
        name: Arc::from(name),
        source: "a".into(),
        series: series.into(),
        condition: Condition::Value(Threshold { side: Side::Above, value: above, clear: above }),
        for_: Duration::ZERO,
        keep_firing_for: Duration::ZERO,
        severity: Severity::Warning,
        notify: Vec::new(),
        origin: Origin::Configured(0),
    }
}

fn changes(out: &[Change], engine: &Engine) -> Vec<(String, Option<String>, AlertState)> {
    out.iter()
        .map(|c| {
            let i = &engine.instances[c.instance];
            (engine.rules()[i.rule].name.to_string(), i.series.as_deref().map(str::to_owned), c.transition.to)
        })
        .collect()
}

fn values(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[test]
fn samples_reach_the_matching_instances_and_a_missing_series_is_no_data() {
    let t0 = Instant::now();
    let source: Arc<str> = Arc::from("a");
    let rules = with_implicit(vec![value_rule("hot", "*_pct", 90.0)], &[(source.clone(), Duration::ZERO)]);
    let mut e = Engine::new(rules, HashMap::new(), Vec::new(), t0);
    let out = e.sample(&source, &values(&[("cpu_pct", 95.0), ("mem_pct", 10.0), ("load", 99.0), ("seq", 99.0)]), t0, 1);
    assert_eq!(changes(&out, &e), [("hot".to_owned(), Some("cpu_pct".to_owned()), AlertState::Firing)]);
    assert_eq!(e.instances.len(), 2, "one instance per matching series: load and seq do not match");
    let out = e.sample(&source, &values(&[("mem_pct", 10.0)]), t0 + Duration::from_secs(1), 2);
    assert!(out.is_empty(), "no data is no value: the firing one is frozen, not resolved");
    let cpu = e.instances.iter().find(|i| i.series.as_deref() == Some("cpu_pct")).expect("kept");
    assert_eq!((cpu.machine.state(), cpu.machine.reason().as_deref()), (AlertState::Firing, Some("frozen: no data")));
    let out = e.status(&source, SourceState::Failing, Some("refused"), t0 + Duration::from_secs(2), 3);
    assert_eq!(changes(&out, &e), [("source down".to_owned(), None, AlertState::Firing)]);
    let out = e.sample(&source, &values(&[("cpu_pct", 50.0), ("mem_pct", 10.0)]), t0 + Duration::from_secs(3), 4);
    let got = changes(&out, &e);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.contains(&("source down".to_owned(), None, AlertState::Resolved)));
    assert!(got.contains(&("hot".to_owned(), Some("cpu_pct".to_owned()), AlertState::Resolved)));
}

#[test]
fn card_rules_take_the_series_settings_and_saved_instances_come_back() {
    let t0 = Instant::now();
    let source: Arc<str> = Arc::from("a");
    let card = Rule {
        condition: Condition::Card(CardLevel::Critical),
        origin: Origin::Card,
        ..value_rule("a * critical", "*", 0.0)
    };
    let series = vec![SeriesRule {
        pattern: "lat".into(),
        scale: Some(1000.0),
        critical_above: Some(5.0),
        ..SeriesRule::default()
    }];
    let settings = HashMap::from([(source.clone(), Arc::from(series))]);
    let mut e = Engine::new(vec![card.clone()], settings.clone(), Vec::new(), t0);
    let out = e.sample(&source, &values(&[("lat", 0.005), ("cpu_pct", 95.0), ("other", 1e9)]), t0, 1);
    let fired: Vec<_> = changes(&out, &e).into_iter().map(|(_, s, to)| (s, to)).collect();
    assert_eq!(
        fired,
        [(Some("lat".to_owned()), AlertState::Firing), (Some("cpu_pct".to_owned()), AlertState::Firing)],
        "0.005 x 1000 is at lat's line; cpu_pct has the percentage's default 90; other has no line"
    );
    let saved = e.saved(t0 + Duration::from_secs(1));
    let back = Engine::new(vec![card], settings, saved, t0 + Duration::from_secs(60));
    let states: Vec<_> =
        back.instances.iter().map(|i| (i.series.clone(), i.machine.state(), i.machine.since_ms())).collect();
    assert_eq!(states.len(), 2, "the firing ones are back before any sample: {states:?}");
    assert!(states.iter().all(|(_, s, since)| *s == AlertState::Firing && *since == 1));
}

#[test]
fn a_source_down_fires_when_its_wait_has_passed_though_no_sample_comes() {
    let t0 = Instant::now();
    let source: Arc<str> = Arc::from("a");
    let second = Duration::from_secs(1);
    let mut e = Engine::new(with_implicit(Vec::new(), &[(source.clone(), second)]), HashMap::new(), Vec::new(), t0);
    e.sample(&source, &values(&[("v", 1.0)]), t0, 1);
    assert_eq!(e.deadline(), None, "nothing counts while the source is up");
    let out = e.status(&source, SourceState::Failing, Some("refused"), t0 + second, 2);
    assert_eq!(changes(&out, &e), [("source down".to_owned(), None, AlertState::Pending)]);
    assert_eq!(e.deadline(), Some(t0 + second * 4), "three fetches of 1 s after it went down");
    assert!(e.tick(t0 + second * 3, 3).is_empty(), "not yet");
    let out = e.tick(t0 + second * 4, 4);
    assert_eq!(changes(&out, &e), [("source down".to_owned(), None, AlertState::Firing)]);
    assert_eq!(e.deadline(), None, "firing: nothing counts any more");
    let out = e.sample(&source, &values(&[("v", 1.0)]), t0 + second * 5, 5);
    assert_eq!(changes(&out, &e), [("source down".to_owned(), None, AlertState::Resolved)]);

    // Back before its wait: never fires.
    e.status(&source, SourceState::Failing, Some("refused"), t0 + second * 6, 6);
    e.sample(&source, &values(&[("v", 1.0)]), t0 + second * 7, 7);
    assert_eq!(e.deadline(), None);
    assert!(e.tick(t0 + second * 20, 20).is_empty());
}
