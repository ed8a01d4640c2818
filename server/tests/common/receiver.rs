//! The one webhook receiver of the tests: a real HTTP server on `127.0.0.1` that records every
//! request (when, path, headers, body, the status it answered) and answers, in this order: the
//! next reply of the script the test set, the standing reply of the first path prefix that matches,
//! the standing reply (200 `ok` unless told otherwise). Also an HTTPS receiver for the TLS tests.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use tokio::net::TcpListener;

/// One answer: a status, a body, maybe a `Retry-After`.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
}

impl Reply {
    /// `status` with the body `ok` (2xx) or `refused with STATUS`.
    pub fn status(status: u16) -> Self {
        let body = if status < 300 { "ok".to_owned() } else { format!("refused with {status}") };
        Self { status, body, retry_after: None }
    }

    /// `status` with `body` and, when given, `Retry-After: after`.
    pub fn new(status: u16, body: &str, after: Option<&str>) -> Self {
        Self { status, body: body.to_owned(), retry_after: after.map(str::to_owned) }
    }
}

/// One request received.
#[derive(Debug, Clone)]
pub struct Got {
    pub at: Instant,
    /// The path and query.
    pub path: String,
    pub headers: HeaderMap,
    /// The body as sent.
    pub raw: Bytes,
    /// The body as JSON (`Null` when it is not).
    pub body: serde_json::Value,
    pub answered: u16,
}

impl Got {
    /// The body as JSON; panics when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.raw).expect("a JSON body")
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The notices in it: the `alerts` of a message about several, else the body itself.
    pub fn notices(&self) -> Vec<serde_json::Value> {
        match self.body.get("alerts").and_then(|a| a.as_array()) {
            Some(all) => all.clone(),
            None => vec![self.body.clone()],
        }
    }

    /// Whether the receiver accepted it (2xx).
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.answered)
    }
}

#[derive(Default)]
struct Shared {
    got: Mutex<Vec<Got>>,
    script: Mutex<VecDeque<Reply>>,
    by_path: Mutex<Vec<(String, Reply)>>,
    standing: Mutex<Option<Reply>>,
}

/// The receiver; it stops listening when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn receive(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, raw: Bytes) -> Response {
    let path = uri.to_string();
    let scripted = shared.script.lock().pop_front();
    let reply = scripted
        .or_else(|| shared.by_path.lock().iter().find(|(p, _)| path.starts_with(p.as_str())).map(|(_, r)| r.clone()))
        .or_else(|| shared.standing.lock().clone())
        .unwrap_or(Reply::status(200));
    let body = serde_json::from_slice(&raw).unwrap_or(serde_json::Value::Null);
    shared.got.lock().push(Got { at: Instant::now(), path, headers, raw, body, answered: reply.status });
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    if let Some(after) = reply.retry_after {
        response.headers_mut().insert("retry-after", after.parse().unwrap());
    }
    if (300..400).contains(&reply.status) {
        response.headers_mut().insert("location", "http://127.0.0.1:9/elsewhere".parse().unwrap());
    }
    response
}

impl Receiver {
    /// A receiver on a port of its own.
    pub async fn start() -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// A receiver on `addr` (tried for 5 s while the port is still held).
    pub async fn start_on(addr: SocketAddr) -> Self {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) if Instant::now() > deadline => panic!("bind {addr}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        let shared = Arc::<Shared>::default();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared, task: Some(task) }
    }

    /// The URL to configure: `/hook`.
    pub fn url(&self) -> String {
        self.url_at("/hook")
    }

    /// The URL of `path` on it.
    pub fn url_at(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next answers, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().extend(replies);
    }

    /// Answers `reply` from now on (once the script is used up).
    pub fn answer(&self, reply: Reply) {
        *self.shared.standing.lock() = Some(reply);
    }

    /// Answers `reply` to the paths starting with `prefix` (once the script is used up).
    pub fn answer_at(&self, prefix: &str, reply: Reply) {
        self.shared.by_path.lock().push((prefix.to_owned(), reply));
    }

    /// What it received so far.
    pub fn got(&self) -> Vec<Got> {
        self.shared.got.lock().clone()
    }

    /// What it received so far, forgotten here.
    pub fn take(&self) -> Vec<Got> {
        std::mem::take(&mut *self.shared.got.lock())
    }

    /// Waits (`within` at most) until it received `n` requests; returns them all.
    pub async fn wait(&self, n: usize, within: Duration) -> Vec<Got> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.got();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (`within` at most) until `ok` holds of what it received; whether it did.
    pub async fn until(&self, within: Duration, ok: impl Fn(&[Got]) -> bool) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if ok(&self.shared.got.lock()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        ok(&self.shared.got.lock())
    }

    /// Stops listening (the port refuses connections).
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An HTTPS receiver presenting `cert`/`key` (PEM files): answers every request `200 ok` and
/// counts the requests that got through the handshake.
pub async fn https(cert: &std::path::Path, key: &std::path::Path) -> (SocketAddr, Arc<Mutex<usize>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tls = livedash_server::tls::from_pem_files(cert, key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(Mutex::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counted) = (acceptor.clone(), counted.clone());
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(tcp).await else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                *counted.lock() += 1;
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                let _ = stream.write_all(answer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, count)
}
