//! Bytes a page receives, per subscription: opens one socket per query on a livedash at the same
//! time, and counts what each receives over the same window (the benchmark's page-bytes figure,
//! scripts/bench-fleet.sh):
//!
//! ```text
//! LIVEDASH_PASSWORD=pw cargo run --release -p livedash-server --example ws_bytes -- \
//!     ws://127.0.0.1:3000/ws SECONDS 'sub=overview' 'sub=all' ''
//! ```
//!
//! (Basic credentials, user `admin` or `LIVEDASH_USER`.) Prints one JSON object per query:
//! `{"query":"sub=overview","hello_bytes":N,"fleet_in_hello":true,"bytes":N,"frames":N,
//! "secs":S,"bytes_per_s":X,"frames_per_s":Y,"types":{"fleet":N,..}}`, where `bytes` counts the
//! text frames' payloads after the hello over the window (what the page's script reads; the
//! WebSocket framing adds 2 to 4 bytes per frame), and `types` counts frames by `type`.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// What one socket received.
#[derive(Default)]
struct Count {
    hello_bytes: usize,
    fleet_in_hello: bool,
    bytes: usize,
    frames: usize,
    types: BTreeMap<String, usize>,
}

async fn watch(url: String, authorization: String, window: Duration) -> Count {
    let mut request = url.as_str().into_client_request().expect("a ws:// URL");
    request.headers_mut().insert("authorization", authorization.parse().expect("a header value"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let mut count = Count::default();
    // The hello first, outside the window.
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                count.hello_bytes = text.len();
                let hello: serde_json::Value = serde_json::from_str(text.as_str()).expect("a JSON hello");
                count.fleet_in_hello = hello.get("fleet").is_some_and(|f| !f.is_null());
                break;
            }
            Some(Ok(_)) => {}
            other => panic!("{url}: no hello: {other:?}"),
        }
    }
    let end = tokio::time::Instant::now() + window;
    while let Ok(Some(message)) = tokio::time::timeout_at(end, socket.next()).await {
        match message {
            Ok(Message::Text(text)) => {
                count.bytes += text.len();
                count.frames += 1;
                let kind = text.as_str().strip_prefix(r#"{"type":""#).and_then(|r| r.split('"').next()).unwrap_or("?");
                *count.types.entry(kind.to_owned()).or_default() += 1;
            }
            Ok(_) => {}
            Err(e) => panic!("{url}: {e}"),
        }
    }
    count
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(base), Some(secs)) = (args.first(), args.get(1).and_then(|s| s.parse::<f64>().ok())) else {
        eprintln!("usage: ws_bytes ws://HOST:PORT/ws SECONDS QUERY... (LIVEDASH_PASSWORD, LIVEDASH_USER)");
        std::process::exit(2);
    };
    let user = std::env::var("LIVEDASH_USER").unwrap_or_else(|_| "admin".to_owned());
    let password = std::env::var("LIVEDASH_PASSWORD").expect("LIVEDASH_PASSWORD");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let window = Duration::from_secs_f64(secs);
    let started = Instant::now();
    let queries: Vec<String> = args[2..].to_vec();
    let sockets = queries.iter().map(|q| {
        let url = if q.is_empty() { base.clone() } else { format!("{base}?{q}") };
        tokio::spawn(watch(url, format!("Basic {basic}"), window))
    });
    let sockets: Vec<_> = sockets.collect();
    for (query, socket) in queries.iter().zip(sockets) {
        let c = socket.await.expect("the socket's task");
        let line = serde_json::json!({
            "query": query, "hello_bytes": c.hello_bytes, "fleet_in_hello": c.fleet_in_hello,
            "bytes": c.bytes, "frames": c.frames, "secs": secs,
            "bytes_per_s": c.bytes as f64 / secs, "frames_per_s": c.frames as f64 / secs, "types": c.types,
        });
        println!("{line}");
    }
    eprintln!("ws_bytes: {} sockets over {secs} s ({:.1} s in all)", queries.len(), started.elapsed().as_secs_f64());
}
