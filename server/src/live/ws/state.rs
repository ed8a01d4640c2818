//! What the WebSocket endpoint is told ([`WsConfig`]) and what it takes of the server's state
//! ([`WsState`]).

use std::sync::Arc;
use std::time::Duration;

use super::connections::Connections;
use crate::auth::{Auth, Gate};
use crate::live::hub::Hub;
use crate::live::subscription::SourceClass;
use crate::live::summary::SummaryFeed;
use crate::shutdown::Shutdown;

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
    /// Who a handshake is (tokens, Basic, the session cookie) and the sessions a socket belongs to.
    pub gate: Gate,
    /// Where the frames come from.
    pub hub: Arc<Hub>,
    /// Where the fleet's summary frames come from.
    pub summary: Arc<dyn SummaryFeed>,
    /// Which sources a `configured` subscription takes.
    pub class: Arc<dyn SourceClass>,
    /// The endpoint's settings.
    pub config: Arc<WsConfig>,
    /// The open sockets.
    pub connections: Arc<Connections>,
    /// Flips once, when the server shuts down.
    pub shutdown: Shutdown,
}
