//! Logging in and out by the form, and the Sessions view:
//!
//! - [`form`]: `GET /login` (the form, server-rendered) and `POST /login` (`username`,
//!   `password`, `remember`, `next`), with the second step `POST /login/code` for a user with a
//!   second factor; [`pending`]: the signed, single-use pending login between the two steps;
//!   [`next`]: where a login may send the browser back to (a path of this site only);
//! - [`logout`]: `POST /logout` (this session, or `?everywhere=1`: all the user's sessions);
//! - [`view`]: `GET /sessions` and `POST /sessions/revoke`; [`agent`]: the browser and the
//!   operating system read from a user agent.
//!
//! The pages are rendered through [`Pages`] (implemented by `ui.rs`, the one server file that knows
//! the UI crate) from the core's plain `livedash::account` data. May import the auth wing,
//! [`crate::audit`], [`crate::http`]'s origin and client facts, and [`crate::clock`].

pub mod agent;
pub mod form;
pub mod logout;
pub mod next;
pub mod pending;
pub mod view;

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::header::{CONTENT_SECURITY_POLICY, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use livedash::account::{CodePage, LoginPage, SessionsPage};

use crate::audit::{AuditEvent, AuditKind};
use crate::auth::Gate;

/// Renders the account pages (see the module's documentation).
pub trait Pages: Send + Sync + 'static {
    /// The login form.
    fn login(&self, page: &LoginPage) -> String;
    /// The second step: the code.
    fn code(&self, page: &CodePage) -> String;
    /// The Sessions view.
    fn sessions(&self, page: &SessionsPage) -> String;
    /// The pages' Content-Security-Policy (their inline script and style allowed by hash, so that
    /// the same page is the same bytes every time).
    fn csp(&self) -> &str;
}

/// What the login routes take.
#[derive(Clone)]
pub struct LoginState {
    /// Who a request is, and where logins are recorded.
    pub gate: Gate,
    /// The base path (`""` or `/dash`).
    pub base: Arc<str>,
    /// The pages.
    pub pages: Arc<dyn Pages>,
    /// The pending logins waiting for their second step.
    pub pending: Arc<pending::Pending>,
}

impl LoginState {
    /// The login routes' state.
    pub fn new(gate: Gate, base: Arc<str>, pages: Arc<dyn Pages>, pending: pending::Pending) -> Self {
        Self { gate, base, pages, pending: Arc::new(pending) }
    }

    /// A page with its policy and `status`.
    pub(crate) fn html(&self, status: StatusCode, html: String) -> Response {
        let mut response = (status, Html(html)).into_response();
        if let Ok(csp) = HeaderValue::from_str(self.pages.csp()) {
            response.headers_mut().insert(CONTENT_SECURITY_POLICY, csp);
        }
        response
    }

    /// A 303 to `path` (already under the base path).
    pub(crate) fn see_other(path: &str) -> Response {
        let location = HeaderValue::from_str(path).unwrap_or_else(|_| HeaderValue::from_static("/"));
        (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
    }

    /// Records `kind` for `user` from `addr` with `detail` (a JSON object's fields). What strangers
    /// can cause (failed and throttled logins) is bounded per address by the audit itself.
    pub(crate) fn audit(&self, kind: AuditKind, user: Option<&str>, addr: IpAddr, detail: serde_json::Value) {
        let detail = match detail {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        self.gate.audit.record(AuditEvent { kind, user: user.map(str::to_owned), addr: Some(addr), detail });
    }
}

/// Whether `headers` come from a browser (which gets pages and redirects) rather than a script
/// (which gets bare status codes).
pub(crate) fn from_browser(headers: &HeaderMap) -> bool {
    headers.contains_key("sec-fetch-mode")
        || headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}
