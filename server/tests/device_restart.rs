//! A device cookie outlives a restart when the password comes from `LIVEDASH_ADMIN_PASSWORD`: its
//! version is made from the data directory's key, not from a freshly salted hash, so the browser
//! that logged in before the restart keeps a budget of its own while its user is under attack.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{PASSWORD, basic, get_from};

fn at(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// The binary on `addr` with `dir` as its data directory and a user budget of 3 guesses a minute.
async fn run(addr: std::net::SocketAddr, dir: &std::path::Path) -> tokio::process::Child {
    let mut command = common::livedash(addr, dir);
    command.args(["--login-attempts-per-user", "3"]);
    let child = command.spawn().expect("spawn livedash");
    assert!(common::wait_listening(addr, Duration::from_secs(30)).await, "livedash did not listen on {addr}");
    child
}

#[tokio::test]
async fn a_device_cookie_from_before_a_restart_still_exempts_its_browser() {
    let dir = common::temp_dir("device-restart");
    let addr = common::free_addr();
    let right = basic("admin", PASSWORD);
    let mut first = run(addr, &dir).await;
    let (status, cookie) = get_from(at(20), addr, "/", &[("Authorization", &right)]).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("a device cookie");
    assert!(cookie.contains("SameSite=Lax"), "a link from another site carries it: {cookie}");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    first.kill().await.unwrap();

    let _second = run(addr, &dir).await;
    // The user's budget (3 a minute) spent by guesses from three other addresses.
    for from in [at(2), at(3), at(4), at(5)] {
        let wrong = basic("admin", "a guess");
        get_from(from, addr, "/api/ws-ticket", &[("Authorization", &wrong)]).await;
    }
    let (status, _) = get_from(at(21), addr, "/", &[("Authorization", &right)]).await;
    assert_eq!(status, 429, "the user is blocked for clients without a device cookie");
    let (status, _) = get_from(at(20), addr, "/", &[("Authorization", &right), ("Cookie", &cookie)]).await;
    assert_eq!(status, 200, "the browser that logged in before the restart keeps its own budget");
    let _ = std::fs::remove_dir_all(&dir);
}
