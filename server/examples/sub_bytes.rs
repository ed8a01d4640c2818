//! How many bytes a socket receives for what it subscribed to, with a fleet of HOSTS hosts
//! fetched every INTERVAL_MS: a livedash server in this process, its hosts `[[source]]`s of one
//! JSON upstream (also here) answering changing figures for each host, put in the fleet's
//! directory with three tags each, as the targets file's hosts are. One socket per `sub` list
//! (`-` for no `sub`: everything) reads for SECONDS after a warm-up; prints the `hello`'s size
//! and the bytes per second that followed (text payloads, without the 2-4 byte frame headers);
//! with `SHOW` set, the first frame each socket counted.
//!
//! ```text
//! cargo run -p livedash-server --example sub_bytes -- 200 1000 30 - overview figure:cpu_pct host:h-007
//! LIVEDASH_PASSWORD=pw cargo run -p livedash-server --example sub_bytes -- ws://127.0.0.1:3000 30 - overview
//! ```
//!
//! The second form measures a server already running (a fleet of a targets file, say).

#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use base64::Engine;
use clap::Parser;
use futures_util::StreamExt;
use livedash_server::config::{Cli, Config};
use livedash_server::fleet::{HostEntry, HostKind};
use livedash_server::sources::{Kind, SourceSpec};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PASSWORD: &str = "measure the bytes";

/// Figures that move on every answer, as a real host's do.
async fn figures(Path(host): Path<u64>, State(calls): State<Arc<AtomicU64>>) -> String {
    let n = calls.fetch_add(1, Ordering::Relaxed);
    let wave = |k: u64| ((host * 7919 + n * 104_729 + k * 31) % 1000) as f64 / 10.0;
    format!(
        r#"{{"cpu_pct":{},"mem_pct":{},"disk_pct":{},"load1":{},"net_in_bps":{},"net_out_bps":{},"uptime_s":{},"up":1,"scrape_duration_s":0.0042}}"#,
        wave(1),
        40.0 + wave(2) / 10.0,
        61.3,
        wave(3) / 25.0,
        wave(4) * 12_345.0,
        wave(5) * 987.0,
        86_400 + n,
    )
}

async fn upstream() -> SocketAddr {
    let app = Router::new().route("/h/{host}", get(figures)).with_state(Arc::new(AtomicU64::new(0)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Reads `sub`'s socket: the hello's size, then the bytes after `warm` for `window`.
async fn measure(addr: SocketAddr, sub: String, warm: Duration, window: Duration) -> (String, usize, usize) {
    let query = if sub == "-" { String::new() } else { format!("?sub={sub}") };
    let mut req = format!("ws://{addr}/ws{query}").into_client_request().unwrap();
    let password = std::env::var("LIVEDASH_PASSWORD").unwrap_or_else(|_| PASSWORD.to_owned());
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"));
    req.headers_mut().insert("Authorization", format!("Basic {basic}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("upgrade");
    let mut hello = 0;
    let start = Instant::now();
    let mut counted = 0;
    while start.elapsed() < warm + window {
        let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(1), ws.next()).await else { continue };
        if let Message::Text(text) = msg {
            if hello == 0 {
                hello = text.len();
                if std::env::var_os("SHOW").is_some() {
                    println!("{sub} hello: {}", &text[..text.len().min(400)]);
                }
            } else if start.elapsed() >= warm {
                if counted == 0 && std::env::var_os("SHOW").is_some() {
                    println!("{sub}: {}", &text[..text.len().min(600)]);
                }
                counted += text.len();
            }
        }
    }
    (sub, hello, counted)
}

/// Against a server already running (`ws://HOST:PORT SECONDS SUB..`, its admin password in
/// `LIVEDASH_PASSWORD`): a fleet of a targets file, say.
async fn external(args: &[String]) {
    let addr: SocketAddr = args[0].trim_start_matches("ws://").trim_end_matches('/').parse().expect("ws://HOST:PORT");
    let window = Duration::from_secs(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(30));
    let runs = args[2..].iter().map(|sub| tokio::spawn(measure(addr, sub.clone(), Duration::from_secs(3), window)));
    report(&format!("{addr}, {} s window", window.as_secs()), window, futures_util::future::join_all(runs).await);
}

fn report(title: &str, window: Duration, results: Vec<Result<(String, usize, usize), tokio::task::JoinError>>) {
    println!("{title}");
    println!("{:<28} {:>12} {:>14}", "sub", "hello bytes", "bytes/s after");
    for (sub, hello, counted) in results.into_iter().map(Result::unwrap) {
        println!("{sub:<28} {hello:>12} {:>14.0}", counted as f64 / window.as_secs_f64());
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a.starts_with("ws://")) {
        return external(&args).await;
    }
    let hosts: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let interval = Duration::from_millis(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000));
    let window = Duration::from_secs(args.get(2).and_then(|a| a.parse().ok()).unwrap_or(30));
    let subs: Vec<String> =
        if args.len() > 3 { args[3..].to_vec() } else { vec!["-".into(), "overview".into(), "host:h-007".into()] };

    let up = upstream().await;
    let serve = Cli::try_parse_from(["livedash"]).expect("the defaults parse").serve;
    let mut config = Config::from_args(&serve, Some(PASSWORD.into())).expect("valid");
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.data_dir = std::env::temp_dir().join(format!("livedash-sub-bytes-{}", std::process::id()));
    config.store = None;
    config.sources.retain(|s| matches!(s.kind, Kind::Local));
    for i in 0..hosts {
        config.sources.push(SourceSpec {
            name: Arc::from(format!("h-{i:03}")),
            kind: Kind::Http(format!("http://{up}/h/{i}").parse().unwrap()),
            interval,
            timeout: interval * 8 / 10,
            max_body: 1 << 16,
            series: Arc::from([]),
        });
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let server = livedash_server::start(&config, listener).expect("start");
    let (envs, roles) = (["prod", "staging", "dev"], ["web", "db", "cache", "queue"]);
    for i in 0..hosts {
        let name = format!("h-{i:03}");
        let tags = BTreeMap::from([
            ("env".to_owned(), envs[(i % 3) as usize].to_owned()),
            ("role".to_owned(), roles[(i % 4) as usize].to_owned()),
            ("dc".to_owned(), format!("eu-{}", i % 2)),
        ]);
        let entry = HostEntry { name: name.clone(), tags, interval, kind: HostKind::Figures };
        server.directory.insert(Arc::from(name), entry);
    }
    let warm = Duration::from_secs(5);
    let runs = subs.into_iter().map(|sub| tokio::spawn(measure(server.addr, sub, warm, window)));
    let results = futures_util::future::join_all(runs).await;
    let title = format!("{hosts} hosts every {} ms, {} s window", interval.as_millis(), window.as_secs());
    report(&title, window, results);
    server.stop().await;
}
