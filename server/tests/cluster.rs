//! Several instances and one real Redis (Debian's redis-server on a loopback port): one fetch per
//! interval for all of them, the same `seq`s everywhere, a new instance starting with the shared
//! history, resume on another instance, Redis going away and coming back, Redis losing its data,
//! and fencing of a holder whose lease passed on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::cluster::{INTERVAL, LEASE, Watch, counting_upstream, instance};
use common::redis_server::Redis;
use common::{PASSWORD, basic, get, start_with};
use livedash::Frame;
use livedash_server::cluster::scripts::{HOLD, PUBLISH};

fn health(body: &str) -> serde_json::Value {
    serde_json::from_str(body).expect("JSON")
}

/// Which sources each instance says it fetches (`/api/health`).
async fn fetching(addr: std::net::SocketAddr) -> Vec<String> {
    let r = get(addr, "/api/health", &[("Authorization", &basic("admin", PASSWORD))]).await;
    let v = health(&r.body);
    v["cluster"]["fetching"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn two_instances_fetch_once_and_show_the_same_seqs() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, hits) = counting_upstream().await;
    let a = start_with(instance(&redis, "same", upstream)).await;
    let on_a = Watch::open(a.addr, "").await;
    assert!(on_a.until(Duration::from_secs(5), |w| w.live().len() >= 5).await, "A goes live");
    // B starts later: its first hello already holds what A's clients saw before.
    let b = start_with(instance(&redis, "same", upstream)).await;
    let on_b = Watch::open(b.addr, "").await;
    assert!(on_b.until(Duration::from_secs(5), |w| w.live().len() >= 3).await, "B goes live");
    let Some(Frame::Hello(hello)) = on_b.first() else { panic!("B starts with a hello") };
    let early: Vec<u64> = on_a.seqs().into_iter().take(3).collect();
    let b_history: Vec<u64> = hello.history.iter().map(|s| s.seq).collect();
    assert!(early.iter().all(|s| b_history.contains(s)), "B's history {b_history:?} holds A's first {early:?}");
    let cluster = hello.cluster.expect("a cluster state in the hello");
    assert!(cluster.shared, "{cluster:?}");

    // Three seconds of both: the same seqs on both, and one fetch per interval for the two.
    let before = hits.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fetched = hits.load(Ordering::Relaxed) - before;
    let intervals = started.elapsed().as_millis() as u64 / INTERVAL.as_millis() as u64;
    assert!(fetched <= intervals + 2, "{fetched} fetches in {intervals} intervals: one fetch for both instances");
    assert!(fetched + 3 >= intervals, "{fetched} fetches in {intervals} intervals: fetching went on");
    let (sa, sb) = (on_a.seqs(), on_b.seqs());
    let from = *sb.first().unwrap();
    let tail_a: Vec<u64> = sa.iter().copied().filter(|s| *s >= from).collect();
    let common_len = tail_a.len().min(sb.len()) - 1;
    assert!(common_len >= 10, "{common_len} samples in common");
    assert_eq!(tail_a[..common_len], sb[..common_len], "the same seqs, in the same order, on both");

    // Exactly one of them fetches, and both say they share.
    let (fa, fb) = (fetching(a.addr).await, fetching(b.addr).await);
    assert_eq!(fa.len() + fb.len(), 1, "one fetcher: A {fa:?}, B {fb:?}");
    for addr in [a.addr, b.addr] {
        let v = health(&get(addr, "/healthz", &[]).await.body);
        assert_eq!((v["status"].as_str(), v["cluster"].as_str()), (Some("ok"), Some("shared")), "{v}");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_client_resumes_on_the_other_instance_with_exactly_the_missed_samples() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let a = start_with(instance(&redis, "resume", upstream)).await;
    let b = start_with(instance(&redis, "resume", upstream)).await;
    let reference = Watch::open(b.addr, "").await;
    let leaving = Watch::open(a.addr, "").await;
    assert!(leaving.until(Duration::from_secs(5), |w| w.live().len() >= 3).await);
    let epoch = leaving.cluster().expect("a cluster state").epoch;
    // The client goes away after its last sample; samples go on meanwhile.
    let since = *leaving.seqs().last().unwrap();
    drop(leaving);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let back = Watch::open(b.addr, &format!("?since={since}&epoch={epoch}")).await;
    assert!(back.until(Duration::from_secs(3), |w| w.live().len() >= 6).await);
    let frames: Vec<Frame> = back.frames.lock().iter().map(|(_, f)| f.clone()).collect();
    assert!(!frames.iter().any(|f| matches!(f, Frame::Hello(_))), "a resume, not a full hello");
    let got = back.seqs();
    let expected: Vec<u64> = reference.seqs().into_iter().filter(|s| *s > since).take(got.len()).collect();
    assert_eq!(got, expected, "exactly the samples after {since}, as the other instance's clients saw them");
    // A `since` read in another epoch cannot be exact: a full hello.
    let other = Watch::open(b.addr, &format!("?since={since}&epoch=not-{epoch}")).await;
    assert!(other.until(Duration::from_secs(3), |w| w.first().is_some()).await);
    assert!(matches!(other.first(), Some(Frame::Hello(_))));
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn without_redis_each_instance_fetches_alone_and_comes_back_to_one_fetch_by_itself() {
    let Some(mut redis) = Redis::start() else { return };
    let (upstream, hits) = counting_upstream().await;
    let a = start_with(instance(&redis, "outage", upstream)).await;
    let b = start_with(instance(&redis, "outage", upstream)).await;
    let (on_a, on_b) = (Watch::open(a.addr, "").await, Watch::open(b.addr, "").await);
    assert!(on_a.until(Duration::from_secs(5), |w| w.cluster().is_some_and(|c| c.shared)).await);
    assert!(on_b.until(Duration::from_secs(5), |w| w.live().len() >= 3).await);

    redis.kill();
    let alone = |w: &Watch| w.cluster().is_some_and(|c| !c.shared);
    assert!(on_a.until(Duration::from_secs(5), alone).await, "A says it is alone");
    assert!(on_b.until(Duration::from_secs(5), alone).await, "B says it is alone");
    let reason = on_a.cluster().unwrap().error.unwrap_or_default();
    assert!(reason.contains("Redis at redis://127.0.0.1:"), "{reason}");
    // Both stay live, each fetching for itself.
    let (na, nb) = (on_a.live().len(), on_b.live().len());
    let before = hits.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(on_a.live().len() >= na + 6 && on_b.live().len() >= nb + 6, "both live without Redis");
    let fetched = hits.load(Ordering::Relaxed) - before;
    assert!(fetched >= 15, "{fetched} fetches in 2 s: both instances fetch (10 intervals)");
    for addr in [a.addr, b.addr] {
        let v = health(&get(addr, "/healthz", &[]).await.body);
        assert_eq!((v["status"].as_str(), v["cluster"].as_str()), (Some("degraded"), Some("alone")), "{v}");
        let page = get(addr, "/", &[("Authorization", &basic("admin", PASSWORD))]).await;
        assert!(page.body.contains("Shared fetching is unavailable"), "the page says so from its first paint");
    }
    let metrics = get(a.addr, "/metrics", &[("Authorization", &basic("admin", PASSWORD))]).await.body;
    assert!(metrics.contains("livedash_cluster_redis_up 0"), "{metrics}");

    // Redis comes back (empty): both rejoin by themselves, one fetch again.
    redis.run();
    let shared = |w: &Watch| w.cluster().is_some_and(|c| c.shared);
    assert!(on_a.until(Duration::from_secs(10), shared).await, "A shares again");
    assert!(on_b.until(Duration::from_secs(10), shared).await, "B shares again");
    assert_eq!(on_a.cluster().unwrap().epoch, on_b.cluster().unwrap().epoch, "one epoch");
    tokio::time::sleep(LEASE).await;
    let before = hits.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let fetched = hits.load(Ordering::Relaxed) - before;
    assert!(fetched <= 12, "{fetched} fetches in 2 s (10 intervals): one fetch for both again");
    let v = health(&get(b.addr, "/healthz", &[]).await.body);
    assert_eq!(v["cluster"].as_str(), Some("shared"), "{v}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn when_redis_loses_its_data_the_stream_has_a_new_epoch_and_an_old_since_gets_a_hello() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let a = start_with(instance(&redis, "flush", upstream)).await;
    let b = start_with(instance(&redis, "flush", upstream)).await;
    let on_b = Watch::open(b.addr, "").await;
    assert!(on_b.until(Duration::from_secs(5), |w| w.live().len() >= 3).await);
    let old = on_b.cluster().unwrap().epoch;
    let since = *on_b.seqs().last().unwrap();
    let _: () = redis::cmd("FLUSHALL").query(&mut redis.connection()).unwrap();
    let renewed = |w: &Watch| w.cluster().is_some_and(|c| c.shared && c.epoch != old);
    assert!(on_b.until(Duration::from_secs(5), renewed).await, "a new epoch is announced");
    let n = on_b.live().len();
    assert!(on_b.until(Duration::from_secs(3), |w| w.live().len() >= n + 3).await, "samples go on");
    let seqs = on_b.seqs();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seqs still only grow: {seqs:?}");
    for addr in [a.addr, b.addr] {
        let resumed = Watch::open(addr, &format!("?since={since}&epoch={old}")).await;
        assert!(resumed.until(Duration::from_secs(3), |w| w.first().is_some()).await);
        assert!(matches!(resumed.first(), Some(Frame::Hello(_))), "a since of the lost epoch gets a full hello");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_holder_whose_lease_passed_on_cannot_append() {
    let Some(redis) = Redis::start() else { return };
    let mut c = redis.connection();
    let hold = |c: &mut redis::Connection, held: &str, instance: &str| -> (i64, String) {
        HOLD.key("t:lease:up").key("t:fence:up").arg(held).arg(instance).arg(60_000).invoke(c).unwrap()
    };
    let (held, x) = hold(&mut c, "", "x");
    assert_eq!(held, 1);
    assert_eq!(hold(&mut c, "", "y"), (0, x.clone()), "y cannot take what x holds");
    assert_eq!(hold(&mut c, &x, "x"), (1, x.clone()), "x renews");
    let _: () = redis::cmd("SET").arg("t:epoch").arg("e1").query(&mut c).unwrap();
    let publish = |c: &mut redis::Connection, lease: &str, epoch: &str| -> String {
        PUBLISH
            .key("t:lease:up")
            .key("t:seq")
            .key("t:samples")
            .key("t:epoch")
            .arg(lease)
            .arg(epoch)
            .arg("up")
            .arg("s")
            .arg("{}")
            .arg(60_000)
            .arg(0)
            .arg(1)
            .invoke(c)
            .unwrap()
    };
    let first: u64 = publish(&mut c, &x, "e1").parse().unwrap();
    let second: u64 = publish(&mut c, &x, "e1").parse().unwrap();
    assert!(second > first && first > 1_600_000_000_000_000, "seqs are microseconds and grow: {first} {second}");
    assert_eq!(publish(&mut c, &x, "e0"), "-2", "another epoch");
    // x hangs past its lease; y takes over with a new fencing token.
    let _: () = redis::cmd("DEL").arg("t:lease:up").query(&mut c).unwrap();
    let (held, y) = hold(&mut c, "", "y");
    assert_eq!(held, 1);
    assert_ne!(x, y, "a new token");
    assert_eq!(publish(&mut c, &x, "e1"), "-1", "x woke up: fenced");
    assert_eq!(hold(&mut c, &x, "x"), (0, y.clone()), "and learns that y holds it");
    assert!(publish(&mut c, &y, "e1").parse::<u64>().unwrap() > second);
    let len: usize = redis::cmd("XLEN").arg("t:samples").query(&mut c).unwrap();
    assert_eq!(len, 3, "only the holder's appends are in the stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_instance_keeps_its_own_history_store_of_the_shared_samples() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let with_store = |name: &str| {
        let mut c = instance(&redis, "stores", upstream);
        c.store = Some(common::store_settings(name));
        c
    };
    let a = start_with(with_store("cluster-store-a")).await;
    let b = start_with(with_store("cluster-store-b")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let auth = basic("admin", PASSWORD);
    let mut times = Vec::new();
    for server in [&a, &b] {
        let store = server.store.clone().expect("a store");
        tokio::task::spawn_blocking(move || store.flush()).await.expect("flushed");
        let r = get(server.addr, "/api/history?source=up&series=cpu&from=now-5m", &[("Authorization", &auth)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let h: serde_json::Value = serde_json::from_str(&r.body).expect("json");
        let t: Vec<u64> = h["points"].as_array().expect("points").iter().filter_map(|p| p[0].as_u64()).collect();
        assert!(t.len() >= 8, "{} points in 3 s", t.len());
        times.push(t);
    }
    // One fetch, kept by both: the same sample times in both stores (from the first both have).
    let first = times[0][0].max(times[1][0]);
    let (ta, tb): (Vec<u64>, Vec<u64>) = (
        times[0].iter().copied().filter(|t| *t >= first).collect(),
        times[1].iter().copied().filter(|t| *t >= first).collect(),
    );
    let n = ta.len().min(tb.len());
    assert_eq!(ta[..n], tb[..n], "the same samples in both stores");
    a.stop().await;
    b.stop().await;
}
