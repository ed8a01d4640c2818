//! The real binary as a service: under a service manager's `Type=notify` protocol, played by the
//! test with a Unix datagram socket as `NOTIFY_SOCKET` and `WATCHDOG_USEC=1000000`. The binary says `READY=1` (with
//! its address in `STATUS=`) once it listens, `WATCHDOG=1` about every half second, and
//! `STOPPING=1` after SIGTERM. And `--version`, naming the commit.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use common::{free_addr, get};

/// The next datagram within `within`, as text.
fn next(socket: &UnixDatagram, within: Duration) -> Option<String> {
    socket.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[tokio::test]
async fn ready_then_watchdog_pings_then_stopping() {
    let dir = common::temp_dir("service-notify");
    let path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    let addr = free_addr();
    let mut child = common::livedash(addr, &dir)
        .env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "1000000")
        .env_remove("WATCHDOG_PID")
        .spawn()
        .unwrap();

    let ready = next(&socket, Duration::from_secs(15)).expect("a first message");
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    assert!(ready.contains(&format!("STATUS=listening on http://{addr}/")), "{ready:?}");
    // Ready means serving: the port answers at once.
    assert_eq!(get(addr, "/healthz", &[]).await.status, 200);

    // Pings every half of WATCHDOG_USEC: three within two seconds of READY.
    let from = Instant::now();
    let mut pings = 0;
    while pings < 3 {
        let message = next(&socket, Duration::from_secs(2)).expect("a watchdog ping");
        assert_eq!(message.trim(), "WATCHDOG=1");
        pings += 1;
    }
    assert!(from.elapsed() < Duration::from_millis(2_000), "3 pings took {:?}", from.elapsed());

    let pid = child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let stopping = loop {
        let message = next(&socket, Duration::from_secs(5)).expect("STOPPING=1 after SIGTERM");
        if message.trim() != "WATCHDOG=1" {
            break message;
        }
    };
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping:?}");
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("exits").unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_livedash")).arg("--version").output().unwrap();
    assert!(out.status.success());
    // This test is compiled by the same cargo call as the binary, so it sees the same variable.
    let commit = option_env!("LIVEDASH_COMMIT").filter(|c| !c.trim().is_empty()).unwrap_or("unknown");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim(), format!("livedash {} (commit {commit})", env!("CARGO_PKG_VERSION")));
}
