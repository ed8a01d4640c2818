//! Watches a livedash WebSocket the way a browser would and prints one line per frame, for
//! measuring cadence and resume by hand:
//!
//! ```text
//! LIVEDASH_PASSWORD=pw cargo run --release -p livedash-server --example watch -- \
//!     ws://127.0.0.1:3000/ws SECONDS [SINCE]
//! ```
//!
//! Each line is `recv_ms type seq source ts_ms state` (`-` where a field does not apply); a
//! `hello` prints its history's first and last seq. With SINCE, the socket resumes after it.
//! When the server closes or goes away, the line says so, and it reconnects (with `since=` the
//! last seq it saw, and `epoch=` the epoch it was read in when the server is in a cluster) until
//! SECONDS have passed; a `cluster` frame prints whether the sources are shared and the epoch.

#![allow(clippy::print_stdout, clippy::expect_used)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use futures_util::StreamExt;
use livedash::Frame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: watch WS_URL SECONDS [SINCE]");
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).expect("SECONDS");
    let mut since: Option<u64> = args.next().and_then(|s| s.parse().ok());
    // The epoch `since` was read in, and the current one.
    let (mut since_epoch, mut epoch): (Option<String>, Option<String>) = (None, None);
    let password = std::env::var("LIVEDASH_PASSWORD").expect("LIVEDASH_PASSWORD");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        let target = match (since, &since_epoch) {
            (Some(seq), Some(e)) => format!("{url}?since={seq}&epoch={e}"),
            (Some(seq), None) => format!("{url}?since={seq}"),
            (None, _) => url.clone(),
        };
        let mut request = target.into_client_request().expect("a ws:// URL");
        request.headers_mut().insert("authorization", format!("Basic {auth}").parse().expect("header"));
        let mut socket = match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => socket,
            Err(e) => {
                println!("{} refused - - - {e}", now_ms());
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        println!("{} open - - - since={since:?}", now_ms());
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(next) = tokio::time::timeout(left, socket.next()).await else { return };
            let text = match next {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(frame))) => {
                    println!("{} close - - - {:?}", now_ms(), frame.map(|f| u16::from(f.code)));
                    break;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    println!("{} error - - - {e}", now_ms());
                    break;
                }
                None => {
                    println!("{} end - - - -", now_ms());
                    break;
                }
            };
            match Frame::from_json(&text) {
                Ok(Frame::Sample(s)) => {
                    since = Some(s.seq);
                    since_epoch.clone_from(&epoch);
                    println!("{} sample {} {} {} -", now_ms(), s.seq, s.source, s.ts_ms);
                }
                Ok(Frame::Status(s)) => println!("{} status - {} - {:?}", now_ms(), s.source, s.state),
                Ok(Frame::Store(s)) => println!("{} store - - - saving={}", now_ms(), s.saving),
                Ok(Frame::Alerts(a)) => println!("{} alerts - - - firing={} pending={}", now_ms(), a.firing, a.pending),
                Ok(Frame::Cluster(c)) => {
                    println!("{} cluster - - - shared={} epoch={}", now_ms(), c.shared, c.epoch);
                    epoch = Some(c.epoch);
                }
                Ok(Frame::Hello(h)) => {
                    let (first, last) = (h.history.first().map(|s| s.seq), h.history.last().map(|s| s.seq));
                    since = last.or(since);
                    epoch = h.cluster.map(|c| c.epoch);
                    since_epoch.clone_from(&epoch);
                    println!("{} hello {first:?}..{last:?} - - -", now_ms());
                }
                Ok(Frame::Fleet(f)) => println!("{} fleet {} - - rows={}", now_ms(), f.seq, f.rows.len()),
                Ok(Frame::Points(p)) => println!("{} points {} - - {}={}", now_ms(), p.seq, p.figure, p.points.len()),
                Err(e) => println!("{} unreadable - - - {e}", now_ms()),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
