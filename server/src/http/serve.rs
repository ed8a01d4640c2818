//! Serving connections: accept TCP (up to a cap in total and per address group, before anything is
//! read: 503 beyond it), complete TLS when configured, then HTTP/1.1 with a header-read timeout, a
//! header size cap and a write timeout (a slow or oversized client costs a bounded amount and gets
//! a 4xx or a closed connection, never a 500), with upgrades for the WebSocket. On shutdown it
//! stops accepting, lets requests in flight finish and returns within a few seconds.
//!
//! `axum::serve` has no header-read timeout in axum 0.8, hence this loop over hyper directly.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_io_timeout::TimeoutStream;
use tokio_rustls::TlsAcceptor;

use super::client_ip::{self, AddressPolicy};
use super::io::{Connection, Io};
use super::slots::Slots;
use crate::shutdown::Shutdown;

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
    /// Which proxies are believed, and how client addresses are grouped.
    pub addresses: Arc<AddressPolicy>,
    /// A response write that makes no progress for this long ends the connection.
    pub write_timeout: Duration,
    /// Connections open at once before they are upgraded, in total.
    pub max_connections: usize,
    /// Connections open at once before they are upgraded, per address group (not for trusted
    /// proxies, which carry many clients).
    pub max_connections_per_ip: usize,
}

/// What a connection over the caps is told before it is closed (plain HTTP only).
const FULL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 32\r\n\
Connection: close\r\n\r\n503: too many open connections\r\n";

/// Serves `router` on `listener` until `shutdown` says stop.
pub async fn serve(listener: TcpListener, router: Router, options: ServeOptions, mut shutdown: Shutdown) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(options.header_timeout).max_buf_size(MAX_HEADER_BYTES);
    let http = Arc::new(http);
    let slots = Arc::new(Slots::default());
    let mut connections = JoinSet::new();
    let mut failed_accepts: (u64, Option<std::time::Instant>) = (0, None);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning, and say so
                    // once a minute, not twenty times a second.
                    failed_accepts.0 += 1;
                    if failed_accepts.1.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                        tracing::warn!(error = %e, failures = failed_accepts.0, "accept failed");
                        failed_accepts = (0, Some(std::time::Instant::now()));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.stopped() => break,
        };
        let peer = remote.ip().to_canonical();
        let per_ip = if options.addresses.trusts(peer) { usize::MAX } else { options.max_connections_per_ip };
        let Some(slot) = slots.acquire(options.addresses.group(peer), options.max_connections, per_ip) else {
            tracing::debug!(%remote, "connection refused: too many open");
            if options.tls.is_none() {
                // Best effort, without waiting: the connection is closed either way.
                let _ = stream.try_write(FULL);
            }
            continue;
        };
        let serving = connection(stream, remote, router.clone(), http.clone(), options.clone(), shutdown.clone());
        connections.spawn(async move {
            serving.await;
            drop(slot);
        });
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
    mut shutdown: Shutdown,
) {
    // Frames are small and latency matters more than packet count.
    let _ = stream.set_nodelay(true);
    let mut timed = TimeoutStream::new(stream);
    timed.set_write_timeout(Some(options.write_timeout));
    let stream = Box::pin(timed);
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
    let addresses = options.addresses.clone();
    let service = tower::ServiceBuilder::new()
        .map_request(move |mut request: axum::http::Request<Incoming>| {
            client_ip::tag(&mut request, remote, &addresses);
            request
        })
        .service(router);
    let conn = http.serve_connection(Connection::new(io), TowerToHyperService::new(service)).with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        }
        () = shutdown.stopped() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn).await;
        }
    }
}
