//! Attacks from the same network that must not take the dashboard from the person it is for:
//! guessing the user's password from many addresses, floods of refused requests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{PASSWORD, basic, get_from, handshake, raw_from, request};

/// Eleven wrong passwords for `admin` from `from`: the statuses.
async fn guess_from(from: IpAddr, addr: std::net::SocketAddr) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..11 {
        let wrong = basic("admin", &format!("guess-{i}"));
        statuses.push(get_from(from, addr, "/api/ws-ticket", &[("Authorization", &wrong)]).await.0);
    }
    statuses
}

fn at(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

#[tokio::test]
async fn thirty_three_wrong_passwords_from_three_addresses_leave_the_real_user_in() {
    let server = common::start().await;
    let right = basic("admin", PASSWORD);
    // The page, open before the attack, with the device cookie it got when it loaded.
    let (status, cookie) = get_from(at(10), server.addr, "/", &[("Authorization", &right)]).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("a device cookie after the login");
    assert!(
        cookie.starts_with("livedash_device=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict")
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();

    for from in [at(2), at(3), at(4)] {
        let statuses = guess_from(from, server.addr).await;
        // Slowed per address and user: five guesses a minute, then 429 without any hash.
        assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
        assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    }
    // Before: 429 for the real user everywhere, the open page's ticket requests included.
    let with_cookie = [("Authorization", right.as_str()), ("Cookie", cookie.as_str())];
    assert_eq!(get_from(at(10), server.addr, "/api/ws-ticket", &with_cookie).await.0, 200, "the open page");
    let (status, new_cookie) = get_from(at(11), server.addr, "/", &[("Authorization", &right)]).await;
    assert_eq!(status, 200, "a new browser on another address");
    assert!(new_cookie.is_some());
    server.stop().await;
}

#[tokio::test]
async fn an_attack_from_many_addresses_spares_the_browsers_that_logged_in_before() {
    let server = common::start().await;
    let right = basic("admin", PASSWORD);
    let (_, cookie) = get_from(at(10), server.addr, "/", &[("Authorization", &right)]).await;
    let cookie = cookie.expect("a device cookie").split(';').next().unwrap().to_owned();
    // 7 addresses x 5 counted guesses spend the user's budget of 30 a minute.
    for last in 2..9 {
        guess_from(at(last), server.addr).await;
    }
    let verifications = server.auth.stats.verifications.load(std::sync::atomic::Ordering::Relaxed);
    assert!(verifications <= 31, "{verifications} hashes: the budgets hold");
    // A client that never logged in is refused like the guessers: the user is under attack, and
    // no answer tells a guesser whether a guess was right.
    assert_eq!(get_from(at(11), server.addr, "/", &[("Authorization", &right)]).await.0, 429);
    // The browser that logged in before is not.
    let with_cookie = [("Authorization", right.as_str()), ("Cookie", cookie.as_str())];
    assert_eq!(get_from(at(10), server.addr, "/api/ws-ticket", &with_cookie).await.0, 200);
    assert_eq!(get_from(at(12), server.addr, "/api/ws-ticket", &with_cookie).await.0, 200, "from anywhere");
    // The cookie alone proves nothing: a wrong password with it is refused, on its own budget.
    let wrong_with_cookie = [("Authorization", "Basic YWRtaW46bm9wZQ=="), ("Cookie", cookie.as_str())];
    assert_eq!(get_from(at(13), server.addr, "/api/ws-ticket", &wrong_with_cookie).await.0, 401);
    // A forged or foreign cookie is no cookie.
    let forged = [("Authorization", right.as_str()), ("Cookie", "livedash_device=AAAA.BBBB")];
    assert_eq!(get_from(at(14), server.addr, "/api/ws-ticket", &forged).await.0, 429);
    server.stop().await;
}

#[tokio::test]
async fn a_flood_of_refused_requests_turns_into_429() {
    let server = common::start().await;
    let from = at(6);
    let mut statuses = Vec::new();
    for _ in 0..100 {
        let r = raw_from(from, server.addr, &request(server.addr, "/ws?ticket=garbage", &common::UPGRADE)).await;
        statuses.push(r.status);
    }
    // Before: 300 x 401, never a 429.
    let refused = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(refused, 60, "the address's budget of refusals: {statuses:?}");
    assert!(statuses[60..].iter().all(|s| *s == 429), "{statuses:?}");
    // Missing credentials, foreign origins: the same budget, and no other address is touched.
    assert_eq!(get_from(from, server.addr, "/", &[]).await.0, 429);
    assert_eq!(get_from(at(7), server.addr, "/", &[]).await.0, 401);
    assert_eq!(handshake(server.addr, "/ws", &[("Origin", "https://evil.example")]).await.status, 403);
    // The real user, from the flooding address too, still gets in: a right password is no refusal.
    let right = basic("admin", PASSWORD);
    assert_eq!(get_from(from, server.addr, "/api/ws-ticket", &[("Authorization", &right)]).await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn connections_are_capped_per_address_before_anything_is_read() {
    let mut config = common::test_config(PASSWORD);
    config.max_http_connections_per_ip = 4;
    let server = common::start_with(config).await;
    let connect_from = |from: IpAddr| async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(std::net::SocketAddr::new(from, 0)).unwrap();
        socket.connect(server.addr).await.unwrap()
    };
    // Four connections that never send a byte hold the address's places...
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(connect_from(at(20)).await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // ...so a fifth is closed at once (told 503 when it can still read it), never served.
    let mut fifth = connect_from(at(20)).await;
    let _ = fifth.write_all(&request(server.addr, "/healthz", &[])).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), fifth.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(read.is_ok(), "closed at once");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 503"), "{answer}");
    // Other addresses are not affected, and the places come back when the connections close.
    assert_eq!(get_from(at(21), server.addr, "/healthz", &[]).await.0, 200);
    drop(idle);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(get_from(at(20), server.addr, "/healthz", &[]).await.0, 200);
    server.stop().await;
}
