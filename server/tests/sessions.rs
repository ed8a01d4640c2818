//! Sessions and the authentication layer against the real binary: a session survives a restart
//! (kept in the history store), ends when idle past a short configured timeout, and once ended
//! (logout, expiry, a password change) is refused everywhere, `/ws` and `/api/ws-ticket`
//! included, its sockets closing within a second; a browser's navigation without a session is sent
//! to the login form while curl gets 401; `--login basic` keeps the Basic challenge.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{PASSWORD, Response, basic, get, post};
use livedash_server::auth::password::hash_password;
use tokio::process::Child;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const FORM: &str = "application/x-www-form-urlencoded";
const NAVIGATE: [(&str, &str); 2] = [("Sec-Fetch-Mode", "navigate"), ("Accept", "text/html")];

/// The binary on `addr` with the data directory `dir` (its store inside), the users file
/// `dir/users` (admin with the test password), and `extra` arguments; killed when dropped.
async fn serve(addr: SocketAddr, dir: &Path, extra: &[&str]) -> Child {
    let users = dir.join("users");
    if !users.exists() {
        std::fs::write(&users, format!("admin:{}\n", hash_password(PASSWORD))).unwrap();
    }
    let child = common::livedash(addr, dir).arg("--users-file").arg(&users).args(extra).spawn().expect("start");
    assert!(common::wait_listening(addr, Duration::from_secs(30)).await, "the binary listens");
    child
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args([name, &pid]).status().expect("kill").success());
}

/// Stops the binary with SIGTERM (what it handed the store is written) and waits for it.
async fn stop(mut child: Child) {
    signal(&child, "-TERM");
    tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("stops").expect("exit status");
}

/// Logs in as a script does (`POST /login`): the session cookie (`name=value`).
async fn log_in(addr: SocketAddr) -> String {
    let body = format!("username=admin&password={}", PASSWORD.replace(' ', "+"));
    let r = post(addr, "/login", FORM, &body, &[]).await;
    assert!(r.status == 204 || r.status == 303, "logged in: {} {}", r.status, r.body);
    let set = r.header("set-cookie").expect("a session cookie");
    let pair = set.split(';').next().unwrap().trim().to_owned();
    assert!(pair.starts_with("livedash_session=") && pair.len() > 40, "{set}");
    pair
}

async fn with_cookie(addr: SocketAddr, path: &str, cookie: &str) -> Response {
    get(addr, path, &[("Cookie", cookie)]).await
}

/// A socket opened with the session cookie, or the refusal's status.
async fn cookie_socket(addr: SocketAddr, cookie: &str) -> Result<common::upstream::Socket, u16> {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    request.headers_mut().insert("Cookie", HeaderValue::from_str(cookie).unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// A socket opened with a ticket fetched by the session (as the page does).
async fn ticket_socket(addr: SocketAddr, cookie: &str) -> common::upstream::Socket {
    let r = with_cookie(addr, "/api/ws-ticket", cookie).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ticket: String = serde_json::from_str(&r.body).unwrap();
    let (socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?ticket={ticket}")).await.expect("upgrade");
    socket
}

async fn closes_within_a_second(socket: &mut common::upstream::Socket) -> Option<CloseCode> {
    // A second, and a margin for a loaded machine.
    tokio::time::timeout(Duration::from_millis(1500), common::close_code(socket)).await.ok().flatten()
}

/// Everything a dead session's cookie must be refused on: the API, a ticket, the socket, and a
/// page (sent to the login form).
async fn refused_everywhere(addr: SocketAddr, cookie: &str) {
    assert_eq!(with_cookie(addr, "/api/snapshot", cookie).await.status, 401);
    assert_eq!(with_cookie(addr, "/api/ws-ticket", cookie).await.status, 401);
    assert_eq!(cookie_socket(addr, cookie).await.err(), Some(401), "/ws");
    let page = get(addr, "/", &[("Cookie", cookie), NAVIGATE[0], NAVIGATE[1]]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/login?next=/"));
}

fn dir(name: &str) -> PathBuf {
    common::temp_dir(name)
}

#[tokio::test]
async fn a_session_survives_a_restart_and_its_pages_are_not_cached() {
    let (addr, dir) = (common::free_addr(), dir("sessions-restart"));
    let child = serve(addr, &dir, &[]).await;
    let cookie = log_in(addr).await;
    let r = with_cookie(addr, "/api/snapshot", &cookie).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    stop(child).await;
    let child = serve(addr, &dir, &[]).await;
    assert_eq!(with_cookie(addr, "/api/snapshot", &cookie).await.status, 200, "kept in the store");
    assert_eq!(with_cookie(addr, "/api/snapshot", "livedash_session=forged").await.status, 401);
    stop(child).await;
}

#[tokio::test]
async fn a_session_idle_past_its_timeout_ends_and_its_socket_closes() {
    let (addr, dir) = (common::free_addr(), dir("sessions-idle"));
    let _child = serve(addr, &dir, &["--session-idle", "2s"]).await;
    let cookie = log_in(addr).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(with_cookie(addr, "/api/snapshot", &cookie).await.status, 200, "each use keeps it alive");
    }
    let idle = log_in(addr).await;
    let mut socket = cookie_socket(addr, &idle).await.expect("opens");
    // Idle for 2 s, then swept within a second: closed within 3 s, 4 with a margin.
    let closed = tokio::time::timeout(Duration::from_secs(4), common::close_code(&mut socket)).await;
    assert_eq!(closed.ok().flatten(), Some(CloseCode::Policy), "its socket closes when it expires");
    refused_everywhere(addr, &idle).await;
    assert_eq!(with_cookie(addr, "/api/snapshot", &cookie).await.status, 401, "unused for 3 s too");
}

#[tokio::test]
async fn a_logged_out_session_is_refused_everywhere_and_its_sockets_close_within_a_second() {
    let (addr, dir) = (common::free_addr(), dir("sessions-logout"));
    let _child = serve(addr, &dir, &[]).await;
    let cookie = log_in(addr).await;
    let other = log_in(addr).await;
    let mut by_cookie = cookie_socket(addr, &cookie).await.expect("a session opens /ws with its cookie");
    let mut by_ticket = ticket_socket(addr, &cookie).await;
    let mut others = ticket_socket(addr, &other).await;
    let unused = with_cookie(addr, "/api/ws-ticket", &cookie).await;
    let unused: String = serde_json::from_str(&unused.body).unwrap();
    let out = post(addr, "/logout", FORM, "", &[("Cookie", &cookie), ("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(closes_within_a_second(&mut by_cookie).await, Some(CloseCode::Policy));
    assert_eq!(closes_within_a_second(&mut by_ticket).await, Some(CloseCode::Policy));
    refused_everywhere(addr, &cookie).await;
    let r = common::handshake(addr, &format!("/ws?ticket={unused}"), &[]).await;
    assert_eq!(r.status, 401, "a ticket issued to the session before its end");
    // Another session of the same user goes on.
    assert_eq!(with_cookie(addr, "/api/snapshot", &other).await.status, 200);
    let still = tokio::time::timeout(Duration::from_millis(300), common::close_code(&mut others)).await;
    assert!(still.is_err(), "the other session's socket stays open");
}

#[tokio::test]
async fn a_password_change_ends_the_users_sessions() {
    let (addr, dir) = (common::free_addr(), dir("sessions-password"));
    let child = serve(addr, &dir, &[]).await;
    let cookie = log_in(addr).await;
    let mut socket = ticket_socket(addr, &cookie).await;
    std::fs::write(dir.join("users"), format!("admin:{}\n", hash_password("a new password"))).unwrap();
    signal(&child, "-HUP");
    assert_eq!(closes_within_a_second(&mut socket).await, Some(CloseCode::Policy));
    refused_everywhere(addr, &cookie).await;
    let r = get(addr, "/api/snapshot", &[("Authorization", &basic("admin", "a new password"))]).await;
    assert_eq!(r.status, 200, "Basic with the new password");
}

#[tokio::test]
async fn a_browser_is_sent_to_the_login_form_and_a_script_gets_401() {
    let (addr, dir) = (common::free_addr(), dir("sessions-redirect"));
    let _child = serve(addr, &dir, &[]).await;
    let page = get(addr, "/chart?series=cpu.total&range=1h", &NAVIGATE).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/login?next=/chart%3Fseries%3Dcpu.total%26range%3D1h"));
    let old_browser = get(addr, "/alerts", &[("Accept", "text/html,application/xhtml+xml")]).await;
    assert_eq!(old_browser.status, 303, "no Sec-Fetch headers, but a GET for HTML");
    let fetch = get(addr, "/api/snapshot", &[("Sec-Fetch-Mode", "cors"), ("Accept", "text/html")]).await;
    assert_eq!(fetch.status, 401, "a script of the page is not navigated away");
    let curl = get(addr, "/", &[("Accept", "*/*")]).await;
    assert_eq!(curl.status, 401);
    assert!(curl.header("www-authenticate").is_some_and(|v| v.starts_with("Basic realm=")));
    let r = get(addr, "/api/snapshot", &[("Authorization", &basic("admin", PASSWORD))]).await;
    assert_eq!(r.status, 200, "Basic keeps working");
    let r = get(addr, "/api/snapshot", &[("Authorization", "Bearer ldt_not-a-token")]).await;
    assert_eq!(r.status, 401, "an unknown token is refused like a wrong password");
}

#[tokio::test]
async fn under_a_base_path_the_login_form_and_next_are_under_it_too() {
    let (addr, dir) = (common::free_addr(), dir("sessions-base"));
    let public = format!("--public-url=http://{addr}/dash");
    let _child = serve(addr, &dir, &[&public]).await;
    let page = get(addr, "/dash/alerts?rule=busy", &NAVIGATE).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/dash/login?next=/dash/alerts%3Frule%3Dbusy"));
}

#[tokio::test]
async fn login_basic_keeps_the_basic_challenge_for_browsers() {
    let (addr, dir) = (common::free_addr(), dir("sessions-basic"));
    let _child = serve(addr, &dir, &["--login", "basic"]).await;
    let page = get(addr, "/", &NAVIGATE).await;
    assert_eq!(page.status, 401, "no redirect: the browser's own dialog");
    assert!(page.header("www-authenticate").is_some_and(|v| v.starts_with("Basic realm=")));
    let r = get(addr, "/", &[("Authorization", &basic("admin", PASSWORD)), NAVIGATE[0], NAVIGATE[1]]).await;
    assert_eq!(r.status, 200);
    assert_eq!(with_cookie(addr, "/api/snapshot", "livedash_session=anything").await.status, 401);
}

#[tokio::test]
async fn an_api_token_works_as_bearer_on_the_api_and_the_socket() {
    let (addr, dir) = (common::free_addr(), dir("sessions-bearer"));
    let _child = serve(addr, &dir, &[]).await;
    let (ok, token, err) = common::token_cli(&["create", "--user", "admin"], &common::data_dir_options(&dir)).await;
    assert!(ok, "{err}");
    let bearer = format!("Bearer {token}");
    // The running server finds a token made a moment ago (it reads the store again on a miss).
    let mut status = 0;
    for _ in 0..50 {
        status = get(addr, "/api/snapshot", &[("Authorization", &bearer)]).await.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "Bearer");
    let handshake = common::handshake(addr, "/ws", &[("Authorization", &bearer)]).await;
    assert_eq!(handshake.status, 101, "the socket takes a token too");
    assert_eq!(get(addr, "/api/snapshot", &[("Authorization", &basic("admin", &token))]).await.status, 200);
    assert_eq!(get(addr, "/api/snapshot", &[("Authorization", &basic("root", &token))]).await.status, 401);
}

#[tokio::test]
async fn a_wall_clock_jump_neither_ends_nor_extends_a_session() {
    if !common::faketime::present() {
        return;
    }
    let (addr, dir) = (common::free_addr(), dir("sessions-clock"));
    std::fs::write(dir.join("users"), format!("admin:{}\n", hash_password(PASSWORD))).unwrap();
    let offset = dir.join("faketime");
    std::fs::write(&offset, "+0\n").unwrap();
    let mut command = common::livedash(addr, &dir);
    command.arg("--users-file").arg(dir.join("users")).args(["--session-idle", "3s"]);
    let _child = common::faketime::offset_by(&mut command, &offset).spawn().unwrap();
    assert!(common::wait_listening(addr, Duration::from_secs(30)).await);
    let cookie = log_in(addr).await;
    // Eight days ahead: past the idle timeout and the 7-day lifetime by the wall clock.
    std::fs::write(&offset, "+8d\n").unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(with_cookie(addr, "/api/snapshot", &cookie).await.status, 200, "not ended by the jump ahead");
    // A day back: the session's labels now lie in the future; it still ends 3 s after its last use.
    std::fs::write(&offset, "-1d\n").unwrap();
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert_eq!(with_cookie(addr, "/api/snapshot", &cookie).await.status, 401, "not extended by the jump back");
}

#[test]
fn a_bad_session_duration_or_login_mode_stops_start_up_naming_it() {
    let dir = dir("sessions-config");
    for (args, named) in [(vec!["--login", "oauth"], "--login"), (vec!["--session-idle", "soon"], "--session-idle")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .args(&args)
            .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains(named), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let file = dir.join("livedash.toml");
    std::fs::write(&file, "session_lifetime = \"forever\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .arg("--config")
        .arg(&file)
        .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("session_lifetime"));
}
