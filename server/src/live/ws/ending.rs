//! How a socket ends ([`End`]) and why: the client went away, sent a frame it may not send, or
//! its right to the stream was revoked (see [`super::revocation`]); each counted.

use std::sync::atomic::Ordering;

use tungstenite::Message;
use tungstenite::protocol::frame::coding::CloseCode;

use super::connections::WsStats;
use super::revocation::{Revoked, Standing};
use super::state::WsState;

/// The largest frame a client may send (it should send none but control frames).
pub const MAX_CLIENT_FRAME: usize = 4096;

/// Why a socket ends.
pub enum End {
    /// The client went away, or cannot be written to: nothing more to say.
    Gone,
    /// The server ends it, telling the client why.
    Close(CloseCode, &'static str),
}

/// The end of every socket when the server stops.
pub const SHUTTING_DOWN: End = End::Close(CloseCode::Away, "server shutting down");

/// What a message from the client means for the socket.
pub fn heard(incoming: Option<Result<Message, tungstenite::Error>>, stats: &WsStats) -> Option<End> {
    match incoming {
        None | Some(Ok(Message::Close(_))) => Some(End::Gone),
        Some(Ok(Message::Text(t))) if t.len() > MAX_CLIENT_FRAME => Some(oversize(stats)),
        Some(Ok(Message::Binary(b))) if b.len() > MAX_CLIENT_FRAME => Some(oversize(stats)),
        Some(Ok(Message::Text(_) | Message::Binary(_))) => {
            stats.ignored_frames.fetch_add(1, Ordering::Relaxed);
            None
        }
        // Pings are answered by the protocol layer; pongs only show liveness.
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => None,
        Some(Err(tungstenite::Error::Capacity(_))) => Some(oversize(stats)),
        Some(Err(_)) => Some(End::Gone),
    }
}

fn oversize(stats: &WsStats) -> End {
    stats.closed_oversize.fetch_add(1, Ordering::Relaxed);
    End::Close(CloseCode::Size, "client frames must be control frames under 4 KiB")
}

/// The end of a socket revoked since its admission, if it is.
pub fn revocation(standing: &Standing, state: &WsState) -> Option<End> {
    let stats = &state.connections.stats;
    match standing.revoked(&state.auth, &state.gate.sessions, &state.gate.tokens)? {
        Revoked::Credentials => Some(revoke(&standing.user, stats)),
        Revoked::Session => Some(session_ended(&standing.user, stats)),
        Revoked::Token => Some(token_ended(&standing.user, stats)),
    }
}

pub fn token_ended(user: &str, stats: &WsStats) -> End {
    stats.closed_revoked.fetch_add(1, Ordering::Relaxed);
    tracing::info!(user = ?user, "closing a socket: its API token was revoked or expired");
    End::Close(CloseCode::Policy, "token revoked")
}

fn revoke(user: &str, stats: &WsStats) -> End {
    stats.closed_revoked.fetch_add(1, Ordering::Relaxed);
    tracing::info!(user = ?user, "closing a socket: the user was removed or changed password");
    End::Close(CloseCode::Policy, "credentials changed")
}

pub fn session_ended(user: &str, stats: &WsStats) -> End {
    stats.closed_revoked.fetch_add(1, Ordering::Relaxed);
    tracing::info!(user = ?user, "closing a socket: its session ended");
    End::Close(CloseCode::Policy, "session ended")
}
