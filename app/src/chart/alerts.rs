//! The alerts a large chart shows: each span during which an alert on one of its series fired, as
//! a band, and each state change as a mark, with the same in words for screen readers (colour is
//! never alone). From the events of the chart's range (`GET /api/alerts/events`) and, for a span
//! still firing, the live `alerts` frame. A span runs from an event into `firing` to the next event
//! of the same instance leaving it, or to the range's end while it still fires.

use std::sync::Arc;

use livedash::alerts::{AlertEvent, AlertState, AlertsStatus, Severity};

/// A span during which one alert instance fired, within the chart's range.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// The rule's name.
    pub rule: Arc<str>,
    /// The series it watches.
    pub series: Arc<str>,
    /// The rule's severity.
    pub severity: Severity,
    /// When it started firing (the range's start if before it), in ms.
    pub from: u64,
    /// When it stopped (the range's end while it still fires), in ms.
    pub to: u64,
    /// Whether it still fires at the range's end.
    pub ongoing: bool,
}

/// What a chart shows of alerts: firing spans (by start) and state changes (oldest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartAlerts {
    /// The firing spans.
    pub spans: Vec<Firing>,
    /// The state changes within the range: `(time, rule, new state)`.
    pub marks: Vec<(u64, Arc<str>, AlertState)>,
}

/// The events of a `GET /api/alerts/events` answer (`{"events":[..]}`); unreadable items are
/// skipped, an answer of another shape is `None`.
pub fn parse_events(text: &str) -> Option<Vec<AlertEvent>> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(v.get("events")?.as_array()?.iter().filter_map(livedash::alerts::read::event).collect())
}

/// The alerts on `series` (names) of `source` over `(start, end)` ms: from `events` (oldest first)
/// and, for what fired before the range and still fires, the live `status`.
pub fn chart_alerts(
    events: &[AlertEvent],
    status: Option<&AlertsStatus>,
    source: &str,
    series: &[String],
    (start, end): (u64, u64),
) -> ChartAlerts {
    let mine = |src: &str, s: Option<&str>| src == source && s.is_some_and(|s| series.iter().any(|n| n == s));
    // Spans as (rule, series, severity, from, to, ongoing); those not closed yet in `open`.
    type Span = (Arc<str>, Arc<str>, Severity, u64);
    let mut spans: Vec<(Span, u64, bool)> = Vec::new();
    let mut open: Vec<Span> = Vec::new();
    for e in events.iter().filter(|e| e.ts_ms <= end && mine(&e.source, e.series.as_deref())) {
        let series = e.series.clone().unwrap_or_default();
        let i = open.iter().position(|o| o.0 == e.rule && o.1 == series);
        match (e.to == AlertState::Firing, i) {
            (true, None) => open.push((e.rule.clone(), series, e.severity, e.ts_ms)),
            (false, Some(i)) => spans.push((open.remove(i), e.ts_ms, false)),
            // It fired before the first event of the range.
            (false, None) if e.from == AlertState::Firing => {
                spans.push(((e.rule.clone(), series, e.severity, start), e.ts_ms, false));
            }
            _ => {}
        }
    }
    spans.extend(open.into_iter().map(|o| (o, end, true)));
    // Firing since before the range, with no event in it: only the live state knows.
    let live = status.map_or(&[][..], |s| s.instances.as_slice());
    for i in live.iter().filter(|i| i.state == AlertState::Firing && i.since_ms <= end) {
        let series = i.series.clone().unwrap_or_default();
        if mine(&i.source, Some(&series))
            && !spans.iter().any(|(s, _, ongoing)| *ongoing && s.0 == i.rule && s.1 == series)
        {
            spans.push(((i.rule.clone(), series, i.severity, i.since_ms), end, true));
        }
    }
    // By start: each put in its place (a sort would cost the browser bundle more).
    let mut out = ChartAlerts::default();
    for ((rule, series, severity, from), to, ongoing) in spans {
        let from = from.max(start);
        if to >= from {
            let at = out.spans.partition_point(|s| s.from <= from);
            out.spans.insert(at, Firing { rule, series, severity, from, to, ongoing });
        }
    }
    out.marks = events
        .iter()
        .filter(|e| e.ts_ms >= start && e.ts_ms <= end && mine(&e.source, e.series.as_deref()))
        .map(|e| (e.ts_ms, e.rule.clone(), e.to))
        .collect();
    out
}

/// The spans in words, for the line under the chart: "cpu busy (critical) fired 11:14:05,
/// resolved 11:16:30; …"; empty when there are none. `at` writes a time.
pub fn words(alerts: &ChartAlerts, at: impl Fn(u64) -> String) -> String {
    let spans = alerts.spans.iter().map(|s| {
        let severity = if s.severity == Severity::Critical { "critical" } else { "warning" };
        let end = if s.ongoing { "still firing".to_owned() } else { format!("resolved {}", at(s.to)) };
        format!("{} on {} ({severity}) firing from {}, {end}", s.rule, s.series, at(s.from))
    });
    let text = spans.collect::<Vec<_>>().join("; ");
    if text.is_empty() { text } else { format!("Alerts in this range: {text}.") }
}

/// Keeps `events` to those of `range` (in the browser, once hydrated): fetched when the chart
/// opens and again whenever the live alerts change (a new state change is then in the log). A
/// server without the endpoint, or a failure, leaves the chart without bands.
pub fn follow(
    model: leptos::prelude::RwSignal<crate::model::Model>,
    range: super::range::Range,
    newest: leptos::prelude::Callback<(), u64>,
    events: leptos::prelude::RwSignal<Vec<AlertEvent>>,
) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::*;
        let asked = StoredValue::new(0u32);
        // What changes with every state change of an instance: its `since`.
        let changes =
            move || model.with(|m| m.alerts.as_ref().map(|a| a.instances.iter().map(|i| i.since_ms).sum::<u64>()));
        Effect::new(move |before: Option<Option<u64>>| {
            let now = changes();
            if before == Some(now) {
                return now;
            }
            let (from, to) = range.times(newest.run(()));
            asked.update_value(|n| *n += 1);
            let current = asked.get_value();
            leptos::task::spawn_local(async move {
                let url = format!("{}/api/alerts/events?from={from}&to={to}", crate::base_path());
                let answer = super::history::get(&url).await;
                let text = answer.ok().filter(|(status, _)| *status == 200).map(|(_, body)| body);
                if let Some(found) = text.as_deref().and_then(parse_events)
                    && asked.try_get_value() == Some(current)
                {
                    events.try_set(found);
                }
            });
            now
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (model, range, newest, events);
}

#[cfg(test)]
mod tests {
    use super::*;
    use livedash::alerts::{AlertInstance, AlertState::*};

    fn event(rule: &str, series: &str, from: AlertState, to: AlertState, ts_ms: u64) -> AlertEvent {
        AlertEvent {
            id: 0,
            rule: rule.into(),
            source: "local".into(),
            series: Some(series.into()),
            from,
            to,
            value: None,
            peak: None,
            ts_ms,
            severity: Severity::Critical,
            token: 0,
        }
    }

    fn firing(rule: &str, series: &str, since_ms: u64) -> AlertInstance {
        AlertInstance {
            rule: rule.into(),
            source: "local".into(),
            series: Some(series.into()),
            state: Firing,
            severity: Severity::Warning,
            since_ms,
            value: None,
            peak: None,
            threshold: None,
            reason: None,
            silenced: None,
            acked: None,
        }
    }

    #[test]
    fn a_span_runs_from_firing_to_the_next_change_of_the_same_instance() {
        let cpu = vec!["cpu_pct".to_owned()];
        let events = [
            event("busy", "cpu_pct", Ok, Pending, 100),
            event("busy", "cpu_pct", Pending, Firing, 200),
            event("other", "cpu_pct", Pending, Firing, 250),
            event("busy", "mem_pct", Pending, Firing, 260),
            event("busy", "cpu_pct", Firing, Resolved, 400),
            event("busy", "cpu_pct", Pending, Firing, 700),
        ];
        let a = chart_alerts(&events, None, "local", &cpu, (0, 1000));
        let spans: Vec<(&str, u64, u64, bool)> = a.spans.iter().map(|s| (&*s.rule, s.from, s.to, s.ongoing)).collect();
        assert_eq!(spans, [("busy", 200, 400, false), ("other", 250, 1000, true), ("busy", 700, 1000, true)]);
        assert_eq!(a.marks.len(), 5, "every change of the chart's series, not mem_pct's");
        assert_eq!(a.marks[0], (100, Arc::from("busy"), Pending));
        let other_source = chart_alerts(&events, None, "api", &cpu, (0, 1000));
        assert!(other_source.spans.is_empty() && other_source.marks.is_empty());
    }

    #[test]
    fn what_fired_before_the_range_starts_at_its_start() {
        let cpu = vec!["cpu_pct".to_owned()];
        // Resolved inside the range: it fired before the first event.
        let a = chart_alerts(&[event("busy", "cpu_pct", Firing, Resolved, 300)], None, "local", &cpu, (100, 500));
        assert_eq!((a.spans[0].from, a.spans[0].to, a.spans[0].ongoing), (100, 300, false));
        // No event in the range, firing now since before it: the live state says so.
        let status = AlertsStatus::new(vec![firing("busy", "cpu_pct", 50), firing("busy", "mem_pct", 50)]);
        let a = chart_alerts(&[], Some(&status), "local", &cpu, (100, 500));
        assert_eq!(a.spans.len(), 1);
        assert_eq!((a.spans[0].from, a.spans[0].to, a.spans[0].severity), (100, 500, Severity::Warning));
        // Both: the event's span is the one kept.
        let a =
            chart_alerts(&[event("busy", "cpu_pct", Pending, Firing, 200)], Some(&status), "local", &cpu, (100, 500));
        assert_eq!(a.spans.iter().map(|s| s.from).collect::<Vec<_>>(), [200]);
        let text = words(&a, |t| t.to_string());
        assert_eq!(text, "Alerts in this range: busy on cpu_pct (critical) firing from 200, still firing.");
        assert_eq!(words(&ChartAlerts::default(), |t| t.to_string()), "");
    }

    #[test]
    fn events_are_read_from_the_api_answer() {
        let body = r#"{"events":[{"id":1,"rule":"busy","source":"local","series":"cpu_pct","from":"pending",
            "to":"firing","value":95.5,"ts_ms":7,"severity":"critical","token":0},{"id":2}]}"#;
        let events = parse_events(body).expect("events");
        assert_eq!(events.len(), 1, "an unreadable item is skipped");
        assert_eq!((events[0].to, events[0].ts_ms, events[0].value), (Firing, 7, Some(95.5)));
        assert!(parse_events(r#"{"error":"x"}"#).is_none());
    }
}
