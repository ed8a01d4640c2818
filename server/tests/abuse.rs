//! Attacks from the same network that must not take the dashboard from the person it is for:
//! guessing the user's password from many addresses (by Basic and by the login form: the owner's
//! browser stays logged in and logs in again by the form, on its device cookie's budget), floods
//! of refused requests.

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

/// The login form posted from `from` by a browser (a navigation) with `cookies`: the status and
/// every `name=value` the answer sets.
async fn form_login(from: IpAddr, addr: std::net::SocketAddr, password: &str, cookies: &str) -> (u16, Vec<String>) {
    let body = format!("username=admin&password={}", password.replace(' ', "+"));
    let mut req = format!(
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nSec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: navigate\r\nAccept: text/html\r\n",
        body.len()
    );
    if !cookies.is_empty() {
        req.push_str(&format!("Cookie: {cookies}\r\n"));
    }
    req.push_str(&format!("\r\n{body}"));
    let r = raw_from(from, addr, req.as_bytes()).await;
    let set = r.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"));
    (r.status, set.filter_map(|(_, v)| v.split(';').next()).filter(|c| !c.ends_with('=')).map(str::to_owned).collect())
}

/// The cookie named `name` among `set`.
fn named<'a>(set: &'a [String], name: &str) -> Option<&'a str> {
    set.iter().find(|c| c.starts_with(&format!("{name}="))).map(String::as_str)
}

#[tokio::test]
async fn thirty_three_wrong_passwords_from_three_addresses_leave_the_real_user_in() {
    let server = common::start().await;
    let right = basic("admin", PASSWORD);
    // The owner's browser logs in by the form before the attack: a session and a device cookie.
    let (status, set) = form_login(at(20), server.addr, PASSWORD, "").await;
    assert_eq!(status, 303, "{set:?}");
    let session = named(&set, "livedash_session").expect("a session cookie").to_owned();
    let device = named(&set, "livedash_device").expect("a device cookie for the browser").to_owned();
    // The page, open before the attack, with the device cookie it got when it loaded.
    let (status, cookie) = get_from(at(10), server.addr, "/", &[("Authorization", &right)]).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("a device cookie after the login");
    assert!(cookie.starts_with("livedash_device=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
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
    // The owner's browser is still logged in (its page and its socket's ticket), and after a
    // logout it logs in again by the form, from where it is and from elsewhere.
    assert_eq!(get_from(at(20), server.addr, "/api/ws-ticket", &[("Cookie", &session)]).await.0, 200);
    assert_eq!(get_from(at(20), server.addr, "/", &[("Cookie", &session)]).await.0, 200);
    let both = format!("{session}; {device}");
    for from in [at(20), at(21)] {
        let (status, set) = form_login(from, server.addr, PASSWORD, &both).await;
        assert_eq!(status, 303, "the owner's browser logs in again from {from}: {set:?}");
        let again = named(&set, "livedash_session").expect("a new session");
        assert_ne!(again, session);
        assert_eq!(get_from(from, server.addr, "/api/ws-ticket", &[("Cookie", again)]).await.0, 200);
    }
    server.stop().await;
}

#[tokio::test]
async fn guesses_by_the_form_from_three_addresses_spend_the_user_not_the_owners_browser() {
    let mut config = common::test_config(PASSWORD);
    // Three addresses' five guesses each spend the user's budget.
    config.login_attempts_per_user = std::num::NonZeroU32::new(15).unwrap();
    let server = common::start_with(config).await;
    let (status, set) = form_login(at(20), server.addr, PASSWORD, "").await;
    assert_eq!(status, 303, "{set:?}");
    let session = named(&set, "livedash_session").expect("a session cookie").to_owned();
    let device = named(&set, "livedash_device").expect("a device cookie").to_owned();
    for from in [at(2), at(3), at(4)] {
        for i in 0..11 {
            let (status, _) = form_login(from, server.addr, &format!("guess-{i}"), "").await;
            assert!(status == 401 || status == 429, "{status}");
        }
    }
    // The user is under attack: a browser that never logged in must wait, even with the right
    // password, and is told nothing about it.
    assert_eq!(form_login(at(11), server.addr, PASSWORD, "").await.0, 429);
    // Before: the owner's browser, logged out, could not log in again either.
    assert_eq!(get_from(at(20), server.addr, "/api/ws-ticket", &[("Cookie", &session)]).await.0, 200, "still in");
    let (status, set) = form_login(at(20), server.addr, PASSWORD, &format!("{session}; {device}")).await;
    assert_eq!(status, 303, "the owner's browser logs in again by the form: {set:?}");
    let again = named(&set, "livedash_session").expect("a new session").to_owned();
    assert_eq!(get_from(at(20), server.addr, "/", &[("Cookie", &again)]).await.0, 200);
    // Its device cookie with a wrong password is refused on the cookie's own budget, not let in.
    assert_eq!(form_login(at(20), server.addr, "nope", &device).await.0, 401);
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
