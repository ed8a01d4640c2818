//! The one shared state of the server: handed to every handler, nothing global.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use livedash::Hello;
use tokio::sync::watch;

use crate::auth::Auth;
use crate::hub::Hub;
use crate::ws::{Connections, WsConfig};

/// Everything a request may need.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Where the built site is and what it is called (for leptos_axum).
    pub leptos: LeptosOptions,
    /// The path everything is served under (`--public-url`): `""` or `/dash`.
    pub base: Arc<str>,
    /// Credentials and tickets.
    pub auth: Arc<Auth>,
    /// The fan-out hub.
    pub hub: Arc<Hub>,
    /// How the WebSocket endpoint behaves.
    pub ws: Arc<WsConfig>,
    /// The open sockets.
    pub connections: Arc<Connections>,
    /// Fetch latency and errors per source.
    pub source_metrics: crate::metrics::SourceMetrics,
    /// Flips to `true` once, when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

/// What the UI asks of the server while rendering or answering a server function.
pub struct UiBackend {
    /// See [`AppState::auth`].
    pub auth: Arc<Auth>,
    /// See [`AppState::hub`].
    pub hub: Arc<Hub>,
    /// See [`AppState::ws`].
    pub ws: Arc<WsConfig>,
}

impl app::ssr::Backend for UiBackend {
    fn snapshot(&self) -> Hello {
        self.hub.snapshot()
    }

    fn issue_ticket(&self, user: &str) -> String {
        self.auth.issue_ticket(user)
    }

    fn socket_problem(
        &self,
        page_origin: &str,
        ticket: &str,
        user: &str,
        request: &axum::http::request::Parts,
    ) -> String {
        crate::ws::socket_problem(page_origin, ticket, user, request, &self.auth, &self.ws)
    }
}
