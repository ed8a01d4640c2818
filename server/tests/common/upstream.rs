//! A real upstream HTTP server on `127.0.0.1:0` whose behaviour a test switches (good JSON, errors,
//! slow, trickling, huge, redirecting, padded), a Prometheus exposition beside it, and a WebSocket
//! client to watch what a user would see.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use livedash::{Frame, SourceState};
use livedash_server::sources::{Kind, SourceSpec};
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
