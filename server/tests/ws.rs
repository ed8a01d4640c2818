//! The WebSocket against a real server: refused before any upgrade without valid credentials,
//! `hello` then samples with them, a close 1001 on shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use livedash::Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use common::{PASSWORD, basic, get, ticket};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(addr: std::net::SocketAddr, query: &str, auth: Option<&str>) -> Result<Socket, Error> {
    let mut req = format!("ws://{addr}/ws{query}").into_client_request().unwrap();
    if let Some(auth) = auth {
        req.headers_mut().insert("Authorization", HeaderValue::from_str(auth).unwrap());
    }
    connect_async(req).await.map(|(s, _)| s)
}

fn refused_status(result: Result<Socket, Error>) -> u16 {
    match result {
        Err(Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected a refusal, got an upgrade"),
    }
}

async fn next_frame(socket: &mut Socket) -> Frame {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a frame within 5 s");
        match msg.expect("stream open").expect("no error") {
            Message::Text(t) => return Frame::from_json(&t).expect("a valid frame"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn without_valid_credentials_the_handshake_is_401_and_never_upgrades() {
    let server = common::start().await;
    let addr = server.addr;
    assert_eq!(refused_status(open(addr, "", None).await), 401);
    assert_eq!(refused_status(open(addr, "", Some(&basic("admin", "nope"))).await), 401);
    assert_eq!(refused_status(open(addr, "?ticket=garbage", None).await), 401);
    assert_eq!(refused_status(open(addr, "?ticket=", Some(&basic("admin", "nope"))).await), 401);

    // The raw handshake: a 401 with a challenge and no 101, no Upgrade header.
    let r = get(
        addr,
        "/ws",
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r.header("upgrade").is_none());
    assert!(r.header("www-authenticate").is_some());
    server.stop().await;
}

#[tokio::test]
async fn basic_credentials_get_hello_then_samples_in_seq_order() {
    let server = common::start().await;
    let mut socket = open(server.addr, "", Some(&basic("admin", PASSWORD))).await.expect("upgrade");
    let Frame::Hello(hello) = next_frame(&mut socket).await else { panic!("hello first") };
    assert_eq!(hello.v, livedash::PROTOCOL_VERSION);
    let mut last = hello.last_seq();
    for _ in 0..3 {
        match next_frame(&mut socket).await {
            Frame::Sample(s) => {
                assert!(s.seq > last, "seq {} after {last}", s.seq);
                assert_eq!(&*s.source, "local");
                let data: serde_json::Value = serde_json::from_str(s.data.get()).unwrap();
                assert!(data["cpu_pct"].is_number(), "{data}");
                last = s.seq;
            }
            other => panic!("expected a sample, got {other:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_ticket_opens_the_socket_once() {
    let server = common::start().await;
    let t = ticket(server.addr).await;
    let mut socket = open(server.addr, &format!("?ticket={t}"), None).await.expect("upgrade with a ticket");
    assert!(matches!(next_frame(&mut socket).await, Frame::Hello(_)));
    assert_eq!(refused_status(open(server.addr, &format!("?ticket={t}"), None).await), 401, "replayed ticket");
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001() {
    let server = common::start().await;
    let mut a = open(server.addr, "", Some(&basic("admin", PASSWORD))).await.expect("upgrade");
    let mut b = open(server.addr, &format!("?ticket={}", ticket(server.addr).await), None).await.expect("upgrade");
    assert!(matches!(next_frame(&mut a).await, Frame::Hello(_)));
    assert!(matches!(next_frame(&mut b).await, Frame::Hello(_)));
    let stopping = tokio::spawn(server.stop());
    for socket in [&mut a, &mut b] {
        let code = common::close_code(socket).await;
        assert_eq!(code, Some(CloseCode::Away));
    }
    tokio::time::timeout(Duration::from_secs(6), stopping).await.expect("stops within 6 s").unwrap();
}

#[tokio::test]
async fn client_data_frames_are_ignored_and_big_ones_close_with_1009() {
    use futures_util::SinkExt;
    let server = common::start().await;
    let mut socket = open(server.addr, "", Some(&basic("admin", PASSWORD))).await.expect("upgrade");
    assert!(matches!(next_frame(&mut socket).await, Frame::Hello(_)));
    socket.send(Message::text("hello from the client")).await.unwrap();
    socket.send(Message::binary(vec![1u8; 100])).await.unwrap();
    // Still served: the next frame is a sample.
    assert!(matches!(next_frame(&mut socket).await, Frame::Sample(_) | Frame::Status(_)));
    let stats = &server.connections.stats;
    assert_eq!(stats.ignored_frames.load(std::sync::atomic::Ordering::Relaxed), 2);

    socket.send(Message::text("x".repeat(5 * 1024))).await.unwrap();
    let code = common::close_code(&mut socket).await;
    assert_eq!(code, Some(CloseCode::Size));
    assert_eq!(stats.closed_oversize.load(std::sync::atomic::Ordering::Relaxed), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_answers_no_ping_is_closed() {
    let mut config = common::test_config(PASSWORD);
    config.ws_idle_timeout = Duration::from_secs(1);
    let server = common::start_with(config).await;
    let socket = open(server.addr, "", Some(&basic("admin", PASSWORD))).await.expect("upgrade");
    // Not reading means not answering pings.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while server.connections.open() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.connections.open(), 0, "the idle socket is still open");
    assert_eq!(server.connections.stats.closed_idle.load(std::sync::atomic::Ordering::Relaxed), 1);
    drop(socket);
    server.stop().await;
}

#[tokio::test]
async fn a_reading_client_that_answers_pings_stays() {
    let mut config = common::test_config(PASSWORD);
    config.ws_idle_timeout = Duration::from_secs(1);
    let server = common::start_with(config).await;
    let mut socket = open(server.addr, "", Some(&basic("admin", PASSWORD))).await.expect("upgrade");
    let until = std::time::Instant::now() + Duration::from_millis(2500);
    let mut pings = 0;
    while std::time::Instant::now() < until {
        match tokio::time::timeout(Duration::from_secs(2), socket.next()).await.expect("frames keep coming") {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Text(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(pings >= 2, "{pings} pings");
    assert_eq!(server.connections.open(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_long_hello_arrives_whole_and_a_plain_get_is_400() {
    let server = common::start().await;
    let addr = server.addr;
    let auth = basic("admin", PASSWORD);
    // Wait until the history makes a hello far longer than any buffer on the way.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let snapshot = get(addr, "/api/snapshot", &[("Authorization", &auth)]).await;
        if snapshot.body.len() > 16 * 1024 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "history stayed under 16 KiB");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut socket = open(addr, "", Some(&auth)).await.expect("upgrade");
    let msg = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
    let Message::Text(text) = msg else { panic!("expected text, got {msg:?}") };
    assert!(text.len() > 16 * 1024, "hello of {} bytes", text.len());
    let Frame::Hello(hello) = Frame::from_json(&text).expect("one valid message") else { panic!("not a hello") };
    assert!(hello.history.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(matches!(next_frame(&mut socket).await, Frame::Sample(_)));

    // Not an upgrade, or another protocol version: a 4xx, not a 500.
    assert_eq!(get(addr, "/ws", &[("Authorization", &auth)]).await.status, 400);
    let old_version = [
        ("Authorization", auth.as_str()),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "8"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let old = common::raw(addr, &common::request(addr, "/ws", &old_version)).await;
    assert_eq!((old.status, old.header("sec-websocket-version")), (426, Some("13")));
    server.stop().await;
}

#[tokio::test]
async fn a_clients_pings_are_answered_between_frames_in_order() {
    use futures_util::SinkExt;
    let mut config = common::test_config(PASSWORD);
    config.interval = Duration::from_millis(20);
    for source in &mut config.sources {
        source.interval = config.interval;
    }
    let server = common::start_with(config).await;
    let mut socket = open(server.addr, "", Some(&basic("admin", PASSWORD))).await.expect("upgrade");
    let (mut sent, mut answered, mut frames) = (0u32, 0u32, 0u32);
    let mut every = tokio::time::interval(Duration::from_millis(7));
    let until = tokio::time::Instant::now() + Duration::from_millis(1500);
    while tokio::time::Instant::now() < until
        || (answered < sent && tokio::time::Instant::now() < until + Duration::from_secs(3))
    {
        tokio::select! {
            _ = every.tick(), if tokio::time::Instant::now() < until => {
                sent += 1;
                socket.send(Message::Ping(sent.to_be_bytes().to_vec().into())).await.expect("ping sent");
            }
            msg = socket.next() => match msg.expect("open").expect("no error") {
                Message::Pong(payload) => {
                    answered += 1;
                    assert_eq!(&payload[..], answered.to_be_bytes(), "pongs come in the order of the pings");
                }
                Message::Text(text) => {
                    Frame::from_json(&text).expect("every frame whole between the pongs");
                    frames += 1;
                }
                Message::Ping(_) => {}
                other => panic!("unexpected {other:?}"),
            },
        }
    }
    assert!(sent > 100 && frames > 30, "{sent} pings, {frames} frames");
    assert_eq!(answered, sent, "every ping answered");
    server.stop().await;
}

#[tokio::test]
async fn a_frame_sent_with_the_handshake_is_read_after_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = common::start().await;
    let auth = basic("admin", PASSWORD);
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut bytes = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nAuthorization: {auth}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        server.addr
    )
    .into_bytes();
    // A masked ping with the payload "early", in the same write as the request.
    let mask = [7u8, 1, 200, 42];
    bytes.extend([0x89, 0x80 | 5]);
    bytes.extend(mask);
    bytes.extend(b"early".iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    stream.write_all(&bytes).await.unwrap();

    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    let mut socket =
        WebSocketStream::from_raw_socket(stream, tokio_tungstenite::tungstenite::protocol::Role::Client, None).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let pong = loop {
        match tokio::time::timeout_at(deadline, socket.next()).await.expect("a pong within 5 s") {
            Some(Ok(Message::Pong(payload))) => break payload,
            Some(Ok(Message::Text(_) | Message::Ping(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(&pong[..], b"early");
    server.stop().await;
}
