//! The authentication layer of every protected route ([`authenticate`]) and what it decides
//! ([`identify`], which `/ws` uses too). In order:
//!
//! - `Authorization: Bearer TOKEN`: an API token ([`super::token::Tokens::check`]), with the lower
//!   of the token's role and its user's current one; a token of a removed user is refused;
//! - `Authorization: Basic` whose password is an API token (starts with `ldt_`): the same, and the
//!   user name must be the token's user;
//! - `Authorization: Basic` with a password: the user's password ([`Auth::check_basic`], with its
//!   throttles and device cookies), refused outright for a user with a second factor (the
//!   password alone is not enough then);
//! - in form mode, the session cookie ([`super::session::cookie`]): a live session whose user
//!   still has the password it logged in with, with the lower of its role at login and now.
//!
//! Without credentials, a browser's navigation in form mode is sent to `/login?next=PATH` (303);
//! anything else, and every request in `--login basic` mode, gets 401 with `WWW-Authenticate`
//! as before. A wrong token or a dead session is refused like a wrong password, from the address's
//! budget of refusals ([`Auth::refuse`]).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, CACHE_CONTROL, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::accounts::Auth;
use super::credentials::{MAX_LEN, parse_basic};
use super::error::AuthError;
use super::gate::{Gate, LoginMode};
use super::principal::{Handle, Principal, Via};
use super::role::Role;
use super::session::{EndReason, cookie};
use super::token::PREFIX;
use crate::http::client_ip::ClientIp;

/// What the layer takes: the [`Gate`], and the base path its redirects go under.
#[derive(Clone)]
pub struct GateLayer {
    /// Who a request is.
    pub gate: Gate,
    /// `""` or `/dash`.
    pub base: Arc<str>,
}

/// Who a request is, and what its response must carry for it.
#[derive(Debug)]
pub struct Found {
    /// Who.
    pub principal: Principal,
    /// A device cookie for a browser that proved its password without one.
    pub cookie: Option<HeaderValue>,
}

/// Why a request is not let in, and whether it came without an `Authorization` header (a
/// browser's navigation may then be sent to the login form).
#[derive(Debug)]
pub struct Refused {
    /// The refusal.
    pub error: AuthError,
    /// No `Authorization` header was sent (none, or only a cookie).
    pub unannounced: bool,
    /// A session cookie was sent that is not (or no longer) a live session's.
    pub stale_cookie: bool,
}

/// Middleware for everything behind authentication: the [`Principal`] in the request's
/// extensions, or the refusal (a redirect to the login form for a browser's navigation).
pub async fn authenticate(State(layer): State<GateLayer>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let client = ClientIp::of(&parts);
    match identify(&layer.gate, &parts.headers, client).await {
        Ok(Found { principal, cookie }) => {
            let session = matches!(principal.via, Via::Session(_));
            parts.extensions.insert(principal);
            let mut response = next.run(Request::from_parts(parts, body)).await;
            if let Some(cookie) = cookie {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
            if session {
                // A page served to a session must not outlive it in the browser's cache (Back
                // after logging out shows nothing).
                response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            response
        }
        Err(refused) => refusal(&layer, &parts, refused),
    }
}

/// Who the request with `headers` from `client` is (see the module's documentation).
pub async fn identify(gate: &Gate, headers: &HeaderMap, client: ClientIp) -> Result<Found, Refused> {
    let auth = &gate.auth;
    let refused = |error| Refused { error, unannounced: false, stale_cookie: false };
    if let Some(value) = headers.get(AUTHORIZATION) {
        let token_refused = |user: Option<&str>, e| refused(auth.audit_refusal(("token", None), user, client, e));
        if let Some(token) = bearer(value.as_bytes()) {
            return by_token(gate, token, None, client).await.map_err(|e| token_refused(None, e));
        }
        if let Some((user, password)) = parse_basic(value.as_bytes()) {
            if password.starts_with(PREFIX) {
                return by_token(gate, &password, Some(&user), client).await.map_err(|e| token_refused(Some(&user), e));
            }
            if gate.totp.enrolled(&user) {
                let reason = "a password alone for a user with a second factor";
                let error = auth.refuse(client, AuthError::Invalid, reason);
                return Err(refused(auth.audit_refusal(("basic", Some(reason)), Some(&user), client, error)));
            }
        }
        let login = auth.check_basic(headers, client).await.map_err(refused)?;
        let cookie = (!login.device).then(|| auth.device_cookie(&login.user)).flatten();
        // Verified against the accounts just now: a user without a role has just been removed.
        let role = auth.role_of(&login.user).unwrap_or(Role::Viewer);
        return Ok(Found { principal: Principal { user: login.user, role, via: Via::Basic }, cookie });
    }
    if gate.mode == LoginMode::Form
        && let Some(secret) = cookie::read(headers, gate.tls)
    {
        // An address past its refusals' budget does not get to make this instance ask the keeps
        // (Redis) about sessions it does not know.
        if !gate.sessions.is_live(Handle::of(secret.as_bytes()))
            && let Some(wait) = auth.refusing(client)
        {
            return Err(Refused { error: AuthError::Throttled(wait), unannounced: true, stale_cookie: false });
        }
        if let Some(principal) = by_session(gate, &secret).await {
            return Ok(Found { principal, cookie: None });
        }
        let error = auth.refuse(client, AuthError::Invalid, "an unknown, ended or expired session");
        return Err(Refused { error, unannounced: true, stale_cookie: true });
    }
    Err(Refused {
        error: auth.refuse(client, AuthError::Missing, "no credentials"),
        unannounced: true,
        stale_cookie: false,
    })
}

/// The principal of the live session whose cookie holds `secret`; a session whose user was
/// removed or changed password meanwhile is ended here.
pub async fn by_session(gate: &Gate, secret: &str) -> Option<Principal> {
    let session = gate.sessions.get(secret).await?;
    let auth: &Auth = &gate.auth;
    match auth.role_of(&session.user) {
        Some(role) if auth.user_version(&session.user) == Some(session.version) => {
            Some(Principal { user: session.user, role: role.min(session.role), via: Via::Session(session.handle) })
        }
        _ => {
            gate.sessions.end(session.handle, EndReason::PasswordChanged).await;
            None
        }
    }
}

/// The principal of the API token `secret`, named as `user`'s when it came as a Basic password.
async fn by_token(gate: &Gate, secret: &str, user: Option<&str>, client: ClientIp) -> Result<Found, AuthError> {
    let refuse = || gate.auth.refuse(client, AuthError::Invalid, "an unknown, expired or revoked API token");
    let token = gate.tokens.check(secret).await.filter(|t| user.is_none_or(|u| *t.user == *u)).ok_or_else(refuse)?;
    let role = gate.auth.role_of(&token.user).ok_or_else(refuse)?;
    let principal = Principal { user: token.user, role: role.min(token.role), via: Via::Token(token.handle) };
    Ok(Found { principal, cookie: None })
}

/// The token of an `Authorization: Bearer TOKEN` value (the scheme in any case).
fn bearer(value: &[u8]) -> Option<&str> {
    if value.len() > MAX_LEN {
        return None;
    }
    let (scheme, token) = std::str::from_utf8(value).ok()?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The answer to a refused request: a redirect to the login form for a browser's navigation
/// without credentials in form mode, else the refusal itself; a stale session cookie is cleared.
fn refusal(layer: &GateLayer, parts: &Parts, refused: Refused) -> Response {
    let gate = &layer.gate;
    let mut response = if gate.mode == LoginMode::Form
        && refused.unannounced
        && matches!(refused.error, AuthError::Missing | AuthError::Invalid)
        && navigation(parts)
    {
        let location = login_location(&layer.base, parts);
        match HeaderValue::from_str(&location) {
            Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
            Err(_) => refused.error.into_response(),
        }
    } else {
        refused.error.into_response()
    };
    if refused.stale_cookie {
        response.headers_mut().append(SET_COOKIE, cookie::clear(gate.tls));
    }
    response
}

/// Whether the request is a browser's navigation: `Sec-Fetch-Mode: navigate`, or, from a browser
/// too old to send Sec-Fetch headers, a GET that accepts HTML.
pub fn navigation(parts: &Parts) -> bool {
    let headers = &parts.headers;
    if let Some(mode) = headers.get("sec-fetch-mode") {
        return mode.as_bytes() == b"navigate";
    }
    let fetch_metadata = headers.keys().any(|k| k.as_str().starts_with("sec-fetch-"));
    let html = headers.get_all(ACCEPT).iter().any(|v| v.to_str().is_ok_and(|v| v.contains("text/html")));
    !fetch_metadata && (parts.method == Method::GET || parts.method == Method::HEAD) && html
}

/// `BASE/login?next=PATH`: PATH is the request's path and query under the base path (for a GET;
/// after another method's navigation the login form goes to the start page).
pub fn login_location(base: &str, parts: &Parts) -> String {
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return format!("{base}/login");
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    format!("{base}/login?next={}", livedash::query::encode(&format!("{base}{path}")))
}

#[cfg(test)]
mod tests;
