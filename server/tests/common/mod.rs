//! Shared by the integration tests: a real server on `127.0.0.1:0`, a plain HTTP/1.1 client that
//! can also send malformed requests, and a WebSocket client.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses a subset

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use livedash_server::Running;
use livedash_server::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

pub mod cluster;
pub mod faketime;
pub mod pinned;
pub mod receiver;
pub mod redis_server;
pub mod stalled;
pub mod upstream;

pub const PASSWORD: &str = "correct horse battery staple";

/// A configuration for tests: loopback on an OS-chosen port, fast sampling, a known password.
pub fn test_config(password: &str) -> Config {
    use clap::Parser;
    let args = livedash_server::config::Cli::try_parse_from(["livedash"]).expect("the defaults parse").serve;
    for_tests(Config::from_args(&args, Some(password.into())).expect("the defaults are valid"))
}

/// The test configuration with the sources (and their settings) of a `--config` file holding
/// `toml`, as the binary reads it.
pub fn test_config_with_file(name: &str, toml: &str) -> Config {
    use clap::Parser;
    let path = temp_dir(name).join("livedash.toml");
    std::fs::write(&path, toml).expect("write the config file");
    let path = path.to_str().expect("a UTF-8 temporary path");
    let args = livedash_server::config::Cli::try_parse_from(["livedash", "--config", path]).expect("parses").serve;
    for_tests(Config::from_args(&args, Some(PASSWORD.into())).expect("a valid config file"))
}

/// `config` on 127.0.0.1:0, sampling every 200 ms, with a temporary data directory.
fn for_tests(mut config: Config) -> Config {
    config.interval = Duration::from_millis(200);
    for source in &mut config.sources {
        source.interval = config.interval;
        source.timeout = livedash_server::sources::default_timeout(config.interval);
    }
    config.history = Duration::from_secs(60);
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    // The device-cookie key goes there: not into the source tree.
    config.data_dir = std::env::temp_dir().join(format!("livedash-test-data-{}", std::process::id()));
    // Memory only unless a test asks for a store of its own (the data directory is shared).
    config.store = None;
    config
}

/// A history store of its own for a test (`name`'s temporary directory), with the default
/// retention, a 1 GiB budget and four reads at once.
pub fn store_settings(name: &str) -> livedash_server::config::StoreSettings {
    livedash_server::config::StoreSettings {
        path: temp_dir(name).join("history.db"),
        max_bytes: 1 << 30,
        raw_for: Duration::from_secs(24 * 3600),
        minute_for: Duration::from_secs(30 * 86_400),
        hour_for: Duration::from_secs(365 * 86_400),
        max_reads: 4,
    }
}

/// Starts a real server with the test configuration.
pub async fn start() -> Running {
    start_with(test_config(PASSWORD)).await
}

/// Starts a real server with `config` on 127.0.0.1:0.
pub async fn start_with(config: Config) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    livedash_server::start(&config, listener).expect("start")
}

/// Like [`raw`], from the source address `from` (any of 127.0.0.0/8), so that a test can play
/// several clients.
pub async fn raw_from(from: std::net::IpAddr, addr: SocketAddr, request: &[u8]) -> Response {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from, 0)).expect("bind source address");
    exchange(socket.connect(addr).await.expect("connect"), request).await
}

/// `GET path` from `from` (any of 127.0.0.0/8) with extra headers; the status and the
/// `Set-Cookie` header.
pub async fn get_from(
    from: std::net::IpAddr,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Option<String>) {
    let r = raw_from(from, addr, &request(addr, path, headers)).await;
    (r.status, r.header("set-cookie").map(str::to_owned))
}

/// Reads a WebSocket until its close frame (5 s at most) and returns the close code.
pub async fn close_code<S>(socket: &mut S) -> Option<CloseCode>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    use futures_util::StreamExt;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a close frame within 5 s") {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// The headers of a WebSocket upgrade request.
pub const UPGRADE: [(&str, &str); 4] = [
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
];

/// A raw WebSocket handshake with extra headers; the response is read until the server closes
/// or 1 s passes (an accepted handshake stays open).
pub async fn handshake(addr: std::net::SocketAddr, path: &str, extra: &[(&str, &str)]) -> Response {
    let mut headers: Vec<(&str, &str)> = UPGRADE.to_vec();
    headers.retain(|(n, _)| *n != "Connection");
    headers.push(("Connection", "Upgrade"));
    headers.extend_from_slice(extra);
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (n, v) in &headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") && !got.starts_with(b"HTTP/1.1 101") {
                    // A refusal: the body follows the head; read what is there.
                    continue;
                }
            }
            Err(_) => {
                if got.starts_with(b"HTTP/1.1 101") {
                    break;
                }
            }
        }
    }
    parse(&got)
}

/// A `GET` request's bytes with extra header lines.
pub fn request(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    req.into_bytes()
}

/// A users file of its own for a test (in `name`'s temporary directory) holding `users` (name,
/// password), the passwords hashed as livedash keeps them.
pub fn users_file(name: &str, users: &[(&str, &str)]) -> livedash_server::config::UsersSource {
    use livedash_server::auth::password::hash_password;
    let path = temp_dir(&format!("{name}-users")).join("users");
    let lines: String = users.iter().map(|(user, password)| format!("{user}:{}\n", hash_password(password))).collect();
    std::fs::write(&path, lines).expect("users");
    livedash_server::config::UsersSource::File(path)
}

/// `livedash token ARGS`, then the options in `place` (where its store and users file are): (exit
/// success, stdout, stderr), each trimmed.
pub async fn token_cli(args: &[&str], place: &[impl AsRef<std::ffi::OsStr>]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
        .arg("token")
        .args(args)
        .args(place)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("the command runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// The options that point the CLI at the data directory `dir` of a [`livedash`] server: the
/// directory, its store `dir/history.db` and its users file `dir/users`.
pub fn data_dir_options(dir: &std::path::Path) -> [std::ffi::OsString; 6] {
    let (store, users) = (dir.join("history.db"), dir.join("users"));
    ["--data-dir".into(), dir.into(), "--store".into(), store.into(), "--users-file".into(), users.into()]
}

/// A free loopback address for a binary the test starts (bound, then released at once).
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// The real binary on `addr` with its data directory `dir` and its store `dir/history.db`, the
/// test password, its output dropped, killed when dropped; the caller adds its own arguments.
pub fn livedash(addr: SocketAddr, dir: &std::path::Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_livedash"));
    command
        .args(["--listen", &addr.to_string()])
        .arg("--data-dir")
        .arg(dir)
        .arg("--store")
        .arg(dir.join("history.db"))
        .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

/// Whether something listens on `addr` within `within` (a binary the test started coming up).
pub async fn wait_listening(addr: SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if TcpStream::connect(addr).await.is_ok() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A unique empty directory for one test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("livedash-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A fresh WebSocket ticket for `admin`, fetched the way the page does.
pub async fn ticket(addr: SocketAddr) -> String {
    let r = get(addr, "/api/ws-ticket", &[("Authorization", &basic("admin", PASSWORD))]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("a JSON string")
}

/// `Authorization: Basic ...` for `user:pass`.
pub fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")))
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends `request` as it is (it may be malformed) and reads the response to the end.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> Response {
    exchange(TcpStream::connect(addr).await.expect("connect"), request).await
}

/// Writes `request` on `stream` and reads the response until the server closes.
async fn exchange(mut stream: TcpStream, request: &[u8]) -> Response {
    stream.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
        .await
        .expect("response within 10 s")
        .expect("read");
    parse(&buf)
}

/// `POST path` with `body` of `kind` and extra header lines.
pub async fn post(addr: SocketAddr, path: &str, kind: &str, body: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    raw(addr, req.as_bytes()).await
}

/// `GET path` with optional extra header lines (each `Name: value`).
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    raw(addr, &request(addr, path, headers)).await
}

/// Parses a response; an empty one (the server closed without answering) is status 0.
pub fn parse(buf: &[u8]) -> Response {
    let Some(split) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Response { status: 0, headers: Vec::new(), body: String::from_utf8_lossy(buf).into_owned() };
    };
    let head = String::from_utf8_lossy(&buf[..split]);
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status line");
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    let mut body = buf[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_line = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}
