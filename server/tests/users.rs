//! The users file against a real server: bad files stop start-up with the line named, a reload
//! brings new accounts in and closes the sockets of removed users, and SIGHUP to the real binary
//! reloads it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use livedash_server::auth::password::hash_password;
use livedash_server::config::{Config, UsersSource};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use common::{basic, get};

fn config_with_file(path: &std::path::Path) -> Config {
    let mut config = common::test_config("unused");
    config.users = UsersSource::File(path.to_owned());
    config
}

#[tokio::test]
async fn a_bad_users_file_stops_start_up_naming_the_line_not_the_hash() {
    let dir = common::temp_dir("bad-users");
    let path = dir.join("users");
    let good = hash_password("pw");
    std::fs::write(&path, format!("# team\nalice:{good}\nbob:{{SHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = livedash_server::start(&config_with_file(&path), listener).err().expect("refused").to_string();
    assert!(err.contains("line 3"), "{err}");
    assert!(!err.contains("W6ph5Mm5"), "the hash leaked: {err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn reload_adds_users_and_closes_sockets_of_removed_ones() {
    let dir = common::temp_dir("reload");
    let path = dir.join("users");
    let bob_line = format!("bob:{}", hash_password("b-pw"));
    std::fs::write(&path, format!("alice:{}\n{bob_line}\n", hash_password("a-pw"))).unwrap();
    let server = common::start_with(config_with_file(&path)).await;
    assert_eq!(get(server.addr, "/api/snapshot", &[("Authorization", &basic("alice", "a-pw"))]).await.status, 200);
    assert_eq!(get(server.addr, "/api/snapshot", &[("Authorization", &basic("carol", "c-pw"))]).await.status, 401);

    let mut sockets = Vec::new();
    for (user, pass) in [("alice", "a-pw"), ("bob", "b-pw")] {
        let mut req = format!("ws://{}/ws", server.addr).into_client_request().unwrap();
        req.headers_mut().insert("Authorization", HeaderValue::from_str(&basic(user, pass)).unwrap());
        sockets.push(tokio_tungstenite::connect_async(req).await.expect("upgrade").0);
    }
    // Alice is removed, Bob's line stays as it was, Carol arrives.
    std::fs::write(&path, format!("{bob_line}\ncarol:{}\n", hash_password("c-pw"))).unwrap();
    livedash_server::reload_users(&server.auth, &path).expect("reload");

    let alice = &mut sockets[0];
    let code = common::close_code(alice).await;
    assert_eq!(code, Some(CloseCode::Policy));
    // Bob's socket goes on.
    let bob = &mut sockets[1];
    let mut texts = 0;
    while texts < 3 {
        match tokio::time::timeout(Duration::from_secs(5), bob.next()).await.expect("bob keeps receiving") {
            Some(Ok(Message::Text(_))) => texts += 1,
            Some(Ok(Message::Ping(_))) => {}
            other => panic!("bob got {other:?}"),
        }
    }
    assert_eq!(get(server.addr, "/api/snapshot", &[("Authorization", &basic("alice", "a-pw"))]).await.status, 401);
    assert_eq!(get(server.addr, "/api/snapshot", &[("Authorization", &basic("carol", "c-pw"))]).await.status, 200);

    // A broken file keeps the accounts in force.
    std::fs::write(&path, "carol:plaintext\n").unwrap();
    assert!(livedash_server::reload_users(&server.auth, &path).is_err());
    assert_eq!(get(server.addr, "/api/snapshot", &[("Authorization", &basic("carol", "c-pw"))]).await.status, 200);
    server.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_password_change_voids_tickets_and_device_cookies_issued_before() {
    let dir = common::temp_dir("revoke");
    let path = dir.join("users");
    std::fs::write(&path, format!("alice:{}\n", hash_password("old-pw"))).unwrap();
    let server = common::start_with(config_with_file(&path)).await;
    let old = basic("alice", "old-pw");
    let ticket_response = get(server.addr, "/api/ws-ticket", &[("Authorization", &old)]).await;
    let ticket: String = serde_json::from_str(&ticket_response.body).unwrap();
    let cookie = ticket_response.header("set-cookie").expect("a device cookie").split(';').next().unwrap().to_owned();

    std::fs::write(&path, format!("alice:{}\n", hash_password("new-pw"))).unwrap();
    livedash_server::reload_users(&server.auth, &path).expect("reload");
    // Before: the ticket minted under the old password still opened a socket.
    assert_eq!(common::handshake(server.addr, &format!("/ws?ticket={ticket}"), &[]).await.status, 401);
    // The new password works, and the old device cookie is no cookie: the browser gets a new one.
    let new = basic("alice", "new-pw");
    let r = get(server.addr, "/api/ws-ticket", &[("Authorization", &new), ("Cookie", &cookie)]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("set-cookie").is_some_and(|c| !c.starts_with(&cookie)), "a fresh cookie for the new password");
    server.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_users_file_of_the_real_binary() {
    let dir = common::temp_dir("sighup");
    let path = dir.join("users");
    std::fs::write(&path, format!("alice:{}\n", hash_password("old-pw"))).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
        .args(["--listen", &addr.to_string(), "--users-file"])
        .arg(&path)
        .arg("--data-dir")
        .arg(common::temp_dir("users-binary"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn livedash");
    let mut up = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the binary did not start listening");
    assert_eq!(get(addr, "/api/snapshot", &[("Authorization", &basic("alice", "old-pw"))]).await.status, 200);

    std::fs::write(&path, format!("alice:{}\n", hash_password("new-pw"))).unwrap();
    let pid = child.id().expect("pid").to_string();
    let status = std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill");
    assert!(status.success());
    let mut reloaded = false;
    for _ in 0..50 {
        if get(addr, "/api/snapshot", &[("Authorization", &basic("alice", "new-pw"))]).await.status == 200 {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reloaded, "the new password never worked");
    assert_eq!(get(addr, "/api/snapshot", &[("Authorization", &basic("alice", "old-pw"))]).await.status, 401);

    // SIGTERM stops it promptly.
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(6), child.wait()).await.expect("exits within 6 s").unwrap();
    assert!(exit.success(), "{exit:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
