//! Failover with the real binary: two `livedash` processes on one Redis; the one fetching is
//! killed (SIGKILL), the other takes the fetching over within two leases, and its clients miss no
//! sample that the shared stream holds. Each kill's pause (the longest time between two samples
//! on the survivor's socket around the kill) is printed; `LIVEDASH_FAILOVER_KILLS=N` repeats it
//! N times (default 2) for the measured median and maximum (`scripts/bench-cluster.sh`). A holder
//! that hangs (SIGSTOP) past its lease is replaced, and cannot publish when it wakes (fencing).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::PASSWORD;
use common::cluster::{INTERVAL, Watch, counting_upstream, fetches, holder};
use common::redis_server::Redis;
use redis::streams::StreamRangeReply;
use tokio::process::{Child, Command};

const LEASE: Duration = Duration::from_secs(1);

struct Instance {
    addr: SocketAddr,
    child: Child,
}

async fn spawn(redis: &Redis, upstream: SocketAddr, key: &std::path::Path, n: usize) -> Instance {
    let addr = common::free_addr();
    let data = common::temp_dir(&format!("failover-{n}"));
    let child = Command::new(env!("CARGO_BIN_EXE_livedash"))
        .args(["--listen", &addr.to_string(), "--store", "none", "--interval", "200ms"])
        .args(["--source", &format!("up=http://{upstream}/"), "--redis-url", &redis.url()])
        .args(["--redis-prefix", "failover", "--redis-lease", "1s"])
        .arg("--cluster-key-file")
        .arg(key)
        .arg("--data-dir")
        .arg(&data)
        .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn livedash");
    assert!(common::wait_listening(addr, Duration::from_secs(6)).await, "livedash did not listen on {addr}");
    Instance { addr, child }
}

#[tokio::test]
async fn killing_the_fetching_instance_moves_fetching_within_two_leases_and_loses_no_sample() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let key = common::temp_dir("failover-key").join("cluster.key");
    std::fs::write(&key, "a shared secret of more than thirty-two bytes\n").unwrap();
    let kills: usize = std::env::var("LIVEDASH_FAILOVER_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(2);
    let mut instances = [spawn(&redis, upstream, &key, 0).await, spawn(&redis, upstream, &key, 1).await];
    let mut pauses = Vec::new();
    for round in 0..kills {
        let holder = holder([instances[0].addr, instances[1].addr]).await;
        let survivor = instances[1 - holder].addr;
        let watch = Watch::open(survivor, "").await;
        assert!(watch.until(Duration::from_secs(5), |w| w.live().len() >= 5).await, "the survivor is live");
        let killed_at = Instant::now();
        instances[holder].child.start_kill().unwrap();
        let _ = instances[holder].child.wait().await;
        assert!(
            watch
                .until(Duration::from_secs(10), |w| w.live().iter().filter(|(at, _)| *at > killed_at).count() >= 5)
                .await,
            "samples come again after the kill"
        );
        let live = watch.live();
        let pause = live.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap();
        println!("failover {round}: longest pause between samples on the survivor {} ms", pause.as_millis());
        assert!(pause <= 2 * LEASE + INTERVAL, "fetching moved within two leases: a pause of {pause:?}");
        assert!(fetches(survivor).await, "the survivor fetches now");
        // No sample the stream holds was missed by the survivor's client.
        let seqs: Vec<u64> = live.iter().map(|(_, s)| *s).collect();
        let (first, last) = (seqs[0], *seqs.last().unwrap());
        let stream: StreamRangeReply =
            redis::cmd("XRANGE").arg("failover:samples").arg("-").arg("+").query(&mut redis.connection()).unwrap();
        let in_stream: Vec<u64> = stream
            .ids
            .iter()
            .filter_map(|e| e.get::<String>("q")?.parse().ok())
            .filter(|s| (first..=last).contains(s))
            .collect();
        assert_eq!(seqs, in_stream, "the survivor's client saw every sample of the stream, in order");
        pauses.push(pause);
        instances[holder] = spawn(&redis, upstream, &key, 2 + round).await;
    }
    pauses.sort();
    println!(
        "failover over {kills} kills: median {} ms, max {} ms (lease {} ms, interval {} ms)",
        pauses[pauses.len() / 2].as_millis(),
        pauses.last().unwrap().as_millis(),
        LEASE.as_millis(),
        INTERVAL.as_millis()
    );
}

#[tokio::test]
async fn a_holder_that_hangs_past_its_lease_is_replaced_and_cannot_publish_when_it_wakes() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let key = common::temp_dir("hang-key").join("cluster.key");
    std::fs::write(&key, "a shared secret of more than thirty-two bytes\n").unwrap();
    let instances = [spawn(&redis, upstream, &key, 10).await, spawn(&redis, upstream, &key, 11).await];
    let holder = holder([instances[0].addr, instances[1].addr]).await;
    let (hung, survivor) = (&instances[holder], instances[1 - holder].addr);
    let watch = Watch::open(survivor, "").await;
    assert!(watch.until(Duration::from_secs(5), |w| w.live().len() >= 3).await);
    let pid = hung.child.id().unwrap().to_string();
    let signal =
        |name: &str| assert!(std::process::Command::new("kill").args([name, &pid]).status().unwrap().success());
    // The holder hangs (SIGSTOP) for more than two leases: the other takes over.
    signal("-STOP");
    tokio::time::sleep(2 * LEASE + Duration::from_millis(500)).await;
    assert!(fetches(survivor).await, "the survivor fetches while the holder hangs");
    // It wakes up believing it holds the lease: whatever it tries to append is fenced, and it
    // learns that the other holds it now.
    signal("-CONT");
    tokio::time::sleep(LEASE + Duration::from_millis(500)).await;
    assert!(!fetches(hung.addr).await, "the woken holder does not fetch");
    assert!(fetches(survivor).await, "the survivor still does");
    let seqs: Vec<u64> = watch.live().iter().map(|(_, s)| *s).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "every sample once, in order: {seqs:?}");
    let stream: StreamRangeReply =
        redis::cmd("XRANGE").arg("failover:samples").arg("-").arg("+").query(&mut redis.connection()).unwrap();
    let in_stream: Vec<u64> = stream.ids.iter().filter_map(|e| e.get::<String>("q")?.parse().ok()).collect();
    assert!(in_stream.windows(2).all(|w| w[0] < w[1]), "the stream holds one run of seqs");
    let (first, last) = (seqs[0], *seqs.last().unwrap());
    let expected: Vec<u64> = in_stream.into_iter().filter(|s| (first..=last).contains(s)).collect();
    assert_eq!(seqs, expected, "the survivor's client saw every sample of the stream");
}
