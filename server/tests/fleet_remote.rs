//! The `livedash:` target kind against the real binary: another livedash, started here with an
//! API token made by `livedash token create`, is read over its WebSocket as a host of the fleet
//! (its `local` source's figures, sample by sample); a wrong token is a 401, nothing listening
//! is "connection refused", and revoking the token closes the reader's socket with 1008 and
//! keeps it out (401) on its next try. And end to end: a second binary with the first as a
//! `livedash:` target of its targets file and the token in `--fleet-token-file` has the first's
//! figures as a host's samples.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{PASSWORD, basic, free_addr, get, livedash, temp_dir, wait_listening};
use livedash_server::fleet::{HostFigures, RemoteHost, RemoteOptions};
use reqwest::Url;
use tokio::sync::{mpsc, oneshot};

type Delivered = Result<HostFigures, String>;

/// A reader of the livedash at `addr` with `token`, retrying quickly; its results and its stop.
fn reader(addr: SocketAddr, token: &str) -> (mpsc::UnboundedReceiver<Delivered>, oneshot::Sender<()>) {
    let url = Url::parse(&format!("ws://{addr}/ws")).unwrap();
    let options = RemoteOptions {
        connect_timeout: Duration::from_secs(5),
        first_retry: Duration::from_millis(100),
        max_retry: Duration::from_millis(500),
    };
    let host = RemoteHost::new(url, Arc::from(token)).with_options(options);
    let (tx, rx) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        host.run(move |r| drop(tx.send(r)), async move { stopped.await.unwrap_or(()) }).await;
    });
    (rx, stop)
}

/// The next result (10 s at most).
async fn next(rx: &mut mpsc::UnboundedReceiver<Delivered>) -> Delivered {
    tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("a result within 10 s").expect("running")
}

async fn token_cli(dir: &Path, args: &[&str]) -> String {
    let (ok, out, err) = common::token_cli(args, &common::data_dir_options(dir)).await;
    assert!(ok, "token {args:?}: {err}");
    out
}

#[tokio::test]
async fn another_livedash_is_read_with_the_fleet_token_until_it_is_revoked() {
    use livedash_server::auth::password::hash_password;
    let dir = temp_dir("fleet-remote");
    let users = dir.join("users");
    std::fs::write(&users, format!("ann:{}\n", hash_password(PASSWORD))).unwrap();
    let addr = free_addr();
    let _remote = livedash(addr, &dir).arg("--users-file").arg(&users).args(["--interval", "250ms"]).spawn().unwrap();
    assert!(wait_listening(addr, Duration::from_secs(20)).await, "the remote livedash did not come up");
    let token = token_cli(&dir, &["create", "--user", "ann", "--name", "fleet"]).await;

    // Nothing listening, and a token the remote does not know.
    let (mut refused, stop) = reader(free_addr(), &token);
    let why = next(&mut refused).await.unwrap_err();
    assert!(why.starts_with("connection refused (127.0.0.1:"), "{why}");
    drop(stop);
    let (mut wrong, stop) = reader(addr, "ldt_not-a-token");
    let why = next(&mut wrong).await.unwrap_err();
    assert!(why.starts_with("HTTP 401: the fleet token was refused"), "{why}");
    drop(stop);

    // The token: the remote's own machine, figure by figure, sample after sample.
    let (mut rx, stop) = reader(addr, &token);
    for n in 0..3 {
        let figures = next(&mut rx).await.unwrap_or_else(|e| panic!("figures #{n}: {e}"));
        for (name, v) in [("cpu", figures.cpu_pct), ("mem", figures.mem_pct), ("disk", figures.disk_pct)] {
            assert!(v.is_some_and(|v| (0.0..=100.0).contains(&v)), "{name} #{n}: {figures:?}");
        }
        assert!(figures.load1.is_some() && figures.uptime_s.is_some_and(|u| u > 0.0), "#{n}: {figures:?}");
    }

    // Revoked: the open socket is closed with 1008, and the next try is refused.
    let list = token_cli(&dir, &["list"]).await;
    let id = list.lines().find(|l| l.ends_with("fleet")).and_then(|l| l.split_whitespace().next()).unwrap().to_owned();
    token_cli(&dir, &["revoke", &id[..8]]).await;
    let closed = loop {
        match next(&mut rx).await {
            Ok(_) => {}
            Err(why) => break why,
        }
    };
    assert!(closed.starts_with("closed by the remote: 1008") && closed.contains("revoked"), "{closed}");
    let why = next(&mut rx).await.unwrap_err();
    assert!(why.starts_with("HTTP 401"), "{why}");
    stop.send(()).unwrap();
}

#[tokio::test]
async fn a_livedash_target_of_the_targets_file_becomes_a_host_with_the_remotes_figures() {
    use livedash_server::auth::password::hash_password;
    let dir = temp_dir("fleet-remote-target");
    let users = dir.join("users");
    std::fs::write(&users, format!("ann:{}\n", hash_password(PASSWORD))).unwrap();
    let remote = free_addr();
    let _remote = livedash(remote, &dir).arg("--users-file").arg(&users).args(["--interval", "250ms"]).spawn().unwrap();
    assert!(wait_listening(remote, Duration::from_secs(20)).await, "the remote livedash did not come up");
    let token = token_cli(&dir, &["create", "--user", "ann", "--name", "fleet"]).await;

    let here = temp_dir("fleet-remote-reader");
    let (targets, token_file) = (here.join("targets.json"), here.join("fleet-token"));
    std::fs::write(&targets, format!(r#"[{{"targets": ["livedash:{remote}"], "labels": {{"env": "lab"}}}}]"#)).unwrap();
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let addr = free_addr();
    let _reader = livedash(addr, &here)
        .arg("--targets-file")
        .arg(&targets)
        .arg("--fleet-token-file")
        .arg(&token_file)
        .args(["--interval", "250ms"])
        .spawn()
        .unwrap();
    assert!(wait_listening(addr, Duration::from_secs(20)).await, "the reading livedash did not come up");

    // The host's source (named as the target) has samples of the remote's figures.
    let source = remote.to_string();
    let auth = basic("admin", PASSWORD);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let data = loop {
        let snapshot = get(addr, "/api/snapshot", &[("Authorization", &auth)]).await;
        assert_eq!(snapshot.status, 200, "{}", snapshot.body);
        let hello: serde_json::Value = serde_json::from_str(&snapshot.body).unwrap();
        let samples = hello["history"].as_array().cloned().unwrap_or_default();
        if let Some(sample) = samples.iter().rev().find(|s| s["source"] == source.as_str()) {
            break sample["data"].clone();
        }
        assert!(std::time::Instant::now() < deadline, "no sample of {source}: {hello}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(data["up"], 1, "{data}");
    for figure in ["cpu_pct", "mem_pct", "disk_pct", "load1", "uptime_s"] {
        assert!(data[figure].is_number(), "{figure}: {data}");
    }
}
