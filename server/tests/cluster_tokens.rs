//! API tokens across two real binaries on one real redis-server, each with its own store: a token
//! made by `livedash token create` on the first one's store is honoured by the second at once; a
//! revocation through either store's command stops it on both within seconds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::redis_server::Redis;
use common::{PASSWORD, free_addr, get, livedash, temp_dir, wait_listening};

async fn token_cli(config: &Path, store: &Path, users: &Path, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
        .arg("token")
        .args(args)
        .arg("--config")
        .arg(config)
        .arg("--store")
        .arg(store)
        .arg("--users-file")
        .arg(users)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("the command runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

async fn status(addr: SocketAddr, token: &str) -> u16 {
    get(addr, "/api/snapshot", &[("Authorization", &format!("Bearer {token}"))]).await.status
}

/// Whether `addr` answers `want` to `token` within 10 s.
async fn becomes(addr: SocketAddr, token: &str, want: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if status(addr, token).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test]
async fn a_token_made_on_one_instance_works_on_the_other_and_a_revocation_reaches_both() {
    let Some(redis) = Redis::start() else { return };
    let dir = temp_dir("cluster-tokens");
    let key = dir.join("cluster.key");
    std::fs::write(&key, "a shared secret of more than thirty-two bytes\n").unwrap();
    let config = dir.join("livedash.toml");
    std::fs::write(
        &config,
        format!(
            "redis_url = \"{}\"\nredis_prefix = \"tokens\"\ncluster_key_file = \"{}\"\n",
            redis.url(),
            key.display()
        ),
    )
    .unwrap();
    let users = dir.join("users");
    std::fs::write(&users, format!("ann:{}\n", livedash_server::auth::password::hash_password(PASSWORD))).unwrap();
    let stores: Vec<PathBuf> = (0..2).map(|i| temp_dir(&format!("cluster-tokens-{i}"))).collect();
    let mut servers = Vec::new();
    let mut addrs = Vec::new();
    for store in &stores {
        let addr = free_addr();
        let child =
            livedash(addr, store).arg("--config").arg(&config).arg("--users-file").arg(&users).spawn().expect("spawn");
        assert!(wait_listening(addr, Duration::from_secs(20)).await, "livedash did not listen on {addr}");
        servers.push(child);
        addrs.push(addr);
    }
    let db = |i: usize| stores[i].join("history.db");

    // Made on the first one's store: the second honours it too.
    let (ok, token, err) = token_cli(&config, &db(0), &users, &["create", "--user", "ann", "--name", "a"]).await;
    assert!(ok && token.starts_with("ldt_"), "{err}");
    assert_eq!(status(addrs[1], &token).await, 200, "known on the other instance at its first use");
    assert_eq!(status(addrs[0], &token).await, 200);
    let (ok, list, _) = token_cli(&config, &db(1), &users, &["list"]).await;
    assert!(ok && list.lines().any(|l| l.ends_with(" a")), "listed from the other store too: {list}");

    // Revoked by the command on the other store (where it was never written): stops on both.
    let id = list.lines().find(|l| l.ends_with(" a")).and_then(|l| l.split_whitespace().next()).expect("an id");
    let (ok, out, err) = token_cli(&config, &db(1), &users, &["revoke", id]).await;
    assert!(ok && out.contains(id), "{err}");
    for addr in &addrs {
        assert!(becomes(*addr, &token, 401).await, "revoked on {addr}");
    }
    for mut s in servers {
        s.kill().await.expect("kill");
    }
}
