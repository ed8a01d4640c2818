//! A real upstream HTTP server on `127.0.0.1:0` whose behaviour a test switches (good JSON, errors,
//! slow, trickling, huge, redirecting, padded), a Prometheus exposition beside it, upstreams
//! answering values the test sets (one of them stoppable), and a WebSocket client to watch what a
//! user would see.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use livedash::{Frame, SourceState};
use livedash_server::sources::{Kind, SourceSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::{PASSWORD, basic};

pub const BODY: &str =
    r#"{"seq":1,"gen_ts_ns":1795480294498238375,"host":"node-1","cpu":43.510,"load":[1.58,1.11,1.00]}"#;

/// What the upstream answers.
#[derive(Clone, Copy)]
#[repr(u8)]
pub enum Mode {
    Good,
    Error500,
    NotJson,
    Huge,
    Slow,
    Trickle,
    Padded,
    Slowish,
    Redirect,
}

async fn upstream_handler(State(mode): State<Arc<AtomicU8>>) -> Response {
    match mode.load(Ordering::Relaxed) {
        m if m == Mode::Error500 as u8 => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        m if m == Mode::NotJson as u8 => "<html>not json</html>".into_response(),
        m if m == Mode::Huge as u8 => {
            // 100 MB, streamed, without a length: the cap must stop reading, not the memory.
            let chunk = bytes_chunk();
            let stream = futures_util::stream::iter((0..100).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
            Body::from_stream(stream).into_response()
        }
        m if m == Mode::Slow as u8 => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            BODY.into_response()
        }
        m if m == Mode::Trickle as u8 => {
            let stream = futures_util::stream::unfold(0u32, |i| async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                (i < 100).then(|| (Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b" ")), i + 1))
            });
            Body::from_stream(stream).into_response()
        }
        m if m == Mode::Slowish as u8 => {
            // Most of the interval, never more: the cadence must not drift.
            tokio::time::sleep(Duration::from_millis(150)).await;
            BODY.into_response()
        }
        // Never followed: the address is not contacted.
        m if m == Mode::Redirect as u8 => {
            (axum::http::StatusCode::FOUND, [("location", "http://10.255.0.1:9/login?token=s3cret")]).into_response()
        }
        m if m == Mode::Padded as u8 => format!(r#"{{"cpu":1,"pad":"{}"}}"#, "x".repeat(400 * 1024)).into_response(),
        _ => ([("content-type", "application/json")], format!("{BODY}\n")).into_response(),
    }
}

fn bytes_chunk() -> axum::body::Bytes {
    axum::body::Bytes::from(vec![b'x'; 1 << 20])
}

/// A real upstream on 127.0.0.1:0 whose behaviour the test switches.
pub async fn upstream() -> (std::net::SocketAddr, Arc<AtomicU8>) {
    let mode = Arc::new(AtomicU8::new(Mode::Good as u8));
    let scrapes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let exposition = move || {
        let n = scrapes.fetch_add(1, Ordering::Relaxed);
        async move {
            format!(
                "# TYPE requests_total counter\nrequests_total{{code=\"200\"}} {}\nrequests_total{{code=\"500\"}} 3\n\
                 # TYPE temperature gauge\ntemperature 21.5\n# TYPE other gauge\nother 1\n",
                n * 10
            )
        }
    };
    let app =
        Router::new().route("/", get(upstream_handler)).route("/metrics", get(exposition)).with_state(mode.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, mode)
}

pub fn http_source(name: &str, addr: std::net::SocketAddr, interval: Duration) -> SourceSpec {
    SourceSpec {
        name: Arc::from(name),
        kind: Kind::Http(format!("http://{addr}/").parse().unwrap()),
        interval,
        timeout: interval * 9 / 10,
        max_body: 1 << 20,
        series: Arc::from([]),
    }
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn socket(addr: std::net::SocketAddr, query: &str) -> Socket {
    let mut req = format!("ws://{addr}/ws{query}").into_client_request().unwrap();
    req.headers_mut().insert("Authorization", HeaderValue::from_str(&basic("admin", PASSWORD)).unwrap());
    tokio_tungstenite::connect_async(req).await.expect("upgrade").0
}

pub async fn next_text(socket: &mut Socket) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a frame within 5 s") {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(Message::Ping(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Waits for a `status` frame of `source` in `state`; returns its error text.
pub async fn wait_status(socket: &mut Socket, source: &str, state: SourceState) -> Option<String> {
    for _ in 0..200 {
        if let Ok(Frame::Status(s)) = Frame::from_json(&next_text(socket).await)
            && &*s.source == source
            && s.state == state
        {
            return s.error;
        }
    }
    panic!("no {state:?} status for {source}");
}

/// An upstream on 127.0.0.1:0 answering `{"NAME": V, ..}` for each of `names`, every value starting
/// at `start`; the test sets them (an `f64`'s bits).
pub async fn values<const N: usize>(names: [&'static str; N], start: f64) -> (SocketAddr, [Arc<AtomicU64>; N]) {
    let values: [Arc<AtomicU64>; N] = std::array::from_fn(|_| Arc::new(AtomicU64::new(start.to_bits())));
    let read = values.clone();
    let handler = move || {
        let fields: Vec<String> = names
            .iter()
            .zip(&read)
            .map(|(n, v)| format!(r#""{n}":{}"#, f64::from_bits(v.load(Ordering::Relaxed))))
            .collect();
        async move { ([("content-type", "application/json")], format!("{{{}}}", fields.join(","))) }
    };
    let app = Router::new().route("/", get(handler));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, values)
}

/// An upstream answering `{"NAME": V, ..}` with one value the test sets, each answer on a
/// connection of its own (closed after it), so that stopping it really refuses the next fetch.
pub struct Stoppable {
    pub addr: SocketAddr,
    names: Arc<Vec<String>>,
    value: Arc<AtomicU64>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Stoppable {
    /// One series, `v`.
    pub async fn start(value: f64) -> Self {
        Self::start_named(vec!["v".to_owned()], value).await
    }

    /// `n` series, `v0` .. `v<n-1>`.
    pub async fn series(n: usize, value: f64) -> Self {
        Self::start_named((0..n).map(|i| format!("v{i}")).collect(), value).await
    }

    async fn start_named(names: Vec<String>, value: f64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let value = Arc::new(AtomicU64::new(value.to_bits()));
        let mut up = Self { addr, names: Arc::new(names), value, task: None };
        up.serve(listener);
        up
    }

    fn serve(&mut self, listener: TcpListener) {
        let (value, names) = (self.value.clone(), self.names.clone());
        self.task = Some(tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let v = f64::from_bits(value.load(Ordering::Relaxed));
                let fields: Vec<String> = names.iter().map(|n| format!(r#""{n}":{v}"#)).collect();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf).await;
                    let body = format!("{{{}}}", fields.join(","));
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(format!("{head}{body}").as_bytes()).await;
                });
            }
        }));
    }

    /// Answers `v` from now on.
    pub fn set(&self, v: f64) {
        self.value.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Stops listening (the port refuses connections).
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        for _ in 0..50 {
            if let Ok(listener) = TcpListener::bind(self.addr).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the upstream's port could not be bound again");
    }
}
