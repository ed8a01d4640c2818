//! API tokens and second factors across two real binaries on one real redis-server, each with its
//! own store: a token made by `livedash token create` on the first one's store is honoured by the
//! second at once; a revocation through either store's command stops it on both within seconds. A
//! second factor enrolled on one instance makes the other refuse the password alone within
//! seconds, and a code or a recovery code taken on one is refused on the other.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::redis_server::Redis;
use common::{PASSWORD, basic, free_addr, get, livedash, post, temp_dir, wait_listening};

async fn token_cli(config: &Path, store: &Path, users: &Path, args: &[&str]) -> (bool, String, String) {
    let place: [&OsStr; 6] = [
        "--config".as_ref(),
        config.as_os_str(),
        "--store".as_ref(),
        store.as_os_str(),
        "--users-file".as_ref(),
        users.as_os_str(),
    ];
    common::token_cli(args, &place).await
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

/// Two instances on one Redis, each with its own store; the config file, the users file, the
/// stores and the servers.
struct Cluster {
    _redis: Redis,
    config: PathBuf,
    users: PathBuf,
    stores: Vec<PathBuf>,
    servers: Vec<tokio::process::Child>,
    addrs: Vec<SocketAddr>,
}

async fn cluster(name: &str) -> Option<Cluster> {
    let redis = Redis::start()?;
    let dir = temp_dir(name);
    let key = dir.join("cluster.key");
    std::fs::write(&key, "a shared secret of more than thirty-two bytes\n").unwrap();
    let config = dir.join("livedash.toml");
    std::fs::write(
        &config,
        format!(
            "redis_url = \"{}\"\nredis_prefix = \"{name}\"\ncluster_key_file = \"{}\"\n",
            redis.url(),
            key.display()
        ),
    )
    .unwrap();
    let users = dir.join("users");
    std::fs::write(&users, format!("ann:{}\n", livedash_server::auth::password::hash_password(PASSWORD))).unwrap();
    let stores: Vec<PathBuf> = (0..2).map(|i| temp_dir(&format!("{name}-{i}"))).collect();
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
    Some(Cluster { _redis: redis, config, users, stores, servers, addrs })
}

#[tokio::test]
async fn a_token_made_on_one_instance_works_on_the_other_and_a_revocation_reaches_both() {
    let Some(Cluster { _redis, config, users, stores, servers, addrs }) = cluster("cluster-tokens").await else {
        return;
    };
    let db = |i: usize| stores[i].join("history.db");

    // Made on the first one's store: the second honours it too.
    let (ok, token, err) = token_cli(&config, &db(0), &users, &["create", "--user", "ann", "--name", "a"]).await;
    assert!(ok && token.starts_with("ldt_"), "{err}");
    assert_eq!(status(addrs[1], &token).await, 200, "known on the other instance at its first use: {err}");
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

const FORM: &str = "application/x-www-form-urlencoded";

/// The code of the base32 `secret` for the step `offset` steps from now (totp-rs, apart from the
/// server's path).
fn code(secret: &str, offset: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned()).to_bytes().expect("base32");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, bytes).generate(now + offset * 30)
}

/// A login by the form on `addr` with the password then `code`: whether it made a session.
async fn logs_in(addr: SocketAddr, code: &str) -> bool {
    let body = format!("username=ann&password={}", PASSWORD.replace(' ', "+"));
    let r = post(addr, "/login", FORM, &body, &[("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!(r.status, 200, "the code step: {}", r.body);
    let marker = "name=\"pending\" value=\"";
    let start = r.body.find(marker).expect("a pending login") + marker.len();
    let pending = &r.body[start..start + r.body[start..].find('"').expect("its end")];
    let r = post(
        addr,
        "/login/code",
        FORM,
        &format!("pending={pending}&code={code}"),
        &[("Sec-Fetch-Site", "same-origin")],
    )
    .await;
    r.headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("set-cookie") && v.starts_with("livedash_session=") && !v.contains("Max-Age=0")
    })
}

#[tokio::test]
async fn a_second_factor_enrolled_on_one_instance_holds_on_the_other_and_codes_are_taken_once() {
    let Some(Cluster { _redis, servers, addrs, .. }) = cluster("cluster-totp").await else { return };
    let (a, b) = (addrs[0], addrs[1]);
    let password = basic("ann", PASSWORD);
    let page = get(a, "/account/totp", &[("Authorization", &password)]).await;
    let marker = "data-testid=\"totp-secret\">";
    let start = page.body.find(marker).expect("the secret") + marker.len();
    let secret = page.body[start..start + page.body[start..].find('<').expect("its end")].to_owned();
    let first = code(&secret, 0);
    let r = post(
        a,
        "/account/totp",
        FORM,
        // Enrolling takes the account's password as well as the first code.
        &format!("action=confirm&secret={secret}&code={first}&password={}", PASSWORD.replace(' ', "+")),
        &[("Authorization", &password)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let recovery: Vec<String> = r.body.split("<li><code>").skip(1).map(|c| c[..11].to_owned()).collect();

    // The other instance refuses the password alone within seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(b, "/api/snapshot", &[("Authorization", &password)]).await.status != 401 {
        assert!(Instant::now() < deadline, "the other instance still takes the password alone");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A code taken on one instance is refused on the other, at once: the enrolment's, then the next.
    assert!(!logs_in(b, &first).await, "the enrolment's code on the other instance");
    let next = code(&secret, 1);
    assert!(logs_in(a, &next).await);
    assert!(!logs_in(b, &next).await, "a code taken on the other instance");
    // A recovery code once across the cluster.
    assert!(logs_in(a, &recovery[0]).await);
    assert!(!logs_in(b, &recovery[0]).await, "a recovery code spent on the other instance");
    for mut s in servers {
        s.kill().await.expect("kill");
    }
}
