//! The audit log for admins: `GET /audit`, the server-rendered view (drawn by
//! [`crate::ui::audit_document`]), and `GET /api/audit`, the same records as JSON. Both are newest
//! first, at most [`VIEW_ROWS`], filtered by `?kind=` (a kind's word) and `?user=`; anything else
//! in those is a 400. A viewer gets 403, which is recorded as a role refusal.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::response::{Html, IntoResponse, Response};

use crate::audit::{AuditEvent, AuditKind, MAX_USER};
use crate::auth::{Gate, Principal};
use crate::http::client_ip::ClientIp;
use crate::store::auth::audit::{AuditQuery, AuditRow};
use crate::ui::AlertsView;

/// How many records are shown at most.
pub const VIEW_ROWS: usize = 200;

/// `GET /audit`.
pub async fn page(
    State(gate): State<Gate>,
    State(view): State<AlertsView>,
    Query(query): Query<BTreeMap<String, String>>,
    client: ClientIp,
    principal: Principal,
) -> Response {
    let refuse = |status: StatusCode, text: &str| {
        let text = text.replace('&', "&amp;").replace('<', "&lt;");
        let html = format!(
            "<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>Audit log</title><h1>Audit log</h1>\
             <p>{text}</p><p><a href=\"./\">Back to the dashboard</a></p></html>"
        );
        (status, Html(html)).into_response()
    };
    let (filter, rows) = match read(&gate, &query, client, &principal, "/audit").await {
        Ok(read) => read,
        Err((status, why)) => return refuse(status, &why),
    };
    let nonce = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(crate::auth::accounts::random::<16>())
    };
    let html = crate::ui::audit_document(&view.base, &nonce, filter, rows, VIEW_ROWS);
    ([(CONTENT_SECURITY_POLICY, crate::ui::page_csp(&nonce))], Html(html)).into_response()
}

/// `GET /api/audit`: `{"records":[{"ts_ms","kind","user","addr","detail":{..}}]}`.
pub async fn list(
    State(gate): State<Gate>,
    Query(query): Query<BTreeMap<String, String>>,
    client: ClientIp,
    principal: Principal,
) -> Response {
    match read(&gate, &query, client, &principal, "/api/audit").await {
        Ok((_, rows)) => {
            let records: Vec<_> = rows
                .into_iter()
                .map(|r| {
                    let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or_default();
                    serde_json::json!({ "ts_ms": r.ts_ms, "kind": r.kind, "user": r.user, "addr": r.addr, "detail": detail })
                })
                .collect();
            Json(serde_json::json!({ "records": records })).into_response()
        }
        Err((status, why)) => (status, Json(serde_json::json!({ "error": why }))).into_response(),
    }
}

/// The filter (kind, user) and the records it selects, for an admin; a viewer's refusal (recorded)
/// or a bad filter as a status and why.
async fn read(
    gate: &Gate,
    query: &BTreeMap<String, String>,
    client: ClientIp,
    principal: &Principal,
    path: &str,
) -> Result<((Option<String>, Option<String>), Vec<AuditRow>), (StatusCode, String)> {
    if !principal.role.can_write() {
        let event = AuditEvent::new(AuditKind::RoleRefused, Some(&principal.user), Some(client.addr))
            .with("method", "GET")
            .with("path", path)
            .with("role", principal.role.as_str());
        gate.audit.record(event);
        return Err((StatusCode::FORBIDDEN, "only an admin can read the audit log".to_owned()));
    }
    let given = |k: &str| query.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let kind = match given("kind") {
        Some(k) => Some(
            AuditKind::parse(k)
                .ok_or_else(|| (StatusCode::BAD_REQUEST, format!("kind: no kind of record is called “{k}”")))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let who = given("user").map(str::to_owned);
    if who.as_ref().is_some_and(|u| u.chars().count() > MAX_USER) {
        return Err((StatusCode::BAD_REQUEST, format!("user: longer than {MAX_USER} characters")));
    }
    let rows =
        gate.audit.query(AuditQuery { kind: kind.clone(), user: who.clone(), before_ms: None, limit: VIEW_ROWS }).await;
    Ok(((kind, who), rows))
}
