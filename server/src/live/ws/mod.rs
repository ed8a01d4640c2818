//! `GET /ws`: the live stream, refused with an HTTP status before any upgrade: a foreign `Origin`
//! is 403, missing or wrong credentials (a ticket, an API token, Basic or the session cookie) 401,
//! too many attempts 429, too many connections 503. Only then does the handshake complete with 101.
//!
//! - [`state`]: the endpoint's settings and its part of the server's state;
//! - [`admission`]: every check before the upgrade; [`connections`]: the caps and counters;
//! - [`origin`]: the Origin policy, and the words that explain a refused socket to the page;
//! - [`handshake`]: the RFC 6455 upgrade itself;
//! - [`pump`]: one socket's life: its first frames, then the hub's, pings, and its end
//!   ([`ending`]: how and why it ends);
//!   [`revocation`]: what ends its right to them (a password change, a removal, its session's end),
//!   from admission on.
//!
//! May import [`crate::auth`], [`crate::http`] (client facts, connection slots, the stream an
//! upgrade takes over), [`crate::shutdown`] and the rest of
//! [`crate::live`] (the hub, its frames, a client's first frames); nothing above it.

pub mod admission;
pub mod connections;
pub mod ending;
pub mod handshake;
pub mod origin;
pub mod pump;
pub mod revocation;
pub mod state;

use axum::extract::{Request, State};
use axum::response::Response;

pub use state::{WsConfig, WsState};

use admission::Admitted;

/// The handshake: every check first (the [`Admitted`] extractor), then the upgrade; the socket
/// then runs in a task of its own.
pub async fn handler(admitted: Admitted, State(state): State<WsState>, request: Request) -> Response {
    handshake::upgrade(request, move |socket| pump::run(socket, state, admitted))
}
