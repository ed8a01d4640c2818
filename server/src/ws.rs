//! `GET /ws`: the live stream. Authentication (a ticket or Basic) is an extractor that runs
//! before the upgrade, so a refused client gets 401 and never a 101.
//!
//! Each socket gets the `hello`, then the hub's frames. It reads only to notice the close and to
//! answer pings; data frames from the client are ignored. A send that stalls past
//! [`SEND_TIMEOUT`] disconnects that client alone.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::response::Response;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{AuthError, BasicUser};
use crate::state::AppState;

/// How long one frame may take to go out before the client is dropped.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest message a client may send (it should send none).
const MAX_CLIENT_MESSAGE: usize = 4096;

#[derive(Deserialize)]
struct WsQuery {
    ticket: Option<String>,
}

/// The user of a WebSocket handshake: from `?ticket=` when present, else from Basic.
pub struct WsUser(pub std::sync::Arc<str>);

impl FromRequestParts<AppState> for WsUser {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // An unparsable query carries no valid ticket: the same 401 as a wrong one.
        let query = Query::<WsQuery>::try_from_uri(&parts.uri).map_err(|_| AuthError::Invalid)?;
        match query.0.ticket {
            Some(ticket) => state.auth.redeem_ticket(&ticket).map(WsUser).inspect_err(|_| {
                tracing::info!("websocket refused: invalid ticket");
            }),
            None => BasicUser::from_request_parts(parts, state).await.map(|u| WsUser(u.0)),
        }
    }
}

/// The handshake: authenticated first, then upgraded.
pub async fn handler(user: WsUser, State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    tracing::debug!(user = %user.0, "websocket accepted");
    upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| run(socket, state))
}

async fn run(mut socket: WebSocket, state: AppState) {
    let (hello, mut frames) = state.hub.subscribe();
    let mut shutdown = state.shutdown.clone();
    if !send(&mut socket, hello).await {
        return;
    }
    loop {
        tokio::select! {
            frame = frames.recv() => match frame {
                Ok(text) => {
                    if !send(&mut socket, text).await {
                        return;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    state.hub.stats.skipped.fetch_add(n, Ordering::Relaxed);
                }
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                // Pings are answered by the protocol layer; anything else is ignored.
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            () = crate::stopped(&mut shutdown) => break,
        }
    }
    let close = CloseFrame { code: close_code::AWAY, reason: Utf8Bytes::from_static("server shutting down") };
    // Best effort: a client that cannot take the close frame in a second is dropped anyway.
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(Some(close)))).await;
}

/// Sends one frame; `false` when the client is gone or too slow.
async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> bool {
    matches!(tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await, Ok(Ok(())))
}
