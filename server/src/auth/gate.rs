//! [`Gate`]: everything that decides who a request is: the accounts and their throttles
//! ([`Auth`]), the sessions, the API tokens, the second factors, how browsers log in
//! ([`LoginMode`]), and where what happened is recorded ([`Audit`]). The routes' authentication
//! layer and the login pages take it (and nothing else of the server's state).

use std::sync::Arc;

use super::accounts::Auth;
use super::session::Sessions;
use super::token::Tokens;
use super::totp::Totp;
use crate::audit::Audit;

/// How a browser logs in (`--login`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginMode {
    /// The login form and sessions (Basic still works for scripts).
    #[default]
    Form,
    /// HTTP Basic only, as before the login form: the browser's own dialog, no sessions.
    Basic,
}

/// See the module's documentation.
#[derive(Clone)]
pub struct Gate {
    /// The accounts, throttles, device cookies and tickets.
    pub auth: Arc<Auth>,
    /// The login form's sessions.
    pub sessions: Arc<Sessions>,
    /// The API tokens.
    pub tokens: Arc<Tokens>,
    /// The second factors.
    pub totp: Arc<Totp>,
    /// Where logins and write actions are recorded.
    pub audit: Audit,
    /// How browsers log in.
    pub mode: LoginMode,
    /// Whether the site is served over TLS (the session cookie's name and `Secure`).
    pub tls: bool,
}
