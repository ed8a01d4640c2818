//! The Alerts view's two tables: the active instances (state in words, since when, value now,
//! peak, threshold, who silenced or acknowledged it and until when, a link to the chart of its
//! series at that time, and for a firing one the silence and acknowledge forms), and the last
//! events. Server-rendered only (see [`super::alerts_view`]).

use leptos::prelude::*;
use livedash::alerts::{AlertEvent, AlertInstance, AlertState, Hush, Severity, Side, Threshold};
use livedash::series::{self, Unit};

use super::notify_rows::{DeliveryRow, latest_per_channel, notified_cell};
use super::shell::table;
use crate::chart::chart_query;
use crate::chart::range::Range;
use crate::plot::{date_time, local_input};

/// The state in words (never colour alone).
pub fn state_word(state: AlertState) -> &'static str {
    match state {
        AlertState::Ok => "OK",
        AlertState::Pending => "Pending",
        AlertState::Firing => "Firing",
        AlertState::Resolved => "Resolved",
        AlertState::NoData => "No data",
        AlertState::Error => "Source failing",
    }
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// `2026-11-24T14:05:03Z`: a `<time>`'s machine-readable value.
fn iso(t_ms: u64) -> String {
    format!("{}:{:02}Z", local_input(t_ms, 0), t_ms / 1000 % 60)
}

/// A time as a `<time>` element, in UTC until the page's script shows it in local time (with
/// how long ago: the server leaves that out, so that the live part changes only when an alert
/// does).
pub(super) fn time(t_ms: u64) -> impl IntoView + use<> {
    view! { <time datetime=iso(t_ms)>{format!("{} UTC", date_time(t_ms, 0))}</time> }
}

/// `x` in the unit its series name suggests (`95 %`, `1.2 MB/s`).
fn value(x: Option<f64>, series: Option<&str>) -> String {
    let Some(x) = x else { return "–".to_owned() };
    let f = series::format(x, series.map_or(Unit::Plain, Unit::of));
    if f.unit.is_empty() { f.value } else { format!("{} {}", f.value, f.unit) }
}

fn threshold(t: Option<&Threshold>, series: Option<&str>) -> String {
    let Some(t) = t else { return "–".to_owned() };
    let side = if t.side == Side::Above { "above" } else { "below" };
    let mut text = format!("{side} {}", value(Some(t.value), series));
    if t.clear != t.value {
        text.push_str(&format!(", clears at {}", value(Some(t.clear), series)));
    }
    text
}

/// How much of the chart is shown before an alert began and around an event.
const MARGIN_MS: u64 = 15 * 60_000;

/// The end of a chart that reaches now: the next whole minute, so that the page's links (and its
/// refresh's ETag) change once a minute, not on every refresh.
fn soon(now_ms: u64) -> u64 {
    (now_ms / 60_000 + 1) * 60_000
}

/// The chart of `series` of `source` over `from..to`, at the page's address.
fn chart_href(base: &str, source: &str, series: &str, from: u64, to: u64) -> String {
    let card = series::group_of(series).map_or(series, |(b, _)| b);
    let to = to.max(from + 60_000);
    format!("{base}/{}", chart_query(source, card, &Range::Span { from, to, base: None }, false))
}

/// A stable id fragment for an instance (its forms' field ids), from its rule, source and series.
fn key_of(rule: &str, source: &str, series: Option<&str>) -> String {
    format!("{rule}\u{1f}{source}\u{1f}{}", series.unwrap_or(""))
}

fn id_of(key: &str) -> String {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("a{hash:016x}")
}

pub(super) fn what(source: &str, series: Option<&str>) -> String {
    series.map_or_else(|| source.to_owned(), |s| format!("{source} · {s}"))
}

/// "Silenced by ana until 14:05 (“deploying”)".
fn hush_line(word: &'static str, hush: &Hush) -> impl IntoView + use<> {
    let comment = (!hush.comment.is_empty()).then(|| format!(" (“{}”)", hush.comment));
    view! {
        <div class="hush">
            {format!("{word} by {}", hush.by)}
            {match hush.until_ms {
                Some(until) => view! { " until " {time(until)} }.into_any(),
                None => view! { " until it resolves" }.into_any(),
            }}
            {comment}
        </div>
    }
}

/// The active instances, each with its delivery state per channel (from `deliveries`, newest
/// first).
pub fn active_table(
    instances: &[AlertInstance],
    deliveries: &[DeliveryRow],
    base: &str,
    now_ms: u64,
    can_write: bool,
) -> impl IntoView + use<> {
    let rows = instances
        .iter()
        .map(|i| {
            let series = i.series.as_deref().map(str::to_owned);
            let key = key_of(&i.rule, &i.source, series.as_deref());
            let link = series.as_deref().map(|s| chart_href(base, &i.source, s, i.since_ms.saturating_sub(MARGIN_MS), soon(now_ms)));
            let firing = i.state == AlertState::Firing;
            let actions = (firing && can_write).then(|| {
                hush_forms(base, &id_of(&key), &i.rule, &i.source, series.as_deref().unwrap_or(""))
            });
            let read_only = (firing && !can_write).then_some("read-only");
            let notified = notified_cell(&latest_per_channel(deliveries, &i.rule, &i.source, series.as_deref()));
            view! {
                <tr class=format!("alert-row state-{} severity-{}", i.state.as_str(), severity_word(i.severity)) data-key=key data-state=i.state.as_str()>
                    <td><span class="state-word">{state_word(i.state)}</span>" "<span class="severity">{severity_word(i.severity)}</span></td>
                    <th scope="row" class="rule">{i.rule.to_string()}</th>
                    <td>
                        {match link {
                            Some(href) => view! { <a href=href>{what(&i.source, series.as_deref())}</a> }.into_any(),
                            None => what(&i.source, None).into_any(),
                        }}
                        {i.reason.clone().map(|r| view! { <div class="muted">{r}</div> })}
                    </td>
                    <td>{time(i.since_ms)}</td>
                    <td class="num" data-testid="alert-value">{value(i.value, series.as_deref())}</td>
                    <td class="num">{value(i.peak, series.as_deref())}</td>
                    <td>{threshold(i.threshold.as_ref(), series.as_deref())}</td>
                    <td>
                        {i.silenced.as_ref().map(|h| hush_line("Silenced", h))}
                        {i.acked.as_ref().map(|h| hush_line("Acknowledged", h))}
                        {(i.silenced.is_none() && i.acked.is_none()).then_some("–")}
                    </td>
                    <td>{notified}</td>
                    <td class="actions">{actions}{read_only}</td>
                </tr>
            }
        })
        .collect_view();
    let headings = vec![
        "State",
        "Rule",
        "Source · series",
        "Since",
        "Value now",
        "Peak",
        "Threshold",
        "Silenced / acknowledged",
        "Notified",
        "Actions",
    ];
    table("active-alerts", "Active alert instances, firing first", headings, Some("active-rows"), rows)
}

/// The silence and acknowledge forms of one firing instance, folded until opened.
fn hush_forms(base: &str, id: &str, rule: &str, source: &str, series: &str) -> impl IntoView + use<> {
    let name =
        if series.is_empty() { format!("{rule} on {source}") } else { format!("{rule} on {source} · {series}") };
    let form = move |action: &'static str, button: &'static str, default_for: &'static str, hint: &'static str| {
        let (for_id, comment_id) = (format!("{id}-{action}-for"), format!("{id}-{action}-comment"));
        view! {
            <form method="post" action=format!("{base}/api/alerts/{action}") class="hush-form">
                <input type="hidden" name="rule" value=rule.to_owned() />
                <input type="hidden" name="source" value=source.to_owned() />
                <input type="hidden" name="series" value=series.to_owned() />
                <label for=for_id.clone()>"For"</label>
                <input id=for_id name="for" value=default_for placeholder=hint size="8" />
                <label for=comment_id.clone()>"Comment"</label>
                <input id=comment_id name="comment" maxlength="1000" size="16" />
                <button type="submit" class="bar-button">{button}</button>
            </form>
        }
    };
    view! {
        <details class="hush-forms">
            <summary>"Silence or acknowledge" <span class="visually-hidden">{format!(" {name}")}</span></summary>
            {form("silence", "Silence", "1h", "30m, 2h, 1d")}
            {form("ack", "Acknowledge", "", "until it resolves")}
        </details>
    }
}

/// The last events, newest first.
pub fn events_table(events: &[AlertEvent], base: &str, now_ms: u64) -> impl IntoView + use<> {
    let rows = events
        .iter()
        .map(|e| {
            let series = e.series.as_deref().map(str::to_owned);
            let link = series.as_deref().map(|s| {
                let (from, to) = (e.ts_ms.saturating_sub(MARGIN_MS), (e.ts_ms + MARGIN_MS).min(soon(now_ms)));
                chart_href(base, &e.source, s, from, to)
            });
            view! {
                <tr class=format!("event-row state-{}", e.to.as_str())>
                    <td>{time(e.ts_ms)}</td>
                    <th scope="row" class="rule">{e.rule.to_string()}</th>
                    <td>
                        {match link {
                            Some(href) => view! { <a href=href>{what(&e.source, series.as_deref())}</a> }.into_any(),
                            None => what(&e.source, None).into_any(),
                        }}
                    </td>
                    <td>{format!("{} → ", state_word(e.from))}<span class="state-word">{state_word(e.to)}</span></td>
                    <td class="num">{value(e.value, series.as_deref())}</td>
                    <td class="num">{value(e.peak, series.as_deref())}</td>
                </tr>
            }
        })
        .collect_view();
    let headings = vec!["When", "Rule", "Source · series", "Change", "Value", "Peak"];
    table("alert-events", "The last state changes, newest first", headings, None, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_values_and_thresholds_read_in_words() {
        assert_eq!(iso(1_764_943_503_000), "2025-12-05T14:05:03Z");
        assert_eq!(value(Some(95.0), Some("cpu_pct")), "95 %");
        assert_eq!(value(None, Some("cpu_pct")), "–");
        let t = Threshold { side: Side::Above, value: 90.0, clear: 80.0 };
        assert_eq!(threshold(Some(&t), Some("cpu_pct")), "above 90 %, clears at 80 %");
        assert_eq!(id_of("a"), id_of("a"));
        assert_ne!(id_of("a\u{1f}b\u{1f}"), id_of("a\u{1f}\u{1f}b"));
    }

    #[test]
    fn a_members_chart_is_its_cards() {
        let href = chart_href("/dash", "local", "cpu.3", 1000, 2000);
        assert!(href.starts_with("/dash/?chart=cpu&source=local&from=1000&to=61000"), "{href}");
    }
}
