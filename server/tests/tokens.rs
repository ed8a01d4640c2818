//! API tokens against the real binary: `livedash token create` writes the store file while the
//! server runs and the server honours the new token at once, as `Authorization: Bearer` and as the
//! Basic password of its own user only; a viewer token is refused a write; an expired token and
//! one revoked by the command stop; the list shows when each was last used; a token above its
//! user's role is never made; the kiosk URL trades a token for a session cookie.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{PASSWORD, basic, free_addr, get, livedash, post, temp_dir, wait_listening};

/// A users file with `ann` (admin) and `vic` (viewer), both with the test password.
fn users(dir: &Path) -> PathBuf {
    use livedash_server::auth::password::hash_password;
    let path = dir.join("users");
    let hash = hash_password(PASSWORD);
    std::fs::write(&path, format!("ann:{hash}\nvic:{hash}:viewer\n")).expect("users");
    path
}

/// `livedash token ARGS` on the store of `dir`: (exit success, stdout, stderr).
async fn token_cli(dir: &Path, args: &[&str]) -> (bool, String, String) {
    common::token_cli(args, &common::data_dir_options(dir)).await
}

async fn create(dir: &Path, args: &[&str]) -> String {
    let (ok, out, err) = token_cli(dir, &[&["create"], args].concat()).await;
    assert!(ok, "token create {args:?}: {err}");
    assert!(out.starts_with("ldt_") && !out.contains('\n'), "only the token on stdout: {out:?}");
    out
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn status(addr: std::net::SocketAddr, authorization: &str) -> u16 {
    get(addr, "/api/snapshot", &[("Authorization", authorization)]).await.status
}

/// Waits (polling, 10 s at most) until `f` holds.
async fn until<F: AsyncFnMut() -> bool>(mut f: F) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Stops the server with SIGTERM (it writes what its store was handed) and waits for it.
async fn stop(mut child: tokio::process::Child) {
    let pid = child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("stops").expect("exit status");
}

#[tokio::test]
async fn tokens_made_by_the_command_work_until_they_expire_or_are_revoked() {
    let dir = temp_dir("tokens-cli");
    let users = users(&dir);
    let addr = free_addr();
    let server = livedash(addr, &dir).arg("--users-file").arg(&users).spawn().expect("spawn");
    assert!(wait_listening(addr, Duration::from_secs(20)).await, "the server did not come up");

    // Made while the server runs: honoured on first use, as Bearer and as ann's Basic password.
    let admin = create(&dir, &["--user", "ann", "--name", "deploy script"]).await;
    assert_eq!(status(addr, &bearer(&admin)).await, 200);
    assert_eq!(status(addr, &basic("ann", &admin)).await, 200);
    assert_eq!(status(addr, &basic("vic", &admin)).await, 401, "another user's name with the token");
    assert_eq!(status(addr, &bearer(&format!("{admin}x"))).await, 401);
    assert_eq!(status(addr, &bearer("ldt_not-a-token")).await, 401);

    // The audit log (the file in the data directory) has its making and its first use of the day,
    // never the token.
    let logged = async || std::fs::read_to_string(dir.join("audit.log")).unwrap_or_default();
    assert!(until(async || logged().await.contains("\"token_use\"")).await, "{}", logged().await);
    let log = logged().await;
    assert!(log.contains("\"token_create\"") && log.contains("deploy script"), "{log}");
    assert!(!log.contains(&admin), "no token in the audit log");

    // A viewer token cannot write, an admin one may try (the rule is unknown: not a 403).
    let viewer = create(&dir, &["--user", "ann", "--role", "viewer", "--name", "wall"]).await;
    let json = "application/json";
    let ack = r#"{"rule":"nope","comment":"x"}"#;
    let r = post(addr, "/api/alerts/ack", json, ack, &[("Authorization", &bearer(&viewer))]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = post(addr, "/api/alerts/ack", json, ack, &[("Authorization", &bearer(&admin))]).await;
    assert_ne!(r.status, 403, "{}", r.body);

    // Never above the user's role.
    let (ok, _, err) = token_cli(&dir, &["create", "--user", "vic", "--role", "admin"]).await;
    assert!(!ok && err.contains("viewer"), "{err}");
    let (ok, _, err) = token_cli(&dir, &["create", "--user", "nobody"]).await;
    assert!(!ok && err.contains("nobody"), "{err}");

    // Expiry.
    let short = create(&dir, &["--user", "ann", "--expires", "2s"]).await;
    assert_eq!(status(addr, &bearer(&short)).await, 200);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(status(addr, &bearer(&short)).await, 401, "expired");

    // The list shows each token and when it was last used (written by the server).
    let listed = async || token_cli(&dir, &["list"]).await.1;
    let line_of = |list: &str, name: &str| list.lines().find(|l| l.ends_with(name)).map(str::to_owned);
    assert!(
        until(async || line_of(&listed().await, "deploy script").is_some_and(|l| l.matches("UTC").count() == 2)).await,
        "created and last used: {}",
        listed().await
    );
    let wall = line_of(&listed().await, "wall").expect("listed");
    let id = wall.split_whitespace().next().expect("an id").to_owned();

    // A socket opened with the token (and one with the other token) before it is revoked.
    let socket = async |token: &str| {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{addr}/ws").into_client_request().expect("request");
        request.headers_mut().insert("authorization", bearer(token).parse().expect("header"));
        tokio_tungstenite::connect_async(request).await.expect("upgrade").0
    };
    let (mut walls, mut admins) = (socket(&viewer).await, socket(&admin).await);

    // Revoked by the command: stops on the running server within seconds.
    let (ok, out, err) = token_cli(&dir, &["revoke", &id[..8]]).await;
    assert!(ok, "{err}");
    assert!(out.contains(&id), "{out}");
    assert!(until(async || status(addr, &bearer(&viewer)).await == 401).await, "revoked by the command");
    assert_eq!(status(addr, &bearer(&admin)).await, 200, "the other token is untouched");
    // Its open socket closes too (before: it stayed open until the user went), the other's not.
    let code = tokio::time::timeout(Duration::from_secs(3), common::close_code(&mut walls)).await.expect("closed");
    assert_eq!(code, Some(tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Policy));
    let still = tokio::time::timeout(Duration::from_millis(1500), async {
        use futures_util::StreamExt;
        loop {
            match admins.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) | None => return false,
                Some(Ok(_)) => {}
                Some(Err(_)) => return false,
            }
        }
    })
    .await
    .is_err();
    assert!(still, "the other token's socket stays open");
    assert!(line_of(&listed().await, "wall").is_none());

    // A restart keeps them (only the hash is in the file).
    stop(server).await;
    let db = std::fs::read(dir.join("history.db")).expect("the store");
    assert!(!db.windows(admin.len()).any(|w| w == admin.as_bytes()), "the token itself is not kept");
    let mut server = livedash(addr, &dir).arg("--users-file").arg(&users).spawn().expect("spawn");
    assert!(wait_listening(addr, Duration::from_secs(20)).await);
    assert_eq!(status(addr, &bearer(&admin)).await, 200, "known after a restart");
    assert_eq!(status(addr, &bearer(&viewer)).await, 401, "still revoked after a restart");
    server.kill().await.expect("kill");
}

#[tokio::test]
async fn a_kiosk_url_trades_a_token_for_a_session_and_drops_the_token_from_the_address() {
    let dir = temp_dir("tokens-kiosk");
    let users = users(&dir);
    let addr = free_addr();
    let mut server = livedash(addr, &dir).arg("--users-file").arg(&users).spawn().expect("spawn");
    assert!(wait_listening(addr, Duration::from_secs(20)).await, "the server did not come up");
    let token = create(&dir, &["--user", "ann", "--role", "viewer", "--name", "hall screen"]).await;

    let r = get(addr, &format!("/login/token?token={token}&next=/alerts"), &[("Sec-Fetch-Site", "none")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/alerts"));
    let cookie = r.header("set-cookie").expect("a session cookie").to_owned();
    assert!(cookie.starts_with("livedash_session=") && cookie.contains("HttpOnly") && cookie.contains("Max-Age="));
    let session = cookie.split(';').next().expect("name=value").to_owned();
    let page = get(addr, "/alerts", &[("Cookie", &session)]).await;
    assert_eq!(page.status, 200, "the session opens the page: {}", page.body);
    assert!(page.body.contains("read-only"), "with the token's role");

    // Elsewhere than a typed address, a bad token, an open redirect.
    let r = get(addr, &format!("/login/token?token={token}"), &[("Sec-Fetch-Site", "cross-site")]).await;
    assert_eq!(r.status, 403, "a link from another site");
    let r = get(addr, "/login/token?token=ldt_nope", &[]).await;
    assert_eq!(r.status, 401);
    assert!(r.header("set-cookie").is_none());
    let r = get(addr, &format!("/login/token?token={token}&next=//evil.example"), &[]).await;
    assert_eq!(r.header("location"), Some("/"));
    server.kill().await.expect("kill");
}
