//! `GET /sessions`: the Sessions view, for the authenticated user (a viewer sees their own
//! sessions and tokens, an admin everyone's), with "last login: time, place" (the login before
//! this session's, from the audit). `POST /sessions/revoke` with `session=HANDLE` or
//! `token=HANDLE`: ends that session (its sockets close within a second) or revokes that token;
//! one's own for everyone, anyone's for an admin (a viewer revoking another's: 403). Posts from
//! another site are refused ([`SameOrigin`]).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use livedash::account::{SessionRow, SessionsPage, TokenRow};
use serde::Deserialize;

use super::{LoginState, agent};
use crate::audit::AuditKind;
use crate::auth::principal::Handle;
use crate::auth::role::RoleError;
use crate::auth::session::EndReason;
use crate::auth::{Principal, Role, Via};
use crate::clock::now_ms;
use crate::http::client_ip::ClientIp;
use crate::http::origin::SameOrigin;

/// `GET /sessions`.
pub async fn page(
    State(login): State<LoginState>,
    principal: Principal,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let gate = &login.gate;
    let admin = principal.role == Role::Admin;
    let whose = (!admin).then_some(&*principal.user);
    let this = match principal.via {
        Via::Session(handle) => Some(handle),
        _ => None,
    };
    let sessions = gate.sessions.list(whose).await;
    let tokens = gate.tokens.list(whose).await;
    let now = now_ms();
    let started = this.and_then(|h| sessions.iter().find(|s| s.handle == h)).map_or(now, |s| s.created_ms);
    let last_login = gate
        .audit
        .last_login(&principal.user, started)
        .await
        .map(|row| (row.ts_ms, row.addr.unwrap_or_else(|| "an unknown address".to_owned())));
    let notice = match query.get("done").map(String::as_str) {
        Some("session") => Some("The session was revoked.".to_owned()),
        Some("token") => Some("The token was revoked.".to_owned()),
        Some("gone") => Some("That had already ended.".to_owned()),
        _ => None,
    };
    let page = SessionsPage {
        base: login.base.to_string(),
        user: principal.user.to_string(),
        admin,
        by_session: this.is_some(),
        last_login,
        notice,
        now_ms: now,
        sessions: sessions
            .into_iter()
            .map(|s| {
                let device = agent::parse(&s.device);
                SessionRow {
                    handle: s.handle.hex(),
                    user: s.user.to_string(),
                    browser: device.browser,
                    os: device.os,
                    addr: s.addr,
                    created_ms: s.created_ms,
                    seen_ms: s.seen_ms,
                    remember: s.remember,
                    this_device: Some(s.handle) == this,
                }
            })
            .collect(),
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                handle: t.handle.hex(),
                name: t.name,
                user: t.user.to_string(),
                role: t.role.as_str().to_owned(),
                created_ms: t.created_ms,
                used_ms: t.used_ms,
                expires_ms: t.expires_ms,
            })
            .collect(),
    };
    login.html(StatusCode::OK, login.pages.sessions(&page))
}

/// What a revoke button posts: one of the two.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

/// `POST /sessions/revoke`.
pub async fn revoke(
    State(login): State<LoginState>,
    _: SameOrigin,
    principal: Principal,
    client: ClientIp,
    Form(form): Form<RevokeForm>,
) -> Response {
    let gate = &login.gate;
    let back = |done: &str| LoginState::see_other(&format!("{}/sessions?done={done}", login.base));
    let allowed = |owner: &str| owner == &*principal.user || principal.role == Role::Admin;
    let refuse = |what: &str| {
        login.audit(AuditKind::RoleRefused, Some(&principal.user), client.addr, serde_json::json!({"action": what}));
        RoleError::ReadOnly(principal.user.clone()).into_response()
    };
    let handle = |text: &Option<String>| text.as_deref().map(|t| Handle::parse(t.trim()));
    match (handle(&form.session), handle(&form.token)) {
        (Some(Some(h)), None) => {
            let Some(target) = gate.sessions.list(None).await.into_iter().find(|s| s.handle == h) else {
                return back("gone");
            };
            if !allowed(&target.user) {
                return refuse("revoke a session");
            }
            gate.sessions.end(h, EndReason::Revoked).await;
            login.audit(
                AuditKind::Revoke,
                Some(&principal.user),
                client.addr,
                serde_json::json!({"session": h.hex(), "of": &*target.user}),
            );
            back("session")
        }
        (None, Some(Some(h))) => {
            let Some(target) = gate.tokens.list(None).await.into_iter().find(|t| t.handle == h) else {
                return back("gone");
            };
            if !allowed(&target.user) {
                return refuse("revoke a token");
            }
            gate.tokens.revoke(h).await;
            login.audit(
                AuditKind::TokenRevoke,
                Some(&principal.user),
                client.addr,
                serde_json::json!({"token": h.hex(), "name": target.name, "of": &*target.user}),
            );
            back("token")
        }
        _ => (StatusCode::BAD_REQUEST, "400 Bad Request: send `session` or `token`: a handle of 32 hex digits\n")
            .into_response(),
    }
}
