//! Nobody is locked out by a distributed attack (issue 23, items 2 and 3), against the real
//! binary: a flood of unknown user names from many addresses fills the open lane of password
//! verifications while a browser with a device cookie and a session still get in within a second;
//! a scraper and a `/ws` client that authenticated before keep working while others' guesses
//! block their user, and a new address with the right password is still refused.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use common::{PASSWORD, basic, get_from, raw_from};

fn at(c: u8, d: u8) -> IpAddr {
    IpAddr::from([127, 0, c, d])
}

/// A login by the form from `from`: the session cookie (`name=value`).
async fn form_session(from: IpAddr, addr: SocketAddr) -> String {
    let body = format!("username=admin&password={}", PASSWORD.replace(' ', "+"));
    let req = format!(
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nSec-Fetch-Site: same-origin\r\n\r\n{body}",
        body.len()
    );
    let r = raw_from(from, addr, req.as_bytes()).await;
    assert!(r.status == 204 || r.status == 303, "{} {}", r.status, r.body);
    let cookie =
        r.headers.iter().find(|(n, v)| n.eq_ignore_ascii_case("set-cookie") && v.starts_with("livedash_session="));
    cookie.expect("a session cookie").1.split(';').next().unwrap().to_owned()
}

/// A WebSocket handshake on `/ws` from `from` with `headers`: the status (101 when let in).
async fn handshake_from(from: IpAddr, addr: SocketAddr, headers: &[(&str, &str)]) -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let mut req = format!("GET /ws HTTP/1.1\r\nHost: {addr}\r\n");
    for (n, v) in common::UPGRADE.iter().chain(headers) {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.expect("an answer").unwrap();
        assert!(n > 0, "closed without an answer");
        got.extend_from_slice(&buf[..n]);
    }
    common::parse(&got).status
}

fn signal(child: &tokio::process::Child, name: &str) {
    let pid = child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args([&format!("-{name}"), &pid]).status().unwrap().success());
}

#[tokio::test]
async fn a_flood_of_unknown_names_leaves_the_device_cookies_lane_and_the_sessions_free() {
    let dir = common::temp_dir("lockout-flood");
    let livedash_server::config::UsersSource::File(users) = common::users_file("lockout-flood", &[("admin", PASSWORD)])
    else {
        panic!("a users file")
    };
    let addr = common::free_addr();
    let mut child = common::livedash(addr, &dir)
        .arg("--users-file")
        .arg(&users)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn livedash");
    // How many times the users file was reloaded, read off the log.
    let (reloaded, mut reloads) = tokio::sync::watch::channel(0usize);
    let mut log = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = log.next_line().await {
            if line.contains("users file reloaded") {
                reloaded.send_modify(|n| *n += 1);
            }
        }
    });
    assert!(common::wait_listening(addr, Duration::from_secs(10)).await, "livedash did not listen on {addr}");
    let right = basic("admin", PASSWORD);
    // The owner's browser logged in by Basic and holds its device cookie; another logged in by the
    // form and holds a session.
    let (status, cookie) = get_from(at(0, 20), addr, "/", &[("Authorization", &right)]).await;
    assert_eq!(status, 200);
    let device = cookie.expect("a device cookie").split(';').next().unwrap().to_owned();
    let session = form_session(at(0, 21), addr).await;

    // The flood: 60 tasks, each from three addresses of its own in turn (an address's budget is
    // ten a minute), unknown names as fast as they are answered (a refused one 100 ms later),
    // until the tries below are done (40 each at most).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood: Vec<_> = (0..60u8)
        .map(|task| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..40u8 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return (statuses, true);
                    }
                    let guess = basic(&format!("ghost-{task}-{i}"), "guess");
                    let from = at(1 + i % 3, task + 1);
                    let status = get_from(from, addr, "/api/ws-ticket", &[("Authorization", &guess)]).await.0;
                    if status != 401 {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    statuses.push(status);
                }
                (statuses, false)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut tries = Vec::new();
    for n in 1..=8 {
        // The same users file again: the accounts are the same (the device cookie stays valid),
        // but the cache of verified credentials is dropped, so the browser's password is hashed.
        signal(&child, "HUP");
        let done = tokio::time::timeout(Duration::from_secs(5), reloads.wait_for(|r| *r >= n)).await;
        assert!(done.is_ok_and(|r| r.is_ok()), "reload {n} within 5 s");
        let with_cookie = [("Authorization", right.as_str()), ("Cookie", device.as_str())];
        let start = Instant::now();
        let (status, _) = get_from(at(0, 20), addr, "/api/ws-ticket", &with_cookie).await;
        let device_try = (status, start.elapsed());
        let start = Instant::now();
        let (status, _) = get_from(at(0, 21), addr, "/api/ws-ticket", &[("Cookie", &session)]).await;
        tries.push((device_try, (status, start.elapsed())));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut statuses, mut still_flooding) = (Vec::new(), 0);
    for task in flood {
        let (answers, stopped) = task.await.expect("a flood task");
        statuses.extend(answers);
        still_flooding += usize::from(stopped);
    }
    let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
    #[allow(clippy::print_stderr)]
    {
        let n = statuses.len();
        eprintln!(
            "flood: {} x 401, {} x 429, {} x 503 of {n}; {still_flooding} tasks of 60 still at it",
            count(401),
            count(429),
            count(503)
        );
        eprintln!("device (status, latency) then session: {tries:?}");
    }
    assert!(count(503) + count(429) > 0, "the flood filled the queue: {statuses:?}");
    assert!(still_flooding > 30, "the flood lasted through every try ({still_flooding} tasks were still at it)");
    assert!(statuses.iter().all(|s| [401, 429, 503].contains(s)), "{statuses:?}");
    for ((device, device_took), (session, session_took)) in &tries {
        // Before: 503 (the device shared the queue with the flood), or 200 after a long wait.
        assert_eq!(*device, 200, "the device cookie's browser: {tries:?}");
        assert!(*device_took < Duration::from_secs(1), "within a second: {tries:?}");
        assert_eq!(*session, 200, "the session: {tries:?}");
        assert!(*session_took < Duration::from_secs(1), "within a second: {tries:?}");
    }
    drop(child);
}

#[tokio::test]
async fn a_scraper_and_a_socket_that_logged_in_before_outlast_guesses_from_twelve_addresses() {
    let server = common::start().await;
    let right = basic("admin", PASSWORD);
    let (scraper, socket, newcomer) = (at(0, 30), at(0, 31), at(0, 40));
    // Prometheus scraping `/metrics` by Basic, and a `/ws` client by Basic, before the attack.
    assert_eq!(get_from(scraper, server.addr, "/metrics", &[("Authorization", &right)]).await.0, 200);
    assert_eq!(handshake_from(socket, server.addr, &[("Authorization", &right)]).await, 101);
    // Six wrong passwords from each of 12 addresses: five a minute per address and user, so the
    // user's 30 a minute are spent after six addresses.
    for last in 2..14 {
        for i in 0..6 {
            let wrong = basic("admin", &format!("guess-{i}"));
            let status = get_from(at(0, last), server.addr, "/api/ws-ticket", &[("Authorization", &wrong)]).await.0;
            // 503 too: the budget of verifications for clients without a device cookie.
            assert!([401, 429, 503].contains(&status), "{status}");
        }
    }
    // The user is blocked: a new address with the right password is refused like a guesser.
    assert_eq!(get_from(newcomer, server.addr, "/metrics", &[("Authorization", &right)]).await.0, 429);
    // Before: 429 for both, until the attack stopped.
    for scrape in 0..3 {
        let status = get_from(scraper, server.addr, "/metrics", &[("Authorization", &right)]).await.0;
        assert_eq!(status, 200, "scrape {scrape}");
    }
    assert_eq!(handshake_from(socket, server.addr, &[("Authorization", &right)]).await, 101);
    // A guess from the scraper's own address is still refused, and tells nothing.
    let wrong = basic("admin", "guess-from-the-scraper");
    assert_eq!(get_from(scraper, server.addr, "/metrics", &[("Authorization", &wrong)]).await.0, 429);
    assert_eq!(get_from(newcomer, server.addr, "/metrics", &[("Authorization", &right)]).await.0, 429);
    server.stop().await;
}
