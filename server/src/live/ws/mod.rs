//! `GET /ws`: the live stream, refused with an HTTP status before any upgrade: a foreign `Origin`
//! is 403, missing or wrong credentials (a ticket or Basic) 401, too many attempts 429, too many
//! connections 503. Only then does the handshake complete with 101.
//!
//! - [`admission`]: every check before the upgrade, and the connection caps;
//! - [`origin`]: the Origin policy, and the words that explain a refused socket to the page;
//! - [`handshake`]: the RFC 6455 upgrade itself;
//! - [`pump`]: one socket's life: its first frames, then the hub's, pings, and its end.
//!
//! May import [`crate::auth`], [`crate::http::client_ip`], [`crate::shutdown`] and its sibling
//! [`super::hub`]; nothing above it.

pub mod admission;
pub mod handshake;
pub mod origin;
pub mod pump;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::Response;

use super::hub::Hub;
use crate::auth::Auth;
use crate::shutdown::Shutdown;
use admission::{Admitted, Connections};

/// How the WebSocket endpoint is configured.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// Origins accepted besides the server's own (`https://dash.example.com`), lower case.
    pub allowed_origins: Vec<String>,
    /// The origin of `--public-url`: when set, the one origin of the server's own pages.
    pub public_origin: Option<String>,
    /// Whether the server is reached over TLS (its own origin is then `https://...`).
    pub tls: bool,
    /// Sockets open at once, in total.
    pub max_connections: usize,
    /// Sockets open at once from one client IP.
    pub max_connections_per_ip: usize,
    /// A client that sends nothing (not even a pong) for this long is closed.
    pub idle_timeout: Duration,
}

/// What the WebSocket endpoint needs of the server: the part of the state it takes.
#[derive(Clone)]
pub struct WsState {
    /// Credentials, tickets, and news of changed accounts.
    pub auth: Arc<Auth>,
    /// Where the frames come from.
    pub hub: Arc<Hub>,
    /// The endpoint's settings.
    pub config: Arc<WsConfig>,
    /// The open sockets.
    pub connections: Arc<Connections>,
    /// Flips once, when the server shuts down.
    pub shutdown: Shutdown,
}

/// The handshake: every check first (the [`Admitted`] extractor), then the upgrade; the socket
/// then runs in a task of its own.
pub async fn handler(admitted: Admitted, State(state): State<WsState>, request: Request) -> Response {
    handshake::upgrade(request, move |socket| pump::run(socket, state, admitted))
}
