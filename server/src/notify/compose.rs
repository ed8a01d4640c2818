//! Outbox rows into [`Notice`]s and [`Message`]s: a resolved notice gives the value at recovery,
//! the episode's peak from the history store (the machine's peak when the history has no point)
//! and how long it lasted (from the episode's firing event); every notice links to the chart
//! around that time and to silencing the alert.

use std::time::{Duration, UNIX_EPOCH};

use livedash::alerts::{Severity, Side};
use livedash::query::encode;
use rusqlite::Connection;

use super::message::{Kind, Message, Notice, Status};
use crate::store::StoreError;
use crate::store::outbox::{Row, read};

/// How much of the chart is shown before an alert began and after it ended (as the Alerts view).
const MARGIN_MS: u64 = 15 * 60_000;

/// The message of `rows` (one group: one source and kind on one channel; a digest row's notices
/// are its parts), at wall label `now_ms`, with links under `base` (`https://host[:port][/path]`).
///
/// # Errors
/// The store failed.
pub fn message(conn: &Connection, rows: &[Row], base: &str, now_ms: u64) -> Result<Message, StoreError> {
    let kind = match rows.first().map(|r| r.kind.as_str()) {
        Some("reminder") => Kind::Reminder,
        Some("digest") => Kind::Digest,
        _ => Kind::Alert,
    };
    let mut notices = Vec::new();
    for row in rows {
        if row.kind == "digest" {
            notices.extend(digest(conn, row.id, base, now_ms)?);
        } else {
            notices.push(notice(conn, row, base, now_ms)?);
        }
    }
    Ok(Message { kind, notices })
}

/// A digest's notices ([`super::digest::compose`]): one per held row, except that a resolution
/// takes the place of its alert's latest firing held before it (fired and resolved inside quiet
/// hours: ONE notice, with `resolved_at`); fired, resolved and fired again is two.
fn digest(conn: &Connection, parent: i64, base: &str, now_ms: u64) -> Result<Vec<Notice>, StoreError> {
    let held = read::parts(conn, parent)?.iter().map(|p| notice(conn, p, base, now_ms)).collect::<Result<_, _>>()?;
    Ok(super::digest::compose(held).map(|m| m.notices).unwrap_or_default())
}

/// One row's notice.
///
/// # Errors
/// The store failed.
pub fn notice(conn: &Connection, row: &Row, base: &str, now_ms: u64) -> Result<Notice, StoreError> {
    let resolved = row.status == "resolved";
    let started = row.started_ms.unwrap_or(row.ts_ms);
    let end = if resolved { row.ts_ms } else { now_ms.max(row.ts_ms) };
    let side = row.threshold.map_or(Side::Above, |t| t.side);
    let peak = match (&row.series, resolved) {
        (Some(series), true) => read::peak(conn, &row.source, series, (started, end), side)?.or(row.peak),
        _ => row.peak,
    };
    let duration_s = Some(end.saturating_sub(started) / 1000);
    Ok(Notice {
        id: row.key.clone(),
        status: if resolved { Status::Resolved } else { Status::Firing },
        rule: row.rule.clone(),
        severity: row.severity,
        source: row.source.clone(),
        series: row.series.clone(),
        value: row.value,
        threshold: row.threshold.map(|t| t.value),
        started_at: rfc3339(started),
        resolved_at: resolved.then(|| rfc3339(row.ts_ms)),
        peak,
        duration_s,
        url: chart_url(base, &row.source, row.series.as_deref(), started, end),
        silence_url: silence_url(base, &row.rule, &row.source, row.series.as_deref()),
        summary: summary(row, peak, duration_s),
        reason: row.reason.clone(),
    })
}

/// `ms` since the epoch in RFC 3339, UTC, to the millisecond.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// The chart of `series` of `source` around `from..to` (the Alerts view's link); the dashboard
/// for a rule about the source.
pub fn chart_url(base: &str, source: &str, series: Option<&str>, from: u64, to: u64) -> String {
    let Some(series) = series else { return format!("{base}/") };
    let card = livedash::series::group_of(series).map_or(series, |(b, _)| b);
    let (from, to) = (from.saturating_sub(MARGIN_MS), to.saturating_add(MARGIN_MS));
    format!("{base}/?chart={}&source={}&from={from}&to={to}", encode(card), encode(source))
}

/// The Alerts view with the silence form of that alert ready.
pub fn silence_url(base: &str, rule: &str, source: &str, series: Option<&str>) -> String {
    let series = series.map(|s| format!("&series={}", encode(s))).unwrap_or_default();
    format!("{base}/alerts?silence={}&source={}{series}", encode(rule), encode(source))
}

/// "critical: cpu above 90 on web1 · cpu.total: 97.2" / "resolved: ... back to 40 after 5m 3s
/// (peak 99)".
fn summary(row: &Row, peak: Option<f64>, duration_s: Option<u64>) -> String {
    let what = row.series.as_ref().map_or_else(|| row.source.clone(), |s| format!("{} · {s}", row.source));
    let rule = match row.threshold {
        Some(t) => format!("{} ({} {})", row.rule, if t.side == Side::Above { "above" } else { "below" }, num(t.value)),
        None => row.rule.clone(),
    };
    if row.status == "resolved" {
        let value = row.value.map(|v| format!(" at {}", num(v))).unwrap_or_default();
        let peak = peak.map(|p| format!(", peak {}", num(p))).unwrap_or_default();
        let lasted = humantime::format_duration(Duration::from_secs(duration_s.unwrap_or(0)));
        format!("resolved: {rule} on {what}{value} after {lasted}{peak}")
    } else {
        let level = if row.severity == Severity::Critical { "critical" } else { "warning" };
        let value = row.value.map(|v| format!(": {}", num(v))).unwrap_or_default();
        let reason = row.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
        format!("{level}: {rule} on {what}{value}{reason}")
    }
}

/// A value as people read it: at most 3 decimals, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_absolute_and_encoded() {
        assert_eq!(
            chart_url("http://127.0.0.1:8080", "web 1", Some("cpu.0"), 20 * 60_000, 30 * 60_000),
            "http://127.0.0.1:8080/?chart=cpu&source=web%201&from=300000&to=2700000"
        );
        assert_eq!(
            silence_url("https://x.org/dash", "cpu high", "web1", Some("load.1")),
            "https://x.org/dash/alerts?silence=cpu%20high&source=web1&series=load.1"
        );
        assert_eq!(silence_url("", "source down", "up", None), "/alerts?silence=source%20down&source=up");
        assert_eq!(rfc3339(1_000), "1970-01-01T00:00:01.000Z");
        assert_eq!((num(97.25), num(90.0), num(0.1234)), ("97.25".into(), "90".into(), "0.123".into()));
    }
}
