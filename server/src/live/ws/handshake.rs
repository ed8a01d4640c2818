//! The WebSocket upgrade (RFC 6455 §4.2), done here rather than by axum so that the socket can
//! write frames straight to the connection (see [`crate::live::wire`]): a request that is not a WebSocket upgrade gets 400
//! (426 for another protocol version), never a 500.

use axum::extract::Request;
use axum::http::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::{Role, WebSocketConfig};

use crate::http::io::{self, Io};

/// What the protocol layer reads at most before giving up on a frame: larger ones close with
/// 1009 without being read.
const READ_LIMIT: usize = 64 * 1024;
/// The read buffer each socket holds for its whole life. Clients send only control frames (a
/// pong is 6 bytes and its mask, a close at most 131), so this holds any of them whole; a longer
/// frame still arrives (the buffer grows for it, and a data frame over 4 KiB closes the socket).
/// It was 4 KiB, half of what an idle socket held (a heap profile of 1000 sockets: 4096 of 7.2
/// KiB each); the default, 128 KiB, made 5000 sockets cost 640 MiB of resident memory.
const READ_BUFFER: usize = 512;

/// A socket after the handshake.
pub type Socket = WebSocketStream<Box<dyn Io>>;

/// Why a request to `/ws` is not a handshake this server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotHandshake {
    /// No `Connection: upgrade` and `Upgrade: websocket`, or no key.
    Malformed,
    /// A protocol version other than 13.
    Version,
    /// The connection cannot be taken over (HTTP/2 here, say).
    NotUpgradable,
}

impl IntoResponse for NotHandshake {
    fn into_response(self) -> Response {
        match self {
            Self::Malformed => {
                (StatusCode::BAD_REQUEST, "400 Bad Request: not a WebSocket handshake\n").into_response()
            }
            Self::Version => (
                StatusCode::UPGRADE_REQUIRED,
                [(SEC_WEBSOCKET_VERSION, "13")],
                "426 Upgrade Required: WebSocket version 13 only\n",
            )
                .into_response(),
            Self::NotUpgradable => {
                (StatusCode::UPGRADE_REQUIRED, "426 Upgrade Required: this connection cannot be upgraded\n")
                    .into_response()
            }
        }
    }
}

/// Answers a handshake `request` with 101 and runs `serve` on the socket in a task of its own
/// once the connection is taken over; a request that is not a handshake gets its 4xx.
pub fn upgrade<F, Fut>(mut request: Request, serve: F) -> Response
where
    F: FnOnce(Socket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let accept = match accept_key(request.headers()) {
        Ok(accept) => accept,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(on_upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return NotHandshake::NotUpgradable.into_response();
    };
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let config = WebSocketConfig::default()
                    .read_buffer_size(READ_BUFFER)
                    .write_buffer_size(0)
                    .max_message_size(Some(READ_LIMIT))
                    .max_frame_size(Some(READ_LIMIT));
                let (stream, read) = io::take_over(upgraded);
                let socket = if read.is_empty() {
                    WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await
                } else {
                    WebSocketStream::from_partially_read(stream, read, Role::Server, Some(config)).await
                };
                serve(socket).await;
            }
            Err(e) => tracing::debug!(error = %e, "websocket upgrade failed"),
        }
    });
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    response
}

/// The `Sec-WebSocket-Accept` for a well-formed handshake request.
fn accept_key(headers: &HeaderMap) -> Result<HeaderValue, NotHandshake> {
    let has_token = |name, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if !has_token(CONNECTION, "upgrade") || !has_token(UPGRADE, "websocket") {
        return Err(NotHandshake::Malformed);
    }
    if headers.get(SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        return Err(NotHandshake::Version);
    }
    let key = headers.get(SEC_WEBSOCKET_KEY).filter(|k| !k.is_empty()).ok_or(NotHandshake::Malformed)?;
    HeaderValue::from_str(&tungstenite::handshake::derive_accept_key(key.as_bytes()))
        .map_err(|_| NotHandshake::Malformed)
}
