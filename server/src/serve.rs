//! Serving connections: accept TCP, complete TLS when configured, then HTTP/1.1 with a header-read
//! timeout and a header size cap (a slow or oversized client costs a bounded amount and gets a
//! 4xx or a closed connection, never a 500), with upgrades for the WebSocket. On shutdown it stops
//! accepting, lets requests in flight finish and returns within a few seconds.
//!
//! `axum::serve` has no header-read timeout in axum 0.8, hence this loop over hyper directly.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::stopped;

/// The largest request head (request line and headers) read; larger ones get 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// How long in-flight requests get to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(4);

/// How connections are served.
#[derive(Clone)]
pub struct ServeOptions {
    /// TLS, when the server is reached over HTTPS.
    pub tls: Option<TlsAcceptor>,
    /// How long a client has to send a request's headers (and to finish the TLS handshake).
    pub header_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
}

/// The client's address: the TCP peer, or what a trusted proxy says it forwarded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The scheme the client used, as a trusted proxy reports it (`https` when it terminates TLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedProto(pub String);

/// The client behind `peer`: when `peer` is a trusted proxy, the rightmost `X-Forwarded-For`
/// address that is not itself a trusted proxy (earlier entries can be forged by the client);
/// otherwise `peer`, whatever the headers say.
pub fn forwarded_client(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

/// A plain or TLS stream.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Serves `router` on `listener` until `shutdown` says stop.
pub async fn serve(listener: TcpListener, router: Router, options: ServeOptions, mut shutdown: watch::Receiver<bool>) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(options.header_timeout).max_buf_size(MAX_HEADER_BYTES);
    let http = Arc::new(http);
    let mut connections = JoinSet::new();
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut shutdown) => break,
        };
        connections.spawn(connection(stream, remote, router.clone(), http.clone(), options.clone(), shutdown.clone()));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN + Duration::from_secs(1), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(left = connections.len(), "connections still open at shutdown; dropping them");
    }
}

async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    http: Arc<http1::Builder>,
    options: ServeOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    // Frames are small and latency matters more than packet count.
    let _ = stream.set_nodelay(true);
    let io: Box<dyn Io> = match &options.tls {
        None => Box::new(stream),
        Some(acceptor) => match tokio::time::timeout(options.header_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => Box::new(tls),
            Ok(Err(e)) => {
                tracing::debug!(%remote, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%remote, "TLS handshake timed out");
                return;
            }
        },
    };
    let trusted = options.trusted_proxies.clone();
    let service = tower::ServiceBuilder::new()
        .map_request(move |mut request: axum::http::Request<Incoming>| {
            let client = forwarded_client(remote.ip(), request.headers(), &trusted);
            let proto = (client != remote.ip() || trusted.iter().any(|n| n.contains(&remote.ip())))
                .then(|| {
                    request
                        .headers()
                        .get("x-forwarded-proto")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_ascii_lowercase)
                })
                .flatten()
                .filter(|p| p == "http" || p == "https");
            let extensions = request.extensions_mut();
            extensions.insert(ConnectInfo(remote));
            extensions.insert(ClientIp(client));
            if let Some(proto) = proto {
                extensions.insert(ForwardedProto(proto));
            }
            request
        })
        .service(router);
    let conn = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)).with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        }
        () = stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(value).expect("ascii"));
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().expect("net")];
        let client: IpAddr = "203.0.113.7".parse().expect("ip");
        assert_eq!(forwarded_client(proxy, &xff("203.0.113.7"), &trusted), client);
        // A client-supplied entry on the left is not believed: the proxy appended the real one.
        assert_eq!(forwarded_client(proxy, &xff("1.2.3.4, 203.0.113.7"), &trusted), client);
        // Chained trusted proxies are skipped.
        assert_eq!(forwarded_client(proxy, &xff("203.0.113.7, 10.0.0.9"), &trusted), client);
        // From an untrusted peer the header means nothing.
        assert_eq!(forwarded_client(client, &xff("1.2.3.4"), &trusted), client);
        assert_eq!(forwarded_client(proxy, &xff("garbage"), &trusted), proxy);
        assert_eq!(forwarded_client(proxy, &HeaderMap::new(), &[]), proxy);
    }
}
