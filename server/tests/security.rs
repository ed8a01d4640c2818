//! The security promises, probed against a real server on 127.0.0.1:0: every refusal comes with
//! its HTTP status and without an upgrade, malformed input gets a 4xx (never a 500), throttling
//! keeps a flood from one address away from the real user elsewhere, and the headers are set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::{PASSWORD, UPGRADE, basic, get, handshake, raw, raw_from, request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn foreign_origin_is_403_with_or_without_credentials() {
    let mut config = common::test_config(PASSWORD);
    config.allowed_origins = vec!["https://ops.example.com".into()];
    let server = common::start_with(config).await;
    let addr = server.addr;
    let auth = basic("admin", PASSWORD);
    let own = format!("http://{addr}");
    for (origin, with_auth, want) in [
        ("https://evil.example", true, 403),
        ("https://evil.example", false, 403),
        ("null", true, 403),
        (own.as_str(), false, 401),
        (own.as_str(), true, 101),
        ("https://ops.example.com", true, 101),
    ] {
        let mut extra = vec![("Origin", origin)];
        if with_auth {
            extra.push(("Authorization", &auth));
        }
        let r = handshake(addr, "/ws", &extra).await;
        assert_eq!(r.status, want, "origin {origin}, auth {with_auth}: {r:?}");
        if want != 101 {
            assert!(r.header("upgrade").is_none() && r.header("sec-websocket-accept").is_none());
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn connection_caps_refuse_with_503_before_the_upgrade() {
    let mut config = common::test_config(PASSWORD);
    config.max_connections_per_ip = 2;
    let server = common::start_with(config).await;
    let auth = basic("admin", PASSWORD);
    // Hold two sockets open while a third tries.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let mut req = request(server.addr, "/ws", &[("Authorization", &auth)]);
        req.truncate(req.len() - 2);
        let mut head = String::from_utf8(req).unwrap().replace("Connection: close\r\n", "");
        for (n, v) in UPGRADE {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        let mut buf = [0u8; 12];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 101");
        held.push(s);
    }
    let r = handshake(server.addr, "/ws", &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert!(r.header("upgrade").is_none());
    // Another address still gets in.
    let r = raw_from(
        IpAddr::from([127, 0, 0, 9]),
        server.addr,
        &request(server.addr, "/api/ws-ticket", &[("Authorization", &auth)]),
    )
    .await;
    assert_eq!(r.status, 200);
    drop(held);
    server.stop().await;
}

#[tokio::test]
async fn a_flood_from_one_ip_is_throttled_and_the_real_user_still_gets_in_from_another() {
    let mut config = common::test_config(PASSWORD);
    config.login_attempts_per_ip = std::num::NonZeroU32::new(5).unwrap();
    let server = common::start_with(config).await;
    let attacker = IpAddr::from([127, 0, 0, 2]);
    let wrong = basic("admin", "guess");
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let r = raw_from(attacker, server.addr, &request(server.addr, "/", &[("Authorization", &wrong)])).await;
        statuses.push(r.status);
        if r.status == 429 {
            let retry: u64 = r.header("retry-after").expect("Retry-After").parse().expect("seconds");
            assert!((1..=60).contains(&retry), "retry after {retry}");
        }
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    let verifications = server.auth.stats.verifications.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(verifications, 5, "no hash is computed once throttled");
    // The right password works from elsewhere...
    let right = basic("admin", PASSWORD);
    let user = IpAddr::from([127, 0, 0, 3]);
    let r = raw_from(user, server.addr, &request(server.addr, "/api/snapshot", &[("Authorization", &right)])).await;
    assert_eq!(r.status, 200);
    // ...and from the throttled address it is refused like any guess, although it is now in the
    // credential cache: no oracle for the guesser.
    let r = raw_from(attacker, server.addr, &request(server.addr, "/", &[("Authorization", &right)])).await;
    assert_eq!(r.status, 429);
    server.stop().await;
}

#[tokio::test]
async fn a_burst_of_handshakes_with_one_credential_costs_one_hash() {
    let server = common::start().await;
    let auth = basic("admin", PASSWORD);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let auth = auth.clone();
            let addr = server.addr;
            tokio::spawn(async move { get(addr, "/api/ws-ticket", &[("Authorization", &auth)]).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(server.auth.stats.verifications.load(std::sync::atomic::Ordering::Relaxed), 1);
    server.stop().await;
}

#[tokio::test]
async fn malformed_authorization_and_tickets_get_4xx_never_500() {
    let server = common::start().await;
    let addr = server.addr;
    let long = format!("Basic {}", "QUFB".repeat(16 * 1024));
    let cases: Vec<Vec<u8>> = vec![
        b"Authorization: Basic \xff\xfe\xfd".to_vec(),
        b"Authorization: Basic !!!not-base64!!!".to_vec(),
        b"Authorization: Basic YWRtaW4=".to_vec(), // no colon
        b"Authorization: ".to_vec(),
        b"Authorization: Basic".to_vec(),
        b"Authorization: Bearer abc.def".to_vec(),
        b"Authorization: Digest username=\"admin\"".to_vec(),
        format!("Authorization: {long}").into_bytes(),
    ];
    for case in cases {
        for path in ["/", "/ws", "/api/snapshot"] {
            let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
            req.extend_from_slice(&case);
            req.extend_from_slice(b"\r\n\r\n");
            let r = raw(addr, &req).await;
            assert!(
                (400..500).contains(&r.status),
                "{path} {:?}: {}",
                String::from_utf8_lossy(&case[..case.len().min(40)]),
                r.status
            );
        }
    }
    for query in
        ["?ticket=garbage", "?ticket=%ff%fe", "?ticket=a.b.c", "?ticket=&ticket=x", "?%%%", "?ticket=AAAA.AAAA"]
    {
        let r = handshake(addr, &format!("/ws{query}"), &[]).await;
        assert_eq!(r.status, 401, "{query}: {r:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn oversized_headers_are_431_and_slow_headers_time_out() {
    let mut config = common::test_config(PASSWORD);
    config.header_timeout = Duration::from_secs(1);
    let server = common::start_with(config).await;
    let addr = server.addr;
    let huge = "x".repeat(64 * 1024);
    let r = raw(addr, &request(addr, "/", &[("X-Filler", &huge)])).await;
    assert_eq!(r.status, 431, "{r:?}");

    // A client that sends its headers one byte at a time is cut off after the timeout.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    for byte in b"GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut buf = [0u8; 256];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await {
            // The server answered (408) or closed (0): either way the slow client is done.
            let _ = n;
            closed = true;
            break;
        }
    }
    assert!(closed, "the slow client was never cut off");
    assert!(started.elapsed() < Duration::from_secs(4), "cut off after {:?}", started.elapsed());
    server.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = common::start().await;
    let addr = server.addr;
    let auth = basic("admin", PASSWORD);
    let page = get(addr, "/", &[("Authorization", &auth)]).await;
    let refused = get(addr, "/", &[]).await;
    let health = get(addr, "/healthz", &[]).await;
    for r in [&page, &refused, &health] {
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("cross-origin-opener-policy"), Some("same-origin"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert!(r.header("strict-transport-security").is_none(), "no HSTS over plain HTTP");
        let csp = r.header("content-security-policy").expect("CSP");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }
    // The page's policy allows exactly its own hydration script, by nonce.
    let csp = page.header("content-security-policy").unwrap();
    let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("a nonce in the CSP");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(page.body.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    for script in page.body.split("<script").skip(1) {
        assert!(
            script.starts_with(&format!(" type=\"module\" nonce=\"{nonce}\""))
                || script.contains(&format!("nonce=\"{nonce}\"")),
            "a script without the nonce: <script{}",
            &script[..script.len().min(80)]
        );
    }
    // Each response gets its own nonce.
    let again = get(addr, "/", &[("Authorization", &auth)]).await;
    assert_ne!(again.header("content-security-policy"), Some(csp));
    server.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn logs_name_the_refused_client_but_never_a_secret() {
    use base64::Engine;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
        .args(["--listen", &addr.to_string()])
        .arg("--data-dir")
        .arg(common::temp_dir("security-logs"))
        .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn livedash");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let wrong = "hunter2-wrong-secret";
    let wrong_header = basic("mallory", wrong);
    assert_eq!(get(addr, "/", &[("Authorization", &wrong_header)]).await.status, 401);
    let ticket = common::ticket(addr).await;
    assert_eq!(handshake(addr, &format!("/ws?ticket={ticket}"), &[]).await.status, 101);
    assert_eq!(
        handshake(addr, &format!("/ws?ticket={ticket}"), &[("Origin", &format!("http://{addr}"))]).await.status,
        401
    );
    assert_eq!(handshake(addr, "/ws", &[("Origin", "https://evil.example")]).await.status, 403);

    let pid = child.id().expect("pid").to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    let mut stderr = child.stderr.take().expect("stderr");
    let mut log = String::new();
    tokio::time::timeout(Duration::from_secs(6), stderr.read_to_string(&mut log)).await.expect("exits").unwrap();
    child.wait().await.unwrap();

    assert!(log.contains("login failed") && log.contains("\"mallory\"") && log.contains("127.0.0.1"), "{log}");
    assert!(log.contains("https://evil.example"), "the refused Origin is logged: {log}");
    assert!(log.contains("ticket"), "{log}");
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("mallory:{wrong}"));
    for secret in [wrong, PASSWORD, encoded.as_str(), ticket.as_str(), &ticket[..20]] {
        assert!(!log.contains(secret), "a secret reached the log: {secret}");
    }
}

#[tokio::test]
async fn forwarded_headers_count_only_from_a_trusted_proxy() {
    let wrong = basic("admin", "guess");
    let right = basic("admin", PASSWORD);
    for trusted in [false, true] {
        let mut config = common::test_config(PASSWORD);
        config.login_attempts_per_ip = std::num::NonZeroU32::new(3).unwrap();
        if trusted {
            config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        }
        let server = common::start_with(config).await;
        let addr = server.addr;
        // Three failures "for" 203.0.113.7, each claiming another forwarded address on the left.
        for i in 0..3 {
            let xff = format!("198.51.100.{i}, 203.0.113.7");
            let r = get(addr, "/", &[("Authorization", &wrong), ("X-Forwarded-For", &xff)]).await;
            assert_eq!(r.status, 401);
        }
        let r = get(addr, "/", &[("Authorization", &wrong), ("X-Forwarded-For", "203.0.113.7")]).await;
        assert_eq!(r.status, 429, "trusted {trusted}");
        // Another client behind the proxy: its own budget when the proxy is trusted; the same
        // peer address (throttled) when it is not.
        let r = get(addr, "/api/snapshot", &[("Authorization", &right), ("X-Forwarded-For", "203.0.113.8")]).await;
        assert_eq!(r.status, if trusted { 200 } else { 429 }, "trusted {trusted}");

        // A TLS-terminating proxy: the page's origin is https://<host>.
        let origin = format!("https://{addr}");
        let r = handshake(
            addr,
            "/ws",
            &[
                ("Authorization", &right),
                ("Origin", &origin),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-For", "203.0.113.9"),
            ],
        )
        .await;
        assert_eq!(r.status, if trusted { 101 } else { 403 }, "trusted {trusted}");
        server.stop().await;
    }
}
