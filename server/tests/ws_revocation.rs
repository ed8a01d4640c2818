//! A socket outlives no revocation, even one that lands while its `hello` is still being sent,
//! against the real binary. Each socket here reads its handshake and the first bytes of its hello,
//! then stops reading (a small receive buffer, and a hello far larger than what the two ends'
//! buffers can hold, so the server's send of it really blocks); the users file changes and the
//! binary gets SIGHUP (or the session logs out); then the reader resumes. Its socket must close
//! with 1008 within a second of the hello's last byte: Basic, a ticket, an API token, the session
//! cookie and a session's ticket, for a changed password, a removed user and an ended session.
//! Another user's socket stays open. A reader that keeps reading, only slower than the frames
//! come, is closed too.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::stalled::{Fate, Stalled};
use common::upstream::{Mode, upstream};
use common::{basic, get_from, post};
use livedash_server::auth::password::hash_password;
use tokio::process::Child;

/// How much history the binary holds before the sockets open: a hello of that size.
const HISTORY: usize = 10 << 20;
/// How long after the hello's last byte the close may take: a second, and a margin for a loaded
/// machine.
const WITHIN: Duration = Duration::from_millis(1500);

const FORM: &str = "application/x-www-form-urlencoded";

/// The binary, fed 400 KB samples by two sources ten times a second, with the users file
/// `dir/users`; killed when dropped.
struct Server {
    addr: SocketAddr,
    dir: PathBuf,
    child: Child,
    users: UsersFile,
}

impl Server {
    async fn start(name: &str, users: &[(&str, &str)], extra: &[&str]) -> Self {
        let server = Self::spawn(name, users, "14MiB", extra).await;
        server.wait_for_history(users[0]).await;
        server
    }

    /// The binary with a history of at most `history` bytes (not waited for).
    async fn spawn(name: &str, users: &[(&str, &str)], history: &str, extra: &[&str]) -> Self {
        let (up, mode) = upstream().await;
        mode.store(Mode::Padded as u8, std::sync::atomic::Ordering::Relaxed);
        let (addr, dir) = (common::free_addr(), common::temp_dir(name));
        let file = UsersFile { path: dir.join("users"), lines: Mutex::default() };
        file.write(users);
        let child = common::livedash(addr, &dir)
            .arg("--users-file")
            .arg(dir.join("users"))
            .args(["--interval", "100ms", "--history-bytes", history])
            .args(["--source", &format!("big=http://{up}/"), "--source", &format!("big2=http://{up}/")])
            .args(extra)
            .spawn()
            .expect("start the binary");
        assert!(common::wait_listening(addr, Duration::from_secs(30)).await, "the binary listens");
        Self { addr, dir, child, users: file }
    }

    /// Waits until the history holds [`HISTORY`] bytes (the hello is then as large).
    async fn wait_for_history(&self, (user, password): (&str, &str)) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let auth = basic(user, password);
        loop {
            let r = common::get(self.addr, "/metrics", &[("Authorization", &auth)]).await;
            assert_eq!(r.status, 200, "{}", r.body);
            let bytes = r.body.lines().find_map(|l| l.strip_prefix("livedash_history_bytes ")).map(str::trim);
            if bytes.and_then(|b| b.parse::<f64>().ok()).is_some_and(|b| b >= HISTORY as f64) {
                return;
            }
            assert!(Instant::now() < deadline, "the history did not fill: {bytes:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Writes `users` as the users file and has the binary reload it (SIGHUP); returns once the
    /// new file is in force (`probe`, a user only the new file has, gets in).
    async fn reload(&self, users: &[(&str, &str)]) {
        let mut with_probe = users.to_vec();
        with_probe.push(("probe", "probe-pw"));
        self.users.write(&with_probe);
        let pid = self.child.id().expect("running").to_string();
        assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill").success());
        // Each try from an address of its own: a refusal before the reload spends no budget
        // that the next try needs.
        for i in 0..50u8 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let from = IpAddr::from([127, 0, 1, i + 1]);
            let (status, _) =
                get_from(from, self.addr, "/api/ws-ticket", &[("Authorization", &basic("probe", "probe-pw"))]).await;
            if status == 200 {
                return;
            }
        }
        panic!("the binary did not reload its users file");
    }

    /// A ticket for `authorization` (Basic, or a session's cookie).
    async fn ticket(&self, header: (&str, &str)) -> String {
        let r = common::get(self.addr, "/api/ws-ticket", &[header]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    }

    /// Logs `user` in by the form: the session cookie (`name=value`).
    async fn log_in(&self, user: &str, password: &str) -> String {
        let body = format!("username={user}&password={password}");
        let r = post(self.addr, "/login", FORM, &body, &[]).await;
        assert!(r.status == 204 || r.status == 303, "logged in: {} {}", r.status, r.body);
        r.header("set-cookie").expect("a session cookie").split(';').next().unwrap().trim().to_owned()
    }
}

/// The users file, each user's line hashed once: a user whose password stays keeps the very
/// same line (a hash made again has a new salt, and so a new password version).
struct UsersFile {
    path: PathBuf,
    lines: Mutex<HashMap<(String, String), String>>,
}

impl UsersFile {
    fn write(&self, users: &[(&str, &str)]) {
        let mut lines = self.lines.lock().unwrap();
        let text: String = users
            .iter()
            .map(|&(user, password)| {
                let key = (user.to_owned(), password.to_owned());
                lines.entry(key).or_insert_with(|| format!("{user}:{}\n", hash_password(password))).clone()
            })
            .collect();
        std::fs::write(&self.path, text).expect("write the users file");
    }
}

/// Every socket stalled in its hello across `revoke`, then resumed together (none waits on
/// another past the server's send timeout): their fates, by name.
async fn across(sockets: Vec<Stalled>, revoke: impl Future<Output = ()>) -> Vec<(&'static str, Fate)> {
    revoke.await;
    for socket in &sockets {
        socket.assert_still_in_the_hello();
    }
    let names: Vec<_> = sockets.iter().map(|s| s.name).collect();
    let fates = futures_util::future::join_all(sockets.into_iter().map(|s| s.resume(WITHIN))).await;
    names.into_iter().zip(fates).collect()
}

fn revoked(name: &'static str, reason: &str) -> (&'static str, Fate) {
    (name, Fate::Closed(1008, reason.to_owned()))
}

#[tokio::test]
async fn a_password_changed_during_the_hello_closes_its_basic_and_ticket_sockets() {
    let server = Server::start("revoke-changed", &[("alice", "old-pw"), ("bob", "b-pw")], &["--login", "basic"]).await;
    let old = basic("alice", "old-pw");
    let ticket = server.ticket(("Authorization", &old)).await;
    let sockets = vec![
        Stalled::open("basic", server.addr, 2, "", &[("Authorization", &old)]).await,
        Stalled::open("ticket", server.addr, 3, &format!("?ticket={ticket}"), &[]).await,
        Stalled::open("bob", server.addr, 4, "", &[("Authorization", &basic("bob", "b-pw"))]).await,
    ];
    let fates = across(sockets, server.reload(&[("alice", "new-pw"), ("bob", "b-pw")])).await;
    // Before: the pump took alice's version after the hello (the new one), so both stayed open.
    assert_eq!(fates[..2], [revoked("basic", "credentials changed"), revoked("ticket", "credentials changed")]);
    assert!(matches!(fates[2].1, Fate::Open(_)), "bob's password did not change: {:?}", fates[2]);
}

#[tokio::test]
async fn a_user_removed_during_the_hello_loses_its_basic_ticket_and_token_sockets() {
    let server = Server::start("revoke-removed", &[("alice", "a-pw"), ("bob", "b-pw")], &["--login", "basic"]).await;
    let bob = basic("bob", "b-pw");
    let ticket = server.ticket(("Authorization", &bob)).await;
    let (ok, token, err) =
        common::token_cli(&["create", "--user", "bob"], &common::data_dir_options(&server.dir)).await;
    assert!(ok, "{err}");
    let bearer = format!("Bearer {token}");
    let sockets = vec![
        Stalled::open("basic", server.addr, 2, "", &[("Authorization", &bob)]).await,
        Stalled::open("ticket", server.addr, 3, &format!("?ticket={ticket}"), &[]).await,
        Stalled::open("token", server.addr, 4, "", &[("Authorization", &bearer)]).await,
    ];
    let fates = across(sockets, server.reload(&[("alice", "a-pw")])).await;
    // Before: a removed user's version, none, equalled the none taken after the hello for ever.
    assert_eq!(
        fates,
        [
            revoked("basic", "credentials changed"),
            revoked("ticket", "credentials changed"),
            revoked("token", "credentials changed"),
        ]
    );
}

#[tokio::test]
async fn a_session_ended_during_the_hello_closes_its_sockets() {
    let users = [("alice", "old-pw"), ("carol", "c-pw")];
    let server = Server::start("revoke-session", &users, &["--login", "form"]).await;
    let alice = server.log_in("alice", "old-pw").await;
    let carol = server.log_in("carol", "c-pw").await;
    let ticket = server.ticket(("Cookie", &alice)).await;
    let sockets = vec![
        Stalled::open("alice's cookie", server.addr, 2, "", &[("Cookie", &alice)]).await,
        Stalled::open("alice's ticket", server.addr, 3, &format!("?ticket={ticket}"), &[]).await,
        Stalled::open("carol's cookie", server.addr, 4, "", &[("Cookie", &carol)]).await,
    ];
    // Alice's password changes (which ends her sessions); carol logs out.
    let revoke = async {
        server.reload(&[("alice", "new-pw"), ("carol", "c-pw")]).await;
        let out =
            post(server.addr, "/logout", FORM, "", &[("Cookie", &carol), ("Sec-Fetch-Site", "same-origin")]).await;
        assert_eq!(out.status, 303, "{}", out.body);
    };
    let fates = across(sockets, revoke).await;
    // Before: the socket subscribed to the sessions' ends after its hello, and missed them.
    assert_eq!(
        fates,
        [
            revoked("alice's cookie", "credentials changed"),
            revoked("alice's ticket", "credentials changed"),
            revoked("carol's cookie", "session ended"),
        ]
    );
}

#[tokio::test]
async fn a_reader_slower_than_the_frames_is_closed_on_a_password_change_too() {
    let users = [("alice", "old-pw")];
    let server = Server::spawn("revoke-trickle", &users, "1MiB", &["--login", "basic"]).await;
    let old = basic("alice", "old-pw");
    // 8 MB a second of samples, read at 2 MB a second: a frame is always waiting to be sent.
    let socket = Stalled::open("trickle", server.addr, 2, "", &[("Authorization", &old)]).await.trickle(2 << 20);
    let revoke = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        server.reload(&[("alice", "new-pw")]).await;
    };
    // What the server had buffered still comes at the reader's pace, then the close: here about
    // 2 s after the reload, and 7 s after the hello's end (about 5 s after the reload) is the
    // bound. Before: the pump looked at the accounts' changes only when no frame was ready, so
    // the socket stayed open until it first fell a whole broadcast behind (here 9 s after the
    // reload).
    let (fate, ()) = tokio::join!(socket.resume(Duration::from_secs(7)), revoke);
    assert_eq!(fate, Fate::Closed(1008, "credentials changed".to_owned()));
}
