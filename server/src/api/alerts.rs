//! The alerts API, behind the same authentication as the rest of `/api`:
//!
//! - `GET /api/alerts`: `{"rules":[..],"instances":[..],"firing":N,"pending":M}`, every instance
//!   (ok ones too) with its state, since when, value, peak, silence and acknowledgement;
//! - `GET /api/alerts/events?from=&to=[&limit=N]`: `{"events":[..]}`, oldest first; `from` and
//!   `to` as for `/api/history` (ms, `now`, `now-1h`), by default the last 24 hours;
//! - `POST /api/alerts/silence` and `POST /api/alerts/ack`: `{"rule","source","series",
//!   "until_ms" or "for":"1h","comment"}` as JSON or form-encoded (the Alerts view's forms, which
//!   get a 303 back to the view). Only from this server's own pages or from no browser at all
//!   ([`SameOrigin`]), only by a user who may act ([`Writer`]); who, when and why are recorded.
//!
//! A bad parameter or field is a 400 that names it, an unknown rule a 404, a store that cannot
//! keep the change a 503; never a 500.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use livedash::alerts::{AlertState, Hush};
use livedash::query::encode;

use super::history::parse_time;
use crate::alerts::{Alerts, AlertsError, Target};
use crate::audit::{Audit, AuditEvent, AuditKind};
use crate::auth::role::Writer;
use crate::clock::now_ms;
use crate::http::client_ip::ClientIp;
use crate::http::origin::SameOrigin;

/// How far back the event log goes by default.
const DEFAULT_EVENTS_SPAN_MS: u64 = 24 * 3_600_000;
/// The most events one answer holds, and how many by default.
pub const MAX_EVENTS: usize = 10_000;
const DEFAULT_EVENTS: usize = 1000;
/// The longest a silence or acknowledgement may last.
const MAX_HUSH_MS: u64 = 366 * 24 * 3_600_000;
/// The longest comment kept, in characters.
pub const MAX_COMMENT: usize = 1000;

/// A refusal with its reason as JSON.
pub(super) fn problem(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(serde_json::json!({ "error": message.to_string() }))).into_response()
}

/// Why a parameter or field is refused, naming it.
pub(super) fn bad(name: &str, message: impl std::fmt::Display) -> String {
    format!("`{name}`: {message}")
}

/// `GET /api/alerts`.
pub async fn list(State(alerts): State<Alerts>) -> Response {
    let instances = alerts.instances();
    let count = |s| instances.iter().filter(|i| i.state == s).count();
    let (firing, pending) = (count(AlertState::Firing), count(AlertState::Pending));
    Json(serde_json::json!({
        "rules": alerts.rules(), "instances": instances, "firing": firing, "pending": pending,
    }))
    .into_response()
}

/// The event log's range and length, checked.
fn events_ask(q: &BTreeMap<String, String>, now: u64) -> Result<(u64, u64, usize), String> {
    let to = q.get("to").map_or(Ok(now), |v| parse_time(v, now)).map_err(|e| bad("to", e))?;
    let from = q
        .get("from")
        .map_or(Ok(to.saturating_sub(DEFAULT_EVENTS_SPAN_MS)), |v| parse_time(v, now))
        .map_err(|e| bad("from", e))?;
    if from > to {
        return Err(bad("from", "is after `to`"));
    }
    let limit = match q.get("limit") {
        None => DEFAULT_EVENTS,
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_EVENTS).contains(n))
            .ok_or_else(|| bad("limit", format!("{v:?}: a whole number from 1 to {MAX_EVENTS}")))?,
    };
    Ok((from, to, limit))
}

/// `GET /api/alerts/events`.
pub async fn events(State(alerts): State<Alerts>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let (from, to, limit) = match events_ask(&q, now_ms()) {
        Ok(ask) => ask,
        Err(why) => return problem(StatusCode::BAD_REQUEST, why),
    };
    match alerts.events(from, to, limit).await {
        Ok(mut events) => {
            events.sort_by_key(|e| (e.ts_ms, e.id));
            Json(serde_json::json!({ "events": events })).into_response()
        }
        Err(e) => problem(status_of(&e), e),
    }
}

/// The status an error of the alerts is answered with.
fn status_of(e: &AlertsError) -> StatusCode {
    match e {
        AlertsError::UnknownRule(_) => StatusCode::NOT_FOUND,
        AlertsError::BadRequest(_) => StatusCode::BAD_REQUEST,
        AlertsError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A silence or an acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Silence,
    Ack,
}

/// A silence or acknowledgement asked for, checked.
#[derive(Debug, PartialEq)]
struct HushAsk {
    target: (String, Option<String>, Option<String>),
    until_ms: Option<u64>,
    comment: String,
}

/// The fields of a POST body, checked: the target, the end (`until_ms` or `for`; an
/// acknowledgement may have none: until the instance resolves) and the comment.
fn hush_ask(fields: &BTreeMap<String, String>, action: Action, now: u64) -> Result<HushAsk, String> {
    if let Some(unknown) =
        fields.keys().find(|k| !matches!(k.as_str(), "rule" | "source" | "series" | "until_ms" | "for" | "comment"))
    {
        return Err(bad(unknown, "unknown field (rule, source, series, until_ms, for, comment)"));
    }
    let given = |name: &str| fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_owned);
    let rule = given("rule").ok_or_else(|| bad("rule", "missing: the name of the rule"))?;
    let until_ms = match (given("until_ms"), given("for")) {
        (Some(_), Some(_)) => return Err(bad("for", "give either `until_ms` or `for`, not both")),
        (Some(until), None) => {
            let until = until
                .parse::<u64>()
                .map_err(|_| bad("until_ms", format!("{until:?}: milliseconds since the epoch")))?;
            if until <= now {
                return Err(bad("until_ms", "is in the past"));
            }
            Some(until.min(now + MAX_HUSH_MS))
        }
        (None, Some(span)) => {
            let d = humantime::parse_duration(&span)
                .map_err(|e| bad("for", format!("{span:?}: {e} (examples: 30m, 2h, 1d)")))?;
            let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            if ms == 0 || ms > MAX_HUSH_MS {
                return Err(bad("for", format!("{span:?}: from 1s to 366d")));
            }
            Some(now + ms)
        }
        (None, None) if action == Action::Ack => None,
        (None, None) => {
            return Err(bad("for", "missing: how long the silence lasts (\"for\": \"1h\", or \"until_ms\")"));
        }
    };
    let comment = fields.get("comment").map(|c| c.trim().to_owned()).unwrap_or_default();
    if comment.chars().count() > MAX_COMMENT {
        return Err(bad("comment", format!("longer than {MAX_COMMENT} characters")));
    }
    Ok(HushAsk { target: (rule, given("source"), given("series")), until_ms, comment })
}

/// Whether the request is a form post (the Alerts view) rather than JSON.
pub(super) fn is_form(headers: &HeaderMap) -> Option<bool> {
    let kind = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if kind.starts_with("application/x-www-form-urlencoded") {
        Some(true)
    } else if kind.starts_with("application/json") {
        Some(false)
    } else {
        None
    }
}

/// The body's fields: a JSON object's strings and numbers, or a form's pairs.
pub(super) async fn fields(request: Request, form: bool) -> Result<BTreeMap<String, String>, String> {
    if form {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(request, &())
            .await
            .map_err(|e| bad("body", e.body_text()))?;
        return Ok(pairs.into_iter().collect());
    }
    let Json(object) = Json::<serde_json::Map<String, serde_json::Value>>::from_request(request, &())
        .await
        .map_err(|e| bad("body", format!("not a JSON object: {}", e.body_text())))?;
    let mut out = BTreeMap::new();
    for (name, value) in object {
        match value {
            serde_json::Value::String(s) => out.insert(name, s),
            serde_json::Value::Number(n) => out.insert(name, n.to_string()),
            serde_json::Value::Null => None,
            _ => return Err(bad(&name, "must be a string or a number")),
        };
    }
    Ok(out)
}

/// `POST /api/alerts/silence`.
pub async fn silence(
    _: SameOrigin,
    Writer(user): Writer,
    State(alerts): State<Alerts>,
    State(audit): State<Audit>,
    client: ClientIp,
    request: Request,
) -> Response {
    hush(Action::Silence, (&user, client, &audit), &alerts, request).await
}

/// `POST /api/alerts/ack`.
pub async fn ack(
    _: SameOrigin,
    Writer(user): Writer,
    State(alerts): State<Alerts>,
    State(audit): State<Audit>,
    client: ClientIp,
    request: Request,
) -> Response {
    hush(Action::Ack, (&user, client, &audit), &alerts, request).await
}

/// Who acts, from where, and where it is recorded.
type Actor<'a> = (&'a str, ClientIp, &'a Audit);

async fn hush(action: Action, (user, client, audit): Actor<'_>, alerts: &Alerts, request: Request) -> Response {
    let Some(form) = is_form(request.headers()) else {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            bad("content-type", "send application/json or application/x-www-form-urlencoded"),
        );
    };
    let refuse = |status: StatusCode, why: String| if form { form_problem(status, &why) } else { problem(status, why) };
    let now = now_ms();
    let ask = match fields(request, form).await.and_then(|f| hush_ask(&f, action, now)) {
        Ok(ask) => ask,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    let (rule, source, series) = ask.target;
    let target = Target { rule: rule.clone(), source, series };
    let hush = Hush { by: user.to_owned(), until_ms: ask.until_ms, comment: ask.comment, at_ms: now };
    let done = match action {
        Action::Silence => alerts.silence(target, hush.clone()).await,
        Action::Ack => alerts.ack(target, hush.clone()).await,
    };
    let word = if action == Action::Silence { "silence" } else { "ack" };
    match done {
        Ok(matched) => {
            tracing::info!(user, rule, action = word, matched, until_ms = ?hush.until_ms, comment = %hush.comment, "alert hushed");
            let kind = if action == Action::Silence { AuditKind::Silence } else { AuditKind::Ack };
            audit.record(
                AuditEvent::new(kind, Some(user), Some(client.addr))
                    .with("rule", rule.as_str())
                    .with("matched", matched)
                    .with("until_ms", hush.until_ms)
                    .with("comment", hush.comment.as_str()),
            );
            if form {
                // Relative to /api/alerts/<action>: the view under any base path.
                let back = format!("../../alerts?done={word}&matched={matched}&rule={}", encode(&rule));
                (StatusCode::SEE_OTHER, [(LOCATION, back)]).into_response()
            } else {
                Json(serde_json::json!({ "matched": matched, "action": word, "rule": rule, "hush": hush }))
                    .into_response()
            }
        }
        Err(e) => refuse(status_of(&e), e.to_string()),
    }
}

/// A form post's refusal: a small page saying why, with the way back.
pub(super) fn form_problem(status: StatusCode, why: &str) -> Response {
    let why = why.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>Not done</title>\
         <h1>Not done</h1><p>{why}</p><p><a href=\"../../alerts\">Back to the alerts</a></p></html>"
    );
    (status, Html(page)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn fields_are_checked_and_named() {
        let now = 1_000_000;
        let a = hush_ask(
            &f(&[("rule", "cpu"), ("for", "1h"), ("source", ""), ("comment", " deploy ")]),
            Action::Silence,
            now,
        )
        .expect("valid");
        assert_eq!(
            a,
            HushAsk { target: ("cpu".into(), None, None), until_ms: Some(now + 3_600_000), comment: "deploy".into() }
        );
        let a =
            hush_ask(&f(&[("rule", "cpu"), ("series", "cpu_pct")]), Action::Ack, now).expect("an ack without an end");
        assert_eq!((a.until_ms, a.target.2.as_deref()), (None, Some("cpu_pct")));
        let long = "x".repeat(MAX_COMMENT + 1);
        for (pairs, field) in [
            (vec![("for", "1h")], "rule"),
            (vec![("rule", "cpu")], "for"),
            (vec![("rule", "cpu"), ("for", "soon")], "for"),
            (vec![("rule", "cpu"), ("for", "0s")], "for"),
            (vec![("rule", "cpu"), ("for", "1h"), ("until_ms", "2000000")], "for"),
            (vec![("rule", "cpu"), ("until_ms", "5")], "until_ms"),
            (vec![("rule", "cpu"), ("until_ms", "later")], "until_ms"),
            (vec![("rule", "cpu"), ("for", "1h"), ("comment", long.as_str())], "comment"),
            (vec![("rule", "cpu"), ("for", "1h"), ("silence", "1")], "silence"),
        ] {
            let Err(why) = hush_ask(&f(&pairs), Action::Silence, now) else { panic!("{pairs:?} should be refused") };
            assert!(why.starts_with(&format!("`{field}`")), "{pairs:?}: {why}");
        }
    }

    #[test]
    fn the_event_range_is_checked() {
        let now = 100_000_000;
        assert_eq!(events_ask(&f(&[]), now), Ok((now - DEFAULT_EVENTS_SPAN_MS, now, DEFAULT_EVENTS)));
        for (pairs, param) in [
            (vec![("from", "yesterday")], "from"),
            (vec![("to", "x")], "to"),
            (vec![("from", "5"), ("to", "4")], "from"),
            (vec![("limit", "0")], "limit"),
        ] {
            let Err(why) = events_ask(&f(&pairs), now) else { panic!("{pairs:?} should be refused") };
            assert!(why.starts_with(&format!("`{param}`")), "{pairs:?}: {why}");
        }
    }
}
