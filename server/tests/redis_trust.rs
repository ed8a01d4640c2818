//! What a writer of the shared Redis, or a clock that lags or steps, can do to a cluster of real
//! binaries on a real redis-server: a ticket redeemed once stays redeemed whatever the redeeming
//! instance's wall clock says, and after Redis lost its data; a forged `blocks` entry refuses a
//! user for a minute at most; a forged lease value is logged as one escaped line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::cluster::{Watch, counting_upstream};
use common::redis_server::Redis;
use common::{PASSWORD, basic, handshake, ticket};
use tokio::process::Child;

/// One instance: the real binary on the cluster of `redis` under `prefix`, its wall clock offset
/// by what the file `clock` says (when given), its log (info) written to `log` (when given),
/// fetching every `interval`.
async fn instance(
    redis: &Redis,
    prefix: &str,
    upstream: SocketAddr,
    clock: Option<&Path>,
    log: Option<&Path>,
    interval: &str,
) -> (SocketAddr, Child) {
    let addr = common::free_addr();
    let dir = common::temp_dir(&format!("redis-trust-{prefix}-{}", addr.port()));
    let key = dir.join("cluster.key");
    std::fs::write(&key, "a shared secret of more than thirty-two bytes\n").unwrap();
    let mut command = common::livedash(addr, &dir);
    command
        .args(["--interval", interval, "--source", &format!("up=http://{upstream}/")])
        .args(["--redis-url", &redis.url(), "--redis-prefix", prefix, "--redis-lease", "1s"])
        .arg("--cluster-key-file")
        .arg(&key);
    if let Some(clock) = clock {
        common::faketime::offset_by(&mut command, clock);
    }
    if let Some(log) = log {
        command.env("RUST_LOG", "info").stderr(std::fs::File::create(log).unwrap());
    }
    let child = command.spawn().expect("spawn livedash");
    assert!(common::wait_listening(addr, Duration::from_secs(30)).await, "livedash did not listen on {addr}");
    let watch = Watch::open(addr, "").await;
    assert!(watch.until(Duration::from_secs(10), |w| w.cluster().is_some_and(|c| c.shared)).await, "joined");
    (addr, child)
}

async fn socket_status(addr: SocketAddr, ticket: &str) -> u16 {
    handshake(addr, &format!("/ws?ticket={ticket}"), &[]).await.status
}

fn clock_file(name: &str, offset: &str) -> PathBuf {
    let path = common::temp_dir(name).join("faketime");
    std::fs::write(&path, format!("{offset}\n")).unwrap();
    path
}

#[tokio::test]
async fn a_ticket_redeemed_once_stays_redeemed_whatever_the_clocks_say_and_after_redis_lost_its_data() {
    if !common::faketime::present() {
        return;
    }
    let Some(mut redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let (clock_a, clock_b) = (clock_file("trust-clock-a", "+0"), clock_file("trust-clock-b", "-60"));
    let (a, _a) = instance(&redis, "replay", upstream, Some(&clock_a), None, "200ms").await;
    let (b, _b) = instance(&redis, "replay", upstream, Some(&clock_b), None, "200ms").await;

    // A's clock steps 25 s ahead after it issued the ticket: by A's clock the ticket has 5 s left
    // when A redeems it, which was how long its single-use key lived.
    let t = ticket(a).await;
    std::fs::write(&clock_a, "+25\n").unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(socket_status(a, &t).await, 101, "redeemed once, on A");
    tokio::time::sleep(Duration::from_secs(5)).await;
    // B's clock lags a minute: by B's clock the ticket has most of its life left.
    assert_eq!(socket_status(b, &t).await, 401, "never again, through B whose clock lags");
    assert_eq!(socket_status(a, &t).await, 401, "nor on A");

    // Redis loses its data: a ticket redeemed before is not redeemed again.
    std::fs::write(&clock_a, "+0\n").unwrap();
    std::fs::write(&clock_b, "+0\n").unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let t = ticket(a).await;
    assert_eq!(socket_status(a, &t).await, 101, "redeemed once, on A");
    redis.kill();
    redis.run();
    // Both instances back on the new Redis: a ticket of each works on the other.
    let mut back = false;
    for _ in 0..50 {
        if socket_status(a, &ticket(b).await).await == 101 && socket_status(b, &ticket(a).await).await == 101 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(back, "the instances share Redis again");
    assert_eq!(socket_status(b, &t).await, 401, "the ticket redeemed before Redis lost its data is not taken again");
}

#[tokio::test]
async fn a_forged_block_refuses_for_a_minute_at_most_and_a_forged_lease_logs_one_line() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let log = common::temp_dir("trust-log").join("stderr.log");
    let (a, mut child) = instance(&redis, "forged", upstream, None, Some(&log), "1h").await;
    let mut conn = redis.connection();

    // A block of a century for admin, as a writer of Redis could append it.
    let century = (100u64 * 365 * 24 * 3600 * 1000).to_string();
    let _: String = redis::cmd("XADD")
        .arg("forged:blocks")
        .arg("*")
        .arg("s")
        .arg("u|admin")
        .arg("w")
        .arg(&century)
        .query(&mut conn)
        .unwrap();
    let right = basic("admin", PASSWORD);
    let mut refused = None;
    for i in 0..50u8 {
        // A new address each time: a credential already used from an address passes a block of
        // its user alone (see auth/throttle.rs), and the block is what this reads.
        let from = IpAddr::from([127, 0, 1, 30 + i]);
        let r = common::raw_from(from, a, &common::request(a, "/api/snapshot", &[("Authorization", &right)])).await;
        if r.status == 429 {
            refused = r.header("retry-after").map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let wait: u64 = refused.expect("the forged block is read and refuses").parse().expect("seconds");
    assert!(wait <= 60, "refused for {wait} s: a forged block is capped at a minute");

    // A lease value with a newline, as a writer of Redis could set it (the source is fetched once
    // an hour, so that the lease's renewal, not a fetch, finds it).
    for _ in 0..50 {
        let held: Option<String> = redis::cmd("GET").arg("forged:lease:up").query(&mut conn).unwrap();
        if held.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _: () =
        redis::cmd("SET").arg("forged:lease:up").arg("evil\nFORGED LINE").arg("PX").arg(3000).query(&mut conn).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("another instance fetches the source now"))
        .expect("the lease taken over is logged");
    assert!(line.contains(r"evil\nFORGED LINE"), "escaped on one line: {line}");
    assert!(!text.lines().any(|l| l.starts_with("FORGED LINE")), "no forged line in the log:\n{text}");
}

#[tokio::test]
async fn a_redis_password_is_refused_as_a_flag_and_taken_from_the_environment_or_the_config_file() {
    let dir = common::temp_dir("redis-url-flag");
    let key = dir.join("cluster.key");
    std::fs::write(&key, "a shared secret of more than thirty-two bytes\n").unwrap();
    // Nothing listens there: an instance that starts goes on alone.
    let url = "redis://:s3cret-pass@127.0.0.1:1";
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
        .args(["--listen", "127.0.0.1:0", "--store", "none", "--redis-url", url, "--cluster-key-file"])
        .arg(&key)
        .arg("--data-dir")
        .arg(&dir)
        .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
        .env_remove("LIVEDASH_REDIS_URL")
        .kill_on_drop(true)
        .output();
    // One that started would serve until killed: it is, when the time is up.
    let out = tokio::time::timeout(Duration::from_secs(20), refused).await.expect("refused at start-up").unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused as a flag");
    assert!(stderr.contains("--redis-url") && stderr.contains("LIVEDASH_REDIS_URL"), "{stderr}");
    assert!(!stderr.contains("s3cret-pass"), "the password is not repeated: {stderr}");

    let config = dir.join("livedash.toml");
    std::fs::write(&config, format!("redis_url = \"{url}\"\n")).unwrap();
    for from_env in [true, false] {
        let addr = common::free_addr();
        let mut command = common::livedash(addr, &dir);
        command.arg("--cluster-key-file").arg(&key);
        if from_env {
            command.env("LIVEDASH_REDIS_URL", url);
        } else {
            command.arg("--config").arg(&config);
        }
        let mut child = command.spawn().unwrap();
        assert!(
            common::wait_listening(addr, Duration::from_secs(30)).await,
            "accepted (from the environment: {from_env})"
        );
        child.kill().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
