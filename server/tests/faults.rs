//! Fault injection: a real server fed by real upstreams, while the faults a monitoring dashboard
//! meets are injected one after another (upstreams that fail in every way, clients that never
//! read, that open a hundred sockets, that send oversize frames, that stall mid-handshake, a users
//! file removed, emptied or corrupted under a reload, a shutdown with clients mid-hello). A client
//! that keeps up watches it all: it must see each failure with its reason and the recovery, lose
//! no sample, and be told 1001 at the end; the history must stay within its byte budget.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use livedash::{Frame, SourceState};
use livedash_server::auth::password::hash_password;
use livedash_server::config::UsersSource;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use common::upstream::{Mode, Socket, http_source, socket, upstream};
use common::{PASSWORD, basic};

/// What the client that keeps up saw.
#[derive(Default, Debug)]
struct Seen {
    seqs: Vec<u64>,
    statuses: Vec<(String, SourceState, Option<String>)>,
    close: Option<CloseCode>,
}

/// Reads everything until the server closes the socket.
async fn keep_up(mut ws: Socket) -> Seen {
    let mut seen = Seen::default();
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
        match message {
            Ok(Message::Text(text)) => match Frame::from_json(&text) {
                Ok(Frame::Hello(hello)) => seen.seqs.extend(hello.history.iter().map(|s| s.seq)),
                Ok(Frame::Sample(sample)) => seen.seqs.push(sample.seq),
                Ok(Frame::Status(s)) => seen.statuses.push((s.source.to_string(), s.state, s.error)),
                Ok(Frame::Store(_) | Frame::Cluster(_) | Frame::Alerts(_) | Frame::Fleet(_) | Frame::Points(_)) => {}
                Err(e) => panic!("a bad frame: {e}"),
            },
            Ok(Message::Close(frame)) => {
                seen.close = frame.map(|f| f.code);
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("the keeping-up client lost its socket: {e}"),
        }
    }
    seen
}

/// A socket from `from` that never reads.
async fn stalled_from(from: IpAddr, addr: SocketAddr) -> Socket {
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.bind(SocketAddr::new(from, 0)).unwrap();
    let stream = tcp.connect(addr).await.unwrap();
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut().insert("Authorization", HeaderValue::from_str(&basic("admin", PASSWORD)).unwrap());
    tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(stream)).await.expect("upgrade").0
}

async fn history_bytes(addr: SocketAddr) -> f64 {
    let text = common::get(addr, "/metrics", &[("Authorization", &basic("admin", PASSWORD))]).await.body;
    text.lines().find_map(|l| l.strip_prefix("livedash_history_bytes ")?.parse().ok()).expect("the gauge")
}

#[tokio::test]
async fn under_injected_faults_a_client_that_keeps_up_loses_nothing() {
    let (up, mode) = upstream().await;
    let (steady, _) = upstream().await;
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dir = common::temp_dir("faults");
    let users = dir.join("users");
    std::fs::write(&users, format!("admin:{}\n", hash_password(PASSWORD))).unwrap();
    let budget: u32 = 1 << 20;
    let mut config = common::test_config(PASSWORD);
    config.users = UsersSource::File(users.clone());
    config.history_bytes = budget as usize;
    config.header_timeout = Duration::from_secs(1);
    config.sources = vec![
        http_source("up", up, Duration::from_millis(100)),
        // Healthy throughout: its 270 ms timeout leaves room for a machine busy with the faults
        // (at 150 ms one fetch in a test run took longer than its 135 ms and read as a failure).
        http_source("steady", steady, Duration::from_millis(300)),
        http_source("gone", gone, Duration::from_millis(500)),
    ];
    let server = common::start_with(config).await;
    let addr = server.addr;
    let keeper = tokio::spawn(keep_up(socket(addr, "").await));

    // A hundred sockets from four addresses that never read, and one more plain stalled client.
    let mut stalled = Vec::new();
    for i in 0..100u8 {
        stalled.push(stalled_from(IpAddr::from([127, 0, 0, 10 + i % 4]), addr).await);
    }
    // A client that stalls mid-handshake is cut off by the header timeout.
    let mut half = tokio::net::TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // A client that sends an oversize frame is closed with 1009.
    let mut oversize = socket(addr, "").await;
    oversize.send(Message::Text("x".repeat(64 * 1024).into())).await.unwrap();

    // Every way an upstream fails, 0.8 s each, then good again.
    for m in [Mode::Error500, Mode::NotJson, Mode::Huge, Mode::Slow, Mode::Trickle, Mode::Redirect, Mode::Padded] {
        mode.store(m as u8, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(history_bytes(addr).await <= f64::from(budget), "the history within its budget");
    }
    mode.store(Mode::Good as u8, Ordering::Relaxed);

    // The users file removed, emptied, corrupted: each reload is refused, the accounts stay.
    std::fs::remove_file(&users).unwrap();
    assert!(livedash_server::reload_users(&server.auth, &users).is_err());
    std::fs::write(&users, "# nobody\n").unwrap();
    assert!(livedash_server::reload_users(&server.auth, &users).is_err());
    std::fs::write(&users, "admin:plaintext\n").unwrap();
    assert!(livedash_server::reload_users(&server.auth, &users).is_err());
    tokio::time::sleep(Duration::from_millis(700)).await;

    let mut rest = Vec::new();
    let cut_off = tokio::time::timeout(Duration::from_secs(5), half.read_to_end(&mut rest)).await;
    assert!(cut_off.is_ok(), "the half handshake was cut off");
    assert_eq!(common::close_code(&mut oversize).await, Some(CloseCode::Size));

    // Stop with the stalled clients mid-hello: promptly, and the keeper is told why.
    let stopping = Instant::now();
    server.stop().await;
    assert!(stopping.elapsed() < Duration::from_secs(8), "stopped in {:?}", stopping.elapsed());
    let seen = keeper.await.unwrap();
    drop(stalled);

    assert_eq!(seen.close, Some(CloseCode::Away), "{seen:?}");
    // No sample lost: every seq from the first the keeper saw to the last, once, in order.
    let first = seen.seqs[0];
    let expected: Vec<u64> = (first..first + seen.seqs.len() as u64).collect();
    assert_eq!(seen.seqs, expected, "a gap or a duplicate");
    assert!(seen.seqs.len() >= 30, "samples kept flowing: {}", seen.seqs.len());
    // Each failure was told with its reason, and the recovery too.
    let reasons: Vec<String> = seen
        .statuses
        .iter()
        .filter(|(s, state, _)| s == "up" && *state == SourceState::Failing)
        .filter_map(|(_, _, e)| e.clone())
        .collect();
    for expect in ["HTTP 500", "not JSON", "limit", "timed out", "redirects"] {
        assert!(reasons.iter().any(|r| r.contains(expect)), "{expect} not among {reasons:?}");
    }
    assert!(seen.statuses.iter().any(|(s, state, _)| s == "up" && *state == SourceState::Ok), "recovered");
    let steady: Vec<_> =
        seen.statuses.iter().filter(|(s, state, _)| s == "steady" && *state != SourceState::Ok).collect();
    assert!(steady.is_empty(), "steady stayed ok: {steady:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
