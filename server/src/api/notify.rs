//! The notifications API, behind the same authentication as the rest of `/api`:
//!
//! - `GET /api/notify`: `{"channels":[..]}`, each channel with its kind, where it sends (a host
//!   or the mail's recipients, never a secret), its counts, whether it is in its quiet hours now,
//!   its last answer and its fallback;
//! - `GET /api/notify/deliveries?rule=&limit=`: `{"deliveries":[..]}`, the outbox's rows (of
//!   `rule`'s alerts only when given), newest first, at most `limit` (1 to 1000, 100 by default);
//! - `POST /api/notify/test`: `{"channel":"ops"}` as JSON or `channel=ops` form-encoded: a sample
//!   message through the channel's real path, answered with the receiver's answer (JSON), or a
//!   303 back to the Alerts view that shows it (the view's "Send test" button). Only from this
//!   server's own pages or from no browser at all ([`SameOrigin`]), only by a user who may act
//!   ([`Writer`]).
//!
//! A bad parameter or field is a 400 naming it, an unknown channel a 404, a receiver that did not
//! take the test a 502 with its reason (the form: back to the view, which shows the reason), a
//! store that cannot be read a 503; never a 500.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};

use super::alerts::{bad, fields, form_problem, is_form, problem};
use crate::audit::{Audit, AuditEvent, AuditKind};
use crate::auth::role::Writer;
use crate::http::client_ip::ClientIp;
use crate::http::origin::SameOrigin;
use crate::notify::{Notifier, NotifyError, SendError};
use livedash::query::encode;

/// The most deliveries one answer holds, and how many by default.
pub const MAX_DELIVERIES: usize = 1000;
const DEFAULT_DELIVERIES: usize = 100;
/// The longest rule or channel name accepted in a request.
const MAX_NAME: usize = 200;
/// How much of the receiver's answer the form's redirect carries back to the view.
const MAX_ANSWER_BACK: usize = 300;

/// The status a notifier error is answered with.
fn status_of(e: &NotifyError) -> StatusCode {
    match e {
        NotifyError::UnknownChannel(_) => StatusCode::NOT_FOUND,
        NotifyError::BadRequest(_) => StatusCode::BAD_REQUEST,
        NotifyError::Send(_) => StatusCode::BAD_GATEWAY,
        NotifyError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// `GET /api/notify`.
pub async fn channels(State(notifier): State<Notifier>) -> Response {
    Json(serde_json::json!({ "channels": notifier.channels() })).into_response()
}

/// The deliveries' filter and length, checked.
fn deliveries_ask(q: &BTreeMap<String, String>) -> Result<(Option<String>, usize), String> {
    if let Some(unknown) = q.keys().find(|k| !matches!(k.as_str(), "rule" | "limit")) {
        return Err(bad(unknown, "unknown parameter (rule, limit)"));
    }
    let rule = match q.get("rule").map(|r| r.trim()) {
        None => None,
        Some("") => return Err(bad("rule", "empty: name a rule, or leave the parameter out for all")),
        Some(r) if r.chars().count() > MAX_NAME => {
            return Err(bad("rule", format!("longer than {MAX_NAME} characters")));
        }
        Some(r) => Some(r.to_owned()),
    };
    let limit = match q.get("limit") {
        None => DEFAULT_DELIVERIES,
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_DELIVERIES).contains(n))
            .ok_or_else(|| bad("limit", format!("{v:?}: a whole number from 1 to {MAX_DELIVERIES}")))?,
    };
    Ok((rule, limit))
}

/// `GET /api/notify/deliveries`.
pub async fn deliveries(State(notifier): State<Notifier>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let (rule, limit) = match deliveries_ask(&q) {
        Ok(ask) => ask,
        Err(why) => return problem(StatusCode::BAD_REQUEST, why),
    };
    match notifier.deliveries(rule.as_deref(), limit).await {
        Ok(deliveries) => Json(serde_json::json!({ "deliveries": deliveries })).into_response(),
        Err(e) => problem(status_of(&e), e),
    }
}

/// The channel a test names, checked.
fn test_ask(fields: &BTreeMap<String, String>) -> Result<String, String> {
    if let Some(unknown) = fields.keys().find(|k| k.as_str() != "channel") {
        return Err(bad(unknown, "unknown field (channel)"));
    }
    match fields.get("channel").map(|c| c.trim()) {
        None | Some("") => Err(bad("channel", "missing: the name of a channel")),
        Some(c) if c.chars().count() > MAX_NAME => Err(bad("channel", format!("longer than {MAX_NAME} characters"))),
        Some(c) => Ok(c.to_owned()),
    }
}

/// `POST /api/notify/test`.
pub async fn test(
    _: SameOrigin,
    Writer(user): Writer,
    State(notifier): State<Notifier>,
    State(audit): State<Audit>,
    client: ClientIp,
    request: Request,
) -> Response {
    let Some(form) = is_form(request.headers()) else {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            bad("content-type", "send application/json or application/x-www-form-urlencoded"),
        );
    };
    let refuse = |status: StatusCode, why: String| if form { form_problem(status, &why) } else { problem(status, why) };
    let channel = match fields(request, form).await.and_then(|f| test_ask(&f)) {
        Ok(channel) => channel,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    let result = notifier.test(&channel).await;
    let event =
        AuditEvent::new(AuditKind::NotifyTest, Some(&user), Some(client.addr)).with("channel", channel.as_str());
    audit.record(match &result {
        Ok(answer) => event.with("accepted", true).with("code", answer.code),
        Err(_) => event.with("accepted", false),
    });
    match &result {
        Ok(answer) => tracing::info!(user = %user, channel, code = answer.code, "notification test accepted"),
        Err(e) => tracing::info!(user = %user, channel, error = %e, "notification test not accepted"),
    }
    match result {
        Ok(answer) if form => back(&channel, &format!("code={}&answer={}", answer.code, encode(&cut(&answer.text)))),
        Ok(answer) => Json(serde_json::json!({ "channel": channel, "sent": true, "answer": answer })).into_response(),
        Err(NotifyError::Send(e)) if form => back(&channel, &format!("failed={}", encode(&cut(&e.to_string())))),
        Err(NotifyError::Send(e)) => {
            let retry = matches!(e, SendError::Retry { .. });
            (
                StatusCode::BAD_GATEWAY,
                Json(serde_json::json!({
                    "channel": channel, "sent": false, "error": e.to_string(), "may_retry": retry,
                })),
            )
                .into_response()
        }
        Err(e) => refuse(status_of(&e), e.to_string()),
    }
}

/// The form's 303 back to the Alerts view's channels, with what became of the test.
fn back(channel: &str, outcome: &str) -> Response {
    // Relative to /api/notify/test: the view under any base path.
    let to = format!("../../alerts?done=test&channel={}&{outcome}#channels", encode(channel));
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}

/// The start of `text`, short enough for an address.
fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_ANSWER_BACK) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_parameters_are_checked_and_named() {
        assert_eq!(deliveries_ask(&f(&[])), Ok((None, DEFAULT_DELIVERIES)));
        assert_eq!(deliveries_ask(&f(&[("rule", " hot "), ("limit", "5")])), Ok((Some("hot".into()), 5)));
        let long = "r".repeat(MAX_NAME + 1);
        for (pairs, name) in [
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "1001")], "limit"),
            (vec![("limit", "many")], "limit"),
            (vec![("rule", "")], "rule"),
            (vec![("rule", long.as_str())], "rule"),
            (vec![("channel", "ops")], "channel"),
        ] {
            let Err(why) = deliveries_ask(&f(&pairs)) else { panic!("{pairs:?} should be refused") };
            assert!(why.starts_with(&format!("`{name}`")), "{pairs:?}: {why}");
        }
        assert_eq!(test_ask(&f(&[("channel", " ops ")])), Ok("ops".into()));
        for (pairs, name) in
            [(vec![], "channel"), (vec![("channel", " ")], "channel"), (vec![("channel", "ops"), ("to", "x")], "to")]
        {
            let Err(why) = test_ask(&f(&pairs)) else { panic!("{pairs:?} should be refused") };
            assert!(why.starts_with(&format!("`{name}`")), "{pairs:?}: {why}");
        }
    }

    #[test]
    fn a_long_answer_is_cut_on_a_character() {
        let text = "é".repeat(MAX_ANSWER_BACK + 10);
        let short = cut(&text);
        assert_eq!(short.chars().count(), MAX_ANSWER_BACK + 1);
        assert_eq!(cut("ok"), "ok");
    }
}
