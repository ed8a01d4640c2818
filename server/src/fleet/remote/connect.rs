//! Opening the WebSocket of a remote livedash: TCP, TLS for `wss://` (the system's trusted
//! roots), the handshake with `Authorization: Bearer TOKEN`, and `?sub=configured` (the remote's
//! configured sources only, not its own fleet) with a fall-back to no `sub` for a remote that
//! refuses the parameter (400). Each failure becomes a [`Failure`] that says what happened.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_tungstenite::WebSocketStream;
use tungstenite::client::IntoClientRequest;
use tungstenite::http::{HeaderValue, StatusCode, header};

use super::failure::Failure;

/// What the socket runs over: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open WebSocket to the remote.
pub type Socket = WebSocketStream<Box<dyn Io>>;

/// The subscription asked for: the remote's configured sources (its `local` among them).
const SUB: &str = "configured";

/// Opens the socket at `url` (`ws://` or `wss://`, the remote's `/ws`), within `timeout`.
pub async fn open(url: &Url, token: &str, timeout: Duration) -> Result<Socket, Failure> {
    let mut subscribed = url.clone();
    subscribed.query_pairs_mut().append_pair("sub", SUB);
    let within = |url| tokio::time::timeout(timeout, dial(url, token));
    let late = || Failure::Timeout(timeout.as_secs_f64());
    match within(&subscribed).await.map_err(|_| late())? {
        // A remote of a version without subscriptions that refuses the parameter: it sends
        // every source then, and the `local` one is picked out of them.
        Err(Failure::Http { status: 400, .. }) => within(url).await.map_err(|_| late())?,
        other => other,
    }
}

async fn dial(url: &Url, token: &str) -> Result<Socket, Failure> {
    let host = url.host_str().ok_or_else(|| Failure::Address(format!("{url} names no host")))?;
    let tls = match url.scheme() {
        "ws" => false,
        "wss" => true,
        other => return Err(Failure::Address(format!("{url}: `{other}` is not ws or wss"))),
    };
    let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
    let tcp = TcpStream::connect((host.trim_start_matches('[').trim_end_matches(']'), port))
        .await
        .map_err(|e| Failure::connect(&format!("{host}:{port}"), &e))?;
    // Frames are small and the remote's cadence is what matters: no batching of small writes.
    tcp.set_nodelay(true).map_err(|e| Failure::connect(&format!("{host}:{port}"), &e))?;
    let stream: Box<dyn Io> = if tls { Box::new(secure(tcp, host).await?) } else { Box::new(tcp) };
    let mut request = url.as_str().into_client_request().map_err(|e| Failure::Address(format!("{url}: {e}")))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| Failure::Address("the fleet token cannot be sent in a header".to_owned()))?;
    request.headers_mut().insert(header::AUTHORIZATION, bearer);
    match tokio_tungstenite::client_async(request, stream).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(refused(response.status(), response.body().as_deref())),
        Err(e) => Err(Failure::Protocol(format!("handshake: {e}"))),
    }
}

/// TLS to `host` (a name, or an address in brackets or not), verified against the system's roots.
async fn secure(tcp: TcpStream, host: &str) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Failure> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(Failure::Tls("no trusted root certificates on this system".to_owned()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_owned())
        .map_err(|e| Failure::Tls(format!("{host}: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    connector.connect(name, tcp).await.map_err(|e| Failure::Tls(e.to_string()))
}

/// A handshake the remote answered with `status` instead of 101, in words.
fn refused(status: StatusCode, body: Option<&[u8]>) -> Failure {
    let hint = match status {
        StatusCode::UNAUTHORIZED => "the fleet token was refused (unknown, expired or revoked: see --fleet-token-file)",
        StatusCode::FORBIDDEN => "forbidden (the token's user may not read the live stream)",
        StatusCode::TOO_MANY_REQUESTS => "too many attempts from this address",
        StatusCode::SERVICE_UNAVAILABLE => "the remote has no room for another socket",
        _ => "",
    };
    let text = body.map(String::from_utf8_lossy).map(|b| b.trim().chars().take(200).collect::<String>());
    let detail = if hint.is_empty() { text.unwrap_or_default() } else { hint.to_owned() };
    Failure::Http { status: status.as_u16(), detail }
}
