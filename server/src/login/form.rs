//! `GET /login`, `POST /login` and `POST /login/code`.
//!
//! The form posts `username`, `password`, `remember` and `next` (form-encoded; scripts may post
//! them too). The password is checked by [`crate::auth::Auth::check_password`], so the form spends
//! the same throttles, device-cookie budgets, cache and bounded hashing as Basic, and a browser
//! that proved itself gets a device cookie. Every failure reads the same ("Wrong user name or
//! password."): an unknown user and a wrong password give the same bytes; a throttled attempt says
//! when to try again and nothing about the guess. A success makes a new session (a session cookie
//! sent before is ended, never reused) and answers a browser with a 303 to `next`, a script with
//! 204 and the cookie. A user with a second factor gets the code step first ([`super::pending`]).
//! Posts from another site are refused ([`SameOrigin`]).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use livedash::account::{CodePage, LoginPage};
use serde::Deserialize;

use super::{LoginState, agent, from_browser, next, pending};
use crate::audit::AuditKind;
use crate::auth::attempts::CodeError;
use crate::auth::session::{EndReason, NewSession, cookie};
use crate::auth::{AuthError, Login, LoginMode, Role};
use crate::http::client_ip::ClientIp;
use crate::http::origin::SameOrigin;

/// The one message of every refused login.
pub const GENERIC: &str = "Wrong user name or password.";

/// What the form posts.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    remember: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// What the second step posts.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pending: String,
    #[serde(default)]
    code: String,
}

/// `GET /login[?next=PATH]`: the form (under `--login basic`, a redirect to the dashboard, whose
/// Basic challenge is the login there).
pub async fn page(State(login): State<LoginState>, Query(query): Query<BTreeMap<String, String>>) -> Response {
    if login.gate.mode == LoginMode::Basic {
        return LoginState::see_other(&format!("{}/", login.base));
    }
    let notice = (query.get("done").map(String::as_str) == Some("logout")).then(|| "You have logged out.".to_owned());
    let page = LoginPage {
        base: login.base.to_string(),
        next: next::safe(query.get("next").map(String::as_str), &login.base),
        error: None,
        notice,
        remember_for: remember_for(&login),
    };
    login.html(StatusCode::OK, login.pages.login(&page))
}

/// The form again with `error`, answered with `status`.
fn refused(login: &LoginState, status: StatusCode, error: &str, next: String) -> Response {
    let page = LoginPage {
        base: login.base.to_string(),
        next,
        error: Some(error.to_owned()),
        notice: None,
        remember_for: remember_for(login),
    };
    login.html(status, login.pages.login(&page))
}

/// How long a remembered session lasts, in words: "30 days", "12 hours", "45 minutes".
fn remember_for(login: &LoginState) -> String {
    let secs = login.gate.sessions.policy().remembered_lifetime.as_secs();
    let (n, unit) = match secs {
        s if s >= 86_400 => (s / 86_400, "day"),
        s if s >= 3_600 => (s / 3_600, "hour"),
        s => ((s / 60).max(1), "minute"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `POST /login`.
pub async fn submit(
    State(login): State<LoginState>,
    _: SameOrigin,
    client: ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if login.gate.mode == LoginMode::Basic {
        return (StatusCode::NOT_FOUND, "404 Not Found: the login form is off (--login basic)\n").into_response();
    }
    let asked_next = form.next.as_deref().is_some_and(|n| !n.is_empty());
    let next = next::safe(form.next.as_deref(), &login.base);
    let remember = form.remember.as_deref().is_some_and(|r| !r.is_empty() && r != "0");
    let user = form.username.trim().to_owned();
    match login.gate.auth.check_password(&user, form.password, &headers, client).await {
        Ok(Login { user, device }) => {
            let device_cookie = (!device).then(|| login.gate.auth.device_cookie(&user)).flatten();
            let mut response = if login.gate.totp.enrolled(&user) {
                let version = login.gate.auth.user_version(&user).unwrap_or([0; 32]);
                let pending = login.pending.issue(&user, version, remember, &next, 0);
                let page = CodePage { base: login.base.to_string(), pending, error: None };
                login.html(StatusCode::OK, login.pages.code(&page))
            } else {
                start_session(&login, &user, remember, &next, asked_next, &headers, client).await
            };
            if let Some(cookie) = device_cookie {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
            response
        }
        Err(AuthError::Throttled(wait)) => {
            login.audit(AuditKind::Throttled, Some(&user), client.addr, serde_json::json!({"via": "form"}));
            let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            let message = format!("Too many attempts. Try again in {secs} seconds.");
            let mut response = refused(&login, StatusCode::TOO_MANY_REQUESTS, &message, next);
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
            response
        }
        Err(AuthError::Busy) => {
            let mut response = refused(
                &login,
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many logins at once. Try again in a moment.",
                next,
            );
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Err(AuthError::Invalid | AuthError::Missing) => {
            login.audit(AuditKind::LoginFailed, Some(&user), client.addr, serde_json::json!({"via": "form"}));
            refused(&login, StatusCode::UNAUTHORIZED, GENERIC, next)
        }
    }
}

/// `POST /login/code`: the second step.
pub async fn code(
    State(login): State<LoginState>,
    _: SameOrigin,
    client: ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let auth = login.gate.auth.clone();
    let Some(pending) = login.pending.take(&form.pending, |u| auth.user_version(u)).await else {
        let again = "This login has expired or was already used. Log in again.";
        return refused(&login, StatusCode::UNAUTHORIZED, again, format!("{}/", login.base));
    };
    let user = pending.user.clone();
    // A code spends the password budgets (Gate::check_code): guessed no faster than a password.
    match login.gate.check_code(&user, form.code.trim(), &headers, client).await {
        Ok(()) => start_session(&login, &user, pending.remember, &pending.next, true, &headers, client).await,
        Err(CodeError::Throttled(wait)) => {
            login.audit(
                AuditKind::Throttled,
                Some(&user),
                client.addr,
                serde_json::json!({"via": "form", "step": "code"}),
            );
            let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            let version = auth.user_version(&user).unwrap_or([0; 32]);
            let page = CodePage {
                base: login.base.to_string(),
                pending: login.pending.issue(&user, version, pending.remember, &pending.next, pending.tries),
                error: Some(format!("Too many attempts. Try again in {secs} seconds.")),
            };
            let mut response = login.html(StatusCode::TOO_MANY_REQUESTS, login.pages.code(&page));
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
            response
        }
        Err(CodeError::Wrong) => {
            let tries = pending.tries.saturating_add(1);
            login.audit(
                AuditKind::LoginFailed,
                Some(&user),
                client.addr,
                serde_json::json!({"via": "form", "step": "code", "tries": tries}),
            );
            if tries >= pending::MAX_TRIES {
                return refused(&login, StatusCode::UNAUTHORIZED, GENERIC, pending.next);
            }
            let version = auth.user_version(&user).unwrap_or([0; 32]);
            let page = CodePage {
                base: login.base.to_string(),
                pending: login.pending.issue(&user, version, pending.remember, &pending.next, tries),
                error: Some("That code is not right.".to_owned()),
            };
            login.html(StatusCode::UNAUTHORIZED, login.pages.code(&page))
        }
    }
}

/// A new session for `user`: the cookie, the audit record, and a 303 to `next` for a browser (or
/// a script that asked for one), else 204.
async fn start_session(
    login: &LoginState,
    user: &str,
    remember: bool,
    next: &str,
    asked_next: bool,
    headers: &HeaderMap,
    client: ClientIp,
) -> Response {
    let gate = &login.gate;
    // A session id is never reused across a login: whatever the browser held before ends.
    if let Some(old) = cookie::read(headers, gate.tls)
        && let Some(session) = gate.sessions.get(&old).await
    {
        gate.sessions.end(session.handle, EndReason::Logout).await;
    }
    let ua = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let device = agent::parse(ua);
    let new = NewSession {
        user: user.into(),
        role: gate.auth.role_of(user).unwrap_or(Role::Viewer),
        remember,
        device: ua.to_owned(),
        addr: client.addr.to_string(),
        version: gate.auth.user_version(user).unwrap_or([0; 32]),
    };
    let (secret, session) = gate.sessions.create(new).await;
    login.audit(
        AuditKind::Login,
        Some(user),
        client.addr,
        serde_json::json!({
            "via": "form", "session": session.handle.hex(), "remember": remember,
            "device": format!("{} on {}", device.browser, device.os),
        }),
    );
    let max_age = remember.then(|| gate.sessions.policy().remembered_lifetime);
    let mut response = if from_browser(headers) || asked_next {
        LoginState::see_other(next)
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    if let Some(cookie) = cookie::set(&secret, gate.tls, max_age) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}
