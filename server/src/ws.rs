//! `GET /ws`: the live stream, refused with an HTTP status before any upgrade: a foreign `Origin`
//! is 403, missing or wrong credentials (a ticket or Basic) 401, too many attempts 429, too many
//! connections 503. Only then does the handshake complete with 101.
//!
//! Each socket gets the `hello`, then the hub's frames. The client may send nothing but control
//! frames: data frames are ignored and counted, one over [`MAX_CLIENT_FRAME`] closes the socket
//! with 1009, and a client that answers no ping for the idle timeout is closed. A send that stalls
//! past [`SEND_TIMEOUT`] disconnects that client alone. When the users file changes, sockets of
//! users removed or whose password changed are closed with 1008.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::header::{
    CONNECTION, HOST, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame};
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Bytes, Message, Utf8Bytes};

use crate::auth::{Auth, AuthError, BasicUser, TicketState, client_ip};
use crate::hub::Start;
use crate::state::AppState;

/// How long one frame may take to go out before the client is dropped.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest frame a client may send (it should send none but control frames).
pub const MAX_CLIENT_FRAME: usize = 4096;
/// What the protocol layer reads at most before giving up on a frame: larger ones close with
/// 1009 without being read.
const READ_LIMIT: usize = 64 * 1024;
/// The read buffer each socket holds for its whole life. Clients send only control frames, so a
/// page's worth is plenty (a longer frame still arrives, the buffer grows for it); the default,
/// 128 KiB, made 5000 sockets cost 640 MiB of resident memory.
const READ_BUFFER: usize = 4 * 1024;
/// Frames longer than this go out in fragments of this size (one message to the client). The
/// protocol layer keeps its write buffer at the largest frame it ever wrote, for the life of the
/// socket: unfragmented, one 1.3 MB `hello` per client made 500 clients cost 640 MiB.
const FRAGMENT: usize = 4 * 1024;

/// A socket after the handshake.
type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

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

/// Counters for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct WsStats {
    /// Sockets open now.
    pub open: AtomicUsize,
    /// Data frames from clients, ignored.
    pub ignored_frames: AtomicU64,
    /// Sockets closed for a frame over [`MAX_CLIENT_FRAME`].
    pub closed_oversize: AtomicU64,
    /// Sockets closed for answering no ping.
    pub closed_idle: AtomicU64,
    /// Sockets closed because a send stalled.
    pub closed_slow: AtomicU64,
    /// Sockets closed because their user was removed or changed password.
    pub closed_revoked: AtomicU64,
}

/// Open sockets, in total and per client IP.
#[derive(Default)]
pub struct Connections {
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Counters.
    pub stats: WsStats,
}

/// A place among the open sockets; giving it back happens on drop.
pub struct Slot {
    connections: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    fn acquire(self: &Arc<Self>, ip: IpAddr, config: &WsConfig) -> Option<Slot> {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
        let open = self.stats.open.load(Ordering::Relaxed);
        let mine = per_ip.get(&ip).copied().unwrap_or(0);
        if open >= config.max_connections || mine >= config.max_connections_per_ip {
            return None;
        }
        per_ip.insert(ip, mine + 1);
        self.stats.open.store(open + 1, Ordering::Relaxed);
        Some(Slot { connections: self.clone(), ip })
    }

    /// How many sockets are open.
    pub fn open(&self) -> usize {
        self.stats.open.load(Ordering::Relaxed)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_ip = self.connections.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.connections.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why a handshake was refused (besides authentication).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The `Origin` is neither the server's own nor an allowed one.
    #[error("origin not allowed")]
    Origin,
    /// Too many sockets open.
    #[error("too many connections")]
    Full,
    /// See [`AuthError`].
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Origin => (
                StatusCode::FORBIDDEN,
                "403 Forbidden: this page's origin may not open the live stream (see --allowed-origin)\n",
            )
                .into_response(),
            Self::Full => (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "5")],
                "503 Service Unavailable: too many live connections\n",
            )
                .into_response(),
            Self::Auth(e) => e.into_response(),
        }
    }
}

#[derive(Deserialize)]
struct WsQuery {
    ticket: Option<String>,
    /// Resume after this `seq` instead of starting with a full `hello`.
    since: Option<u64>,
}

/// A handshake that passed every check: its user and its place among the open sockets.
pub struct Admitted {
    user: Arc<str>,
    slot: Slot,
    since: Option<u64>,
}

fn origin_allowed(parts: &Parts, config: &WsConfig) -> bool {
    // Non-browser clients send no Origin: they are judged by their credentials alone.
    let Some(origin) = parts.headers.get(ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    origin_problem(origin, parts, config).is_none()
}

/// The server's own origin: the one of `--public-url` when set, else as this request reached it:
/// the `Host` header with `https` when the server serves TLS or a trusted proxy says the client
/// used HTTPS.
fn own_origin(parts: &Parts, config: &WsConfig) -> Option<String> {
    if let Some(public) = &config.public_origin {
        return Some(public.clone());
    }
    let forwarded = parts.extensions.get::<crate::serve::ForwardedProto>().map(|p| p.0.as_str());
    parts.headers.get(HOST).and_then(|h| h.to_str().ok()).map(|host| {
        let scheme = forwarded.unwrap_or(if config.tls { "https" } else { "http" });
        format!("{scheme}://{}", host.to_ascii_lowercase())
    })
}

/// Why a socket opened from a page at `origin` would be refused with 403, in words for the
/// person looking at that page; `None` when it would be accepted.
fn origin_problem(origin: &str, parts: &Parts, config: &WsConfig) -> Option<String> {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let own = own_origin(parts, config);
    if own.as_deref() == Some(origin.as_str()) || config.allowed_origins.contains(&origin) {
        return None;
    }
    let expected = own.unwrap_or_else(|| "(no Host header)".to_owned());
    if config.public_origin.is_some() {
        return Some(format!(
            "the live connection is refused for this page's origin {origin}: the server expects {expected} \
             (its --public-url). Open the dashboard at its public URL, correct --public-url, or allow this \
             origin too with --allowed-origin {origin}"
        ));
    }
    Some(format!(
        "the live connection is refused for this page's origin {origin}: the server expects {expected}. \
         Behind a TLS-terminating proxy start livedash with --trusted-proxy <proxy address>; \
         for another origin use --allowed-origin {origin}"
    ))
}

/// Why the page at `origin` could not open a socket with `ticket` (issued to `user`), in words for
/// the person at the page: browsers hide the HTTP status of a refused handshake, so the page asks.
pub fn socket_problem(origin: &str, ticket: &str, user: &str, parts: &Parts, auth: &Auth, config: &WsConfig) -> String {
    if let Some(problem) = origin_problem(origin, parts, config) {
        return problem;
    }
    match auth.ticket_state(ticket, user) {
        TicketState::Unused => "the live connection never reached livedash as a WebSocket upgrade: a reverse proxy in \
             front of it must forward the WebSocket upgrade (the Upgrade and Connection headers; see the README, \
             \"Behind a reverse proxy\")"
            .to_owned(),
        TicketState::Redeemed => {
            "livedash accepted the live connection's ticket but refused the connection: it is at its \
             limit of open connections (--max-connections, --max-connections-per-ip)"
                .to_owned()
        }
        TicketState::Refused => "livedash refused the live connection's ticket (it expired on the way, or the account \
             changed); the next attempt asks for a new one"
            .to_owned(),
    }
}

impl FromRequestParts<AppState> for Admitted {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts);
        let origin = parts.headers.get(ORIGIN).map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned());
        if !origin_allowed(parts, &state.ws) {
            tracing::warn!(%ip, origin = ?origin, "websocket refused: origin not allowed");
            return Err(Refusal::Origin);
        }
        // An unparsable query carries no valid ticket: the same 401 as a wrong one.
        let (ticket, since) = Query::<WsQuery>::try_from_uri(&parts.uri)
            .map_or((Some(String::new()), None), |Query(q)| (q.ticket, q.since));
        let user = match ticket {
            Some(ticket) => state.auth.redeem_ticket(&ticket).inspect_err(|_| {
                state.auth.stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%ip, origin = ?origin, "websocket refused: invalid, expired or reused ticket");
            })?,
            None => {
                BasicUser::from_request_parts(parts, state)
                    .await
                    .inspect_err(|e| {
                        tracing::warn!(%ip, origin = ?origin, reason = %e, "websocket refused");
                    })?
                    .0
            }
        };
        let Some(slot) = state.connections.acquire(ip, &state.ws) else {
            tracing::warn!(%ip, user = ?user, "websocket refused: connection limit reached");
            return Err(Refusal::Full);
        };
        Ok(Self { user, slot, since })
    }
}

/// The handshake: every check first, then the upgrade (RFC 6455 §4.2): a request that is not a
/// WebSocket upgrade gets 400 (426 for another protocol version), never a 500.
pub async fn handler(admitted: Admitted, State(state): State<AppState>, mut request: Request) -> Response {
    let accept = match accept_key(request.headers()) {
        Ok(accept) => accept,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(on_upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return NotHandshake::NotUpgradable.into_response();
    };
    tracing::debug!(user = ?admitted.user, "websocket accepted");
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let config = WebSocketConfig::default()
                    .read_buffer_size(READ_BUFFER)
                    .write_buffer_size(0)
                    .max_message_size(Some(READ_LIMIT))
                    .max_frame_size(Some(READ_LIMIT));
                let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
                run(socket, state, admitted).await;
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

/// Why a request to `/ws` is not a handshake this server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotHandshake {
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

/// Why a socket ends.
enum End {
    Gone,
    Close(CloseCode, &'static str),
}

async fn run(mut socket: Socket, state: AppState, admitted: Admitted) {
    let Admitted { user, slot: _slot, since } = admitted;
    let stats = &state.connections.stats;
    let version = state.auth.user_version(&user);
    let mut users_changed = state.auth.changes();
    let (start, mut frames) = state.hub.subscribe(since);
    let mut shutdown = state.shutdown.clone();
    let idle = state.ws.idle_timeout;
    let mut ping = tokio::time::interval(idle / 2);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let first = match start {
        Start::Hello(hello) => vec![hello],
        Start::Resume(frames) => frames,
    };
    let mut started = true;
    for frame in first {
        if !send_text(&mut socket, frame, &mut shutdown).await {
            started = false;
            break;
        }
    }
    let end = if started {
        loop {
            tokio::select! {
                frame = frames.recv() => match frame {
                    Ok(text) => if !send_text(&mut socket, text, &mut shutdown).await {
                        stats.closed_slow.fetch_add(1, Ordering::Relaxed);
                        break End::Gone;
                    },
                    Err(RecvError::Lagged(n)) => {
                        // Too slow: skip to the newest frame (status frames, few and small, are
                        // all kept so that no state change is lost), and count what was skipped.
                        let (keep, skipped) = catch_up(&mut frames);
                        state.hub.stats.skipped.fetch_add(n + skipped, Ordering::Relaxed);
                        for text in keep {
                            if !send_text(&mut socket, text, &mut shutdown).await {
                                stats.closed_slow.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                    Err(RecvError::Closed) => break End::Close(CloseCode::Away, "server shutting down"),
                },
                incoming = socket.next() => {
                    last_heard = Instant::now();
                    match incoming {
                        None | Some(Ok(Message::Close(_))) => break End::Gone,
                        Some(Ok(Message::Text(t))) if t.len() > MAX_CLIENT_FRAME => break oversize(stats),
                        Some(Ok(Message::Binary(b))) if b.len() > MAX_CLIENT_FRAME => break oversize(stats),
                        Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                            stats.ignored_frames.fetch_add(1, Ordering::Relaxed);
                        }
                        // Pings are answered by the protocol layer; pongs only show liveness.
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                        Some(Err(tungstenite::Error::Capacity(_))) => break oversize(stats),
                        Some(Err(_)) => break End::Gone,
                    }
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() >= idle {
                        stats.closed_idle.fetch_add(1, Ordering::Relaxed);
                        break End::Close(CloseCode::Away, "idle timeout");
                    }
                    if !send(&mut socket, Message::Ping(Bytes::new()), &mut shutdown).await {
                        break End::Gone;
                    }
                },
                changed = users_changed.changed() => {
                    if changed.is_ok() && state.auth.user_version(&user) != version {
                        stats.closed_revoked.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(user = ?user, "closing a socket: the user was removed or changed password");
                        break End::Close(CloseCode::Policy, "credentials changed");
                    }
                },
                () = crate::stopped(&mut shutdown) => break End::Close(CloseCode::Away, "server shutting down"),
            }
        }
    } else {
        End::Gone
    };
    // A send cut short by the shutdown still owes the client its 1001.
    let end = match end {
        End::Gone if *shutdown.borrow() => End::Close(CloseCode::Away, "server shutting down"),
        end => end,
    };
    if let End::Close(code, reason) = end {
        let close = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
        // Best effort: a client that cannot take the close frame in a second is dropped anyway.
        let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(Some(close)))).await;
    }
}

/// Drains what is queued for a lagging socket: every status frame and the newest other frame,
/// in order, and how many frames were dropped.
fn catch_up(frames: &mut tokio::sync::broadcast::Receiver<Utf8Bytes>) -> (Vec<Utf8Bytes>, u64) {
    use tokio::sync::broadcast::error::TryRecvError;
    let mut keep: Vec<Utf8Bytes> = Vec::new();
    let mut newest: Option<Utf8Bytes> = None;
    let mut skipped = 0u64;
    loop {
        match frames.try_recv() {
            Ok(text) if text.as_str().starts_with(r#"{"type":"status""#) => keep.push(text),
            Ok(text) => {
                skipped += u64::from(newest.replace(text).is_some());
            }
            Err(TryRecvError::Lagged(n)) => skipped += n,
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
        }
    }
    keep.extend(newest);
    (keep, skipped)
}

fn oversize(stats: &WsStats) -> End {
    stats.closed_oversize.fetch_add(1, Ordering::Relaxed);
    End::Close(CloseCode::Size, "client frames must be control frames under 4 KiB")
}

/// Sends one message within [`SEND_TIMEOUT`], unless the server is shutting down.
async fn send(socket: &mut Socket, msg: Message, shutdown: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    bounded(socket.send(msg), shutdown).await
}

/// Sends a text message, in fragments of [`FRAGMENT`] bytes when it is longer (the client gets
/// one message either way), all of it within [`SEND_TIMEOUT`].
async fn send_text(socket: &mut Socket, text: Utf8Bytes, shutdown: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    if text.len() <= FRAGMENT {
        return send(socket, Message::Text(text), shutdown).await;
    }
    let fragments = async {
        for frame in fragments(&text) {
            socket.send(Message::Frame(frame)).await?;
        }
        Ok(())
    };
    bounded(fragments, shutdown).await
}

/// Whether `sending` succeeds within [`SEND_TIMEOUT`] and before the server starts shutting down.
async fn bounded(
    sending: impl Future<Output = Result<(), tungstenite::Error>>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        sent = tokio::time::timeout(SEND_TIMEOUT, sending) => matches!(sent, Ok(Ok(()))),
        () = crate::stopped(shutdown) => false,
    }
}

/// `text` as a fragmented text message: a text frame, then continuation frames, the last final.
/// The pieces share `text`'s buffer.
fn fragments(text: &Utf8Bytes) -> impl Iterator<Item = Frame> + '_ {
    let bytes: &Bytes = text.as_ref();
    let count = bytes.len().div_ceil(FRAGMENT);
    (0..count).map(move |i| {
        let piece = bytes.slice(i * FRAGMENT..((i + 1) * FRAGMENT).min(bytes.len()));
        let opcode = OpCode::Data(if i == 0 { Data::Text } else { Data::Continue });
        Frame::message(piece, opcode, i + 1 == count)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_goes_out_as_one_fragmented_message() {
        let text: String = (0..3 * FRAGMENT + 10).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let frames: Vec<Frame> = fragments(&Utf8Bytes::from(text.clone())).collect();
        assert_eq!(frames.len(), 4);
        let opcodes: Vec<(OpCode, bool)> = frames.iter().map(|f| (f.header().opcode, f.header().is_final)).collect();
        let cont = OpCode::Data(Data::Continue);
        assert_eq!(opcodes, [(OpCode::Data(Data::Text), false), (cont, false), (cont, false), (cont, true)]);
        let joined: Vec<u8> = frames.iter().flat_map(|f| f.payload().to_vec()).collect();
        assert_eq!(joined, text.as_bytes());
    }

    #[test]
    fn a_lagging_socket_keeps_statuses_and_the_newest_frame() {
        let (tx, mut rx) = tokio::sync::broadcast::channel::<Utf8Bytes>(4);
        for text in
            [r#"{"type":"sample","seq":1}"#, r#"{"type":"status","source":"a"}"#, r#"{"type":"sample","seq":2}"#]
        {
            let _ = tx.send(Utf8Bytes::from_static(text));
        }
        for seq in 3..=6 {
            let _ = tx.send(format!(r#"{{"type":"sample","seq":{seq}}}"#).into());
        }
        // Capacity 4: the first three frames (with the status) fell out; 3 to 6 are queued.
        assert!(matches!(rx.try_recv(), Err(tokio::sync::broadcast::error::TryRecvError::Lagged(3))));
        let (keep, skipped) = catch_up(&mut rx);
        assert_eq!(keep.iter().map(Utf8Bytes::as_str).collect::<Vec<_>>(), [r#"{"type":"sample","seq":6}"#]);
        assert_eq!(skipped, 3, "seqs 3, 4, 5");

        let (tx, mut rx) = tokio::sync::broadcast::channel::<Utf8Bytes>(8);
        for text in
            [r#"{"type":"sample","seq":1}"#, r#"{"type":"status","source":"a"}"#, r#"{"type":"sample","seq":2}"#]
        {
            let _ = tx.send(Utf8Bytes::from_static(text));
        }
        let (keep, skipped) = catch_up(&mut rx);
        assert_eq!(
            keep.iter().map(Utf8Bytes::as_str).collect::<Vec<_>>(),
            [r#"{"type":"status","source":"a"}"#, r#"{"type":"sample","seq":2}"#]
        );
        assert_eq!(skipped, 1);
    }
}
