//! Sessions across a cluster: two instances on a real redis-server behind a real nginx round robin
//! (the README's block, as end2end/nginx-cluster.sh runs it). A session made on one instance is
//! honoured by the other with no sticky sessions; its end on one instance ends it on both, and its
//! sockets on both close within a second.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::cluster::{counting_upstream, instance};
use common::redis_server::Redis;
use common::{Response, get, post, start_with, temp_dir, wait_listening};
use livedash_server::Running;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const FORM: &str = "application/x-www-form-urlencoded";

/// nginx in the foreground in front of `backends` (round robin, WebSockets passed on), stopped by
/// its process id when dropped.
struct Nginx {
    addr: SocketAddr,
    child: Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    /// nginx for `backends`, or `None` (with a note) when it is not installed and not required.
    async fn start(name: &str, backends: [SocketAddr; 2]) -> Option<Self> {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().find(|p| Path::new(p).exists());
        #[allow(clippy::print_stderr)] // a skipped test says why where cargo shows it
        let Some(binary) = binary else {
            assert!(
                std::env::var_os("LIVEDASH_REQUIRE_REDIS").is_none_or(|v| v != "1"),
                "nginx is not installed (scripts/setup.sh --tests installs it)"
            );
            eprintln!("skipped: nginx is not installed (scripts/setup.sh --tests installs it)");
            return None;
        };
        let dir = temp_dir(name);
        std::fs::create_dir_all(dir.join("tmp")).expect("nginx's temporary directory");
        let addr = common::free_addr();
        let d = dir.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log stderr warn;\n\
             events {{ worker_connections 256; }}\nhttp {{\n    access_log off;\n    client_body_temp_path {d}/tmp/body;\n\
             proxy_temp_path {d}/tmp/proxy;\n    fastcgi_temp_path {d}/tmp/fastcgi;\n    uwsgi_temp_path {d}/tmp/uwsgi;\n\
             scgi_temp_path {d}/tmp/scgi;\n    upstream livedash {{ server {}; server {}; }}\n    server {{\n\
             listen {addr};\n        location / {{\n            proxy_pass http://livedash;\n\
             proxy_http_version 1.1;\n            proxy_set_header Upgrade $http_upgrade;\n\
             proxy_set_header Connection \"upgrade\";\n            proxy_set_header Host $host;\n\
             proxy_read_timeout 120s;\n        }}\n    }}\n}}\n",
            backends[0], backends[1]
        );
        std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
        let child = Command::new(binary)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg("stderr")
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let nginx = Self { addr, child };
        assert!(wait_listening(addr, Duration::from_secs(10)).await, "nginx listens");
        Some(nginx)
    }
}

/// Logs in as a script does (`POST /login` on `addr`): the session cookie (`name=value`).
async fn log_in(addr: SocketAddr) -> String {
    let body = format!("username=admin&password={}", common::PASSWORD.replace(' ', "+"));
    let r = post(addr, "/login", FORM, &body, &[]).await;
    assert!(r.status == 204 || r.status == 303, "logged in: {} {}", r.status, r.body);
    r.header("set-cookie").expect("a session cookie").split(';').next().unwrap().trim().to_owned()
}

/// `POST /logout` (with `query`) from the site's own page, on `addr`.
async fn log_out(addr: SocketAddr, cookie: &str, query: &str) {
    let headers = [("Cookie", cookie), ("Sec-Fetch-Site", "same-origin")];
    let r = post(addr, &format!("/logout{query}"), FORM, "", &headers).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

/// Which instance of `instances` holds the session of `cookie` in memory (the one that made it).
fn maker(instances: [&Running; 2], cookie: &str) -> Option<usize> {
    let secret = cookie.split_once('=')?.1;
    let handle = livedash_server::auth::principal::Handle::of(secret.as_bytes());
    instances.iter().position(|i| i.gate.sessions.is_live(handle))
}

async fn with_cookie(addr: SocketAddr, path: &str, cookie: &str) -> Response {
    get(addr, path, &[("Cookie", cookie)]).await
}

/// Whether `addr` refuses the cookie within a second (the end travels through Redis).
async fn refused_within_a_second(addr: SocketAddr, cookie: &str) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_millis(1500);
    while std::time::Instant::now() < deadline {
        if with_cookie(addr, "/api/snapshot", cookie).await.status == 401 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A socket opened on `addr` with the session cookie `cookie`.
async fn session_socket(addr: SocketAddr, cookie: &str) -> common::upstream::Socket {
    let mut request = format!("ws://{addr}/ws").into_client_request().expect("request");
    request.headers_mut().insert("Cookie", HeaderValue::from_str(cookie).expect("ascii"));
    tokio_tungstenite::connect_async(request).await.expect("upgrade").0
}

/// The close code of `socket` if it closes within `within`.
async fn closed_within(socket: &mut common::upstream::Socket, within: Duration) -> Option<CloseCode> {
    tokio::time::timeout(within, common::close_code(socket)).await.ok().flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_made_on_one_instance_is_honoured_by_both_and_its_end_on_one_closes_its_sockets_on_both() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let a = start_with(instance(&redis, "sessions", upstream)).await;
    let b = start_with(instance(&redis, "sessions", upstream)).await;
    let Some(nginx) = Nginx::start("cluster-sessions-nginx", [a.addr, b.addr]).await else { return };

    // Logged in through the round robin: one instance makes the session.
    let cookie = log_in(nginx.addr).await;
    let made_by = maker([&a, &b], &cookie).expect("one instance made it");
    let other = [&a, &b][1 - made_by];
    // The other instance knows it from Redis alone, and the round robin needs no stickiness.
    assert_eq!(with_cookie(other.addr, "/api/snapshot", &cookie).await.status, 200, "honoured by the other");
    for i in 0..4 {
        let r = with_cookie(nginx.addr, "/api/snapshot", &cookie).await;
        assert_eq!(r.status, 200, "request {i} through the round robin: {}", r.body);
    }
    // A ticket the making instance issues opens a socket on the other (the page's way).
    let ticket = with_cookie([&a, &b][made_by].addr, "/api/ws-ticket", &cookie).await;
    assert_eq!(ticket.status, 200, "{}", ticket.body);
    let ticket: String = serde_json::from_str(&ticket.body).expect("a JSON string");
    let (mut by_ticket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?ticket={ticket}", other.addr)).await.expect("upgrade");
    assert!(with_cookie(b.addr, "/api/snapshot", "livedash_session=forged").await.status == 401);

    let mut on_a = session_socket(a.addr, &cookie).await;
    let mut on_b = session_socket(b.addr, &cookie).await;
    let mut through_nginx = session_socket(nginx.addr, &cookie).await;

    // Logged out through the round robin, on either instance.
    log_out(nginx.addr, &cookie, "").await;
    let margin = Duration::from_millis(1500);
    assert_eq!(closed_within(&mut on_a, margin).await, Some(CloseCode::Policy), "A's socket closes");
    assert_eq!(closed_within(&mut on_b, margin).await, Some(CloseCode::Policy), "B's socket closes within a second");
    assert_eq!(closed_within(&mut through_nginx, margin).await, Some(CloseCode::Policy), "and the proxied one");
    assert_eq!(closed_within(&mut by_ticket, margin).await, Some(CloseCode::Policy), "and the ticket's");
    assert_eq!(with_cookie(b.addr, "/api/snapshot", &cookie).await.status, 401, "ended on B too");
    for i in 0..4 {
        let r = with_cookie(nginx.addr, "/api/ws-ticket", &cookie).await;
        assert_eq!(r.status, 401, "request {i} through the round robin after the logout");
    }
    drop(nginx);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn log_out_everywhere_on_one_instance_ends_the_sessions_made_on_the_other() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let a = start_with(instance(&redis, "everywhere", upstream)).await;
    let b = start_with(instance(&redis, "everywhere", upstream)).await;
    let on_a_cookie = log_in(a.addr).await;
    let on_b_cookie = log_in(b.addr).await;
    // Revoked from A's Sessions view: a session A never saw.
    let revoked = log_in(b.addr).await;
    let handle = livedash_server::auth::principal::Handle::of(revoked.split_once('=').unwrap().1.as_bytes());
    let ended = a.gate.sessions.end(handle, livedash_server::auth::session::EndReason::Revoked).await;
    assert!(ended.is_some(), "A ends a session made on B");
    assert!(refused_within_a_second(b.addr, &revoked).await, "and B refuses it");
    assert_eq!(a.gate.sessions.list(Some("admin")).await.len(), 2, "A lists the session made on B (the Sessions view)");
    let mut socket = session_socket(b.addr, &on_b_cookie).await;
    log_out(a.addr, &on_a_cookie, "?everywhere=1").await;
    assert_eq!(closed_within(&mut socket, Duration::from_millis(1500)).await, Some(CloseCode::Policy));
    for (cookie, addr) in [(&on_a_cookie, b.addr), (&on_b_cookie, b.addr), (&on_b_cookie, a.addr)] {
        assert!(refused_within_a_second(addr, cookie).await);
    }
    a.stop().await;
    b.stop().await;
}
