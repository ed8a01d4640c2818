//! Notifications sent exactly once across a cluster: the claim scripts' fencing on a real
//! redis-server, and the real binary twice on one Redis with a real webhook receiver. The holder of
//! the source's lease (the instance that fetches and judges it) claims the delivery of a firing
//! with its fencing token and tries it; the receiver refuses at first; the holder is killed
//! (SIGKILL, by its PID) before any try was accepted. The other instance takes the lease over,
//! takes over the older token's claim and delivers it: the receiver accepts it exactly once, with
//! the same `id`, from the survivor, and Redis says it was done under the survivor's token. A
//! holder that hangs (SIGSTOP) between two tries instead, and wakes after the other delivered it,
//! sends nothing more: its claim is refused, the delivery is done.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::cluster::{fetches, holder};
use common::receiver::{Got, Receiver, Reply};
use common::redis_server::Redis;
use livedash_server::cluster::scripts::{CLAIM, DONE};
use tokio::process::Child;

const PREFIX: &str = "notifying";

/// Runs the claim script for `key` with `lease` (the value held, or empty) as its source's lease
/// holder would; its answer.
fn claim(conn: &mut redis::Connection, lease: &str, key: &str) -> (i64, u64) {
    CLAIM
        .key(format!("{PREFIX}:lease:up"))
        .key(format!("{PREFIX}:notify:{key}"))
        .arg(lease)
        .arg(86_400_000)
        .invoke(conn)
        .unwrap()
}

fn set_lease(conn: &mut redis::Connection, value: &str) {
    redis::cmd("SET").arg(format!("{PREFIX}:lease:up")).arg(value).query::<()>(conn).unwrap();
}

#[test]
fn a_claim_is_fenced_by_the_lease_token_and_a_done_one_is_never_claimed_again() {
    let Some(redis) = Redis::start() else { return };
    let mut conn = redis.connection();
    let key = "0123abcd/ops";
    set_lease(&mut conn, "a|1");
    assert_eq!(claim(&mut conn, "a|1", key), (1, 1), "the holder claims it with its token");
    assert_eq!(claim(&mut conn, "a|1", key), (1, 1), "and again, to try again");
    assert_eq!(claim(&mut conn, "b|2", key), (0, 0), "not the holder: not claimed");
    assert_eq!(claim(&mut conn, "", key), (0, 0), "a follower is told to look later");
    // The holder dies; the next takes the lease with a newer token and the older claim over.
    set_lease(&mut conn, "b|2");
    assert_eq!(claim(&mut conn, "a|1", key), (0, 0), "the old holder, fenced");
    assert_eq!(claim(&mut conn, "b|2", key), (1, 2), "the new holder takes the old claim over");
    // A claim of a newer token is never taken by an older one, even one holding a lease again.
    set_lease(&mut conn, "a|1");
    assert_eq!(claim(&mut conn, "a|1", key), (0, 0));
    set_lease(&mut conn, "b|2");

    let done = |conn: &mut redis::Connection, token: u64| -> i64 {
        DONE.key(format!("{PREFIX}:notify:{key}")).arg(token).arg(86_400_000).invoke(conn).unwrap()
    };
    assert_eq!(done(&mut conn, 2), 1);
    assert_eq!(claim(&mut conn, "b|2", key), (2, 2), "done: never sent again, the holder included");
    assert_eq!(claim(&mut conn, "", key), (2, 2), "a follower learns it was sent");
    assert_eq!(done(&mut conn, 1), 0, "done once");
    let ttl: i64 = redis::cmd("PTTL").arg(format!("{PREFIX}:notify:{key}")).query(&mut conn).unwrap();
    assert!(ttl > 86_000_000, "kept for the TTL given: {ttl}");
    assert_eq!(claim(&mut conn, "b|2", "another/ops"), (1, 2), "each delivery has its own claim");
}

struct Instance {
    addr: SocketAddr,
    child: Child,
}

async fn spawn(redis: &Redis, config: &Path, key: &Path, dir: &Path) -> Instance {
    let addr = common::free_addr();
    let child = common::livedash(addr, dir)
        .args(["--redis-url", &redis.url(), "--redis-prefix", PREFIX, "--redis-lease", "1s"])
        .arg("--config")
        .arg(config)
        .arg("--cluster-key-file")
        .arg(key)
        // Kept beside its store, for a failure to be looked into.
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .spawn()
        .expect("spawn livedash");
    assert!(common::wait_listening(addr, Duration::from_secs(6)).await, "livedash did not listen on {addr}");
    Instance { addr, child }
}

/// Two instances on `redis`, each with its own config naming it in an `X-Instance` header, the
/// rule `hot` (`cpu` above 90) notifying `ops` (the receiver); which of them holds the lease.
async fn two_instances(redis: &Redis, hook: &Receiver, upstream: SocketAddr, name: &str) -> ([Instance; 2], usize) {
    let dir = common::temp_dir(name);
    let key = dir.join("cluster.key");
    std::fs::write(&key, "a shared secret of more than thirty-two bytes\n").unwrap();
    let mut instances = Vec::new();
    for i in 0..2 {
        let own = dir.join(format!("instance-{i}"));
        std::fs::create_dir_all(&own).unwrap();
        let config = own.join("livedash.toml");
        let toml = format!(
            "interval = \"200ms\"\n\n[[source]]\nname = \"up\"\nurl = \"http://{upstream}/\"\n\n\
             [[notify]]\nname = \"ops\"\nwebhook = \"{}\"\nheaders = {{ X-Instance = \"{i}\" }}\n\n\
             [[alert]]\nname = \"hot\"\nsource = \"up\"\nseries = \"cpu\"\nabove = 90\nnotify = [\"ops\"]\n",
            hook.url()
        );
        std::fs::write(&config, toml).unwrap();
        instances.push(spawn(redis, &config, &key, &own).await);
    }
    let instances: [Instance; 2] = instances.try_into().ok().unwrap();
    let holder = holder([instances[0].addr, instances[1].addr]).await;
    (instances, holder)
}

fn firings(hits: &[Got]) -> Vec<&Got> {
    hits.iter().filter(|h| h.notices().iter().any(|n| n["rule"] == "hot" && n["status"] == "firing")).collect()
}

/// The claim of `key` in Redis.
fn claim_of(redis: &Redis, key: &str) -> Option<String> {
    redis::cmd("GET").arg(format!("{PREFIX}:notify:{key}")).query(&mut redis.connection()).unwrap()
}

/// Sets the value above the threshold and waits for the holder's first try, which the receiver
/// refuses; the event's id, its claim's key, and the holder's token in the claim.
async fn first_try(redis: &Redis, hook: &Receiver, value: &AtomicU64, holder: usize) -> (String, String, u64) {
    value.store(95f64.to_bits(), Ordering::Relaxed);
    assert!(hook.until(Duration::from_secs(10), |h| !firings(h).is_empty()).await, "the holder tries to deliver it");
    let tried = hook.got();
    let first = firings(&tried)[0].notices().into_iter().find(|n| n["rule"] == "hot").unwrap();
    let id = first["id"].as_str().expect("an id").to_owned();
    let key = format!("{id}/ops");
    let holders_claim: u64 = claim_of(redis, &key).expect("claimed before the send").parse().expect("a token");
    for hit in &tried {
        assert_eq!(hit.header("x-instance"), Some(holder.to_string().as_str()), "only the holder sends: {hit:?}");
        assert!(!hit.accepted());
    }
    (id, key, holders_claim)
}

/// The one accepted firing (after a while longer, for a second were there one), checked to be
/// `id`'s, from `survivor`, done in Redis under a newer token than `holders_claim`; that token.
async fn accepted_once(
    redis: &Redis,
    hook: &Receiver,
    (id, key, holders_claim): (&str, &str, u64),
    survivor: usize,
) -> (Got, u64) {
    assert!(
        hook.until(Duration::from_secs(20), |h| firings(h).iter().any(|f| f.accepted())).await,
        "the survivor delivers it"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hits = hook.got();
    let accepted: Vec<&Got> = firings(&hits).into_iter().filter(|h| h.accepted()).collect();
    assert_eq!(accepted.len(), 1, "accepted exactly once: {hits:#?}");
    let delivered = accepted[0].clone();
    assert_eq!(delivered.header("x-instance"), Some(survivor.to_string().as_str()), "from the survivor");
    let notice = delivered.notices().into_iter().find(|n| n["rule"] == "hot").unwrap();
    assert_eq!(notice["id"], id, "the same id");
    let done = claim_of(redis, key).expect("kept");
    let token: u64 = done.strip_prefix("done:").expect("marked done").parse().unwrap();
    assert!(token > holders_claim, "done under the survivor's newer token ({token} > {holders_claim})");
    (delivered, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holder_killed_before_its_delivery_went_through_the_receiver_gets_it_once_from_the_other() {
    let Some(redis) = Redis::start() else { return };
    let hook = Receiver::start().await;
    hook.answer(Reply::status(500));
    let (up, [value]) = common::upstream::values(["cpu"], 10.0).await;
    let (mut instances, holder) = two_instances(&redis, &hook, up, "cluster-notify-kill").await;
    let survivor = 1 - holder;
    // It fires; the holder claims the delivery and tries it; the receiver refuses.
    let (id, key, holders_claim) = first_try(&redis, &hook, &value, holder).await;

    // Killed before any try went through; the receiver takes them from now on.
    let pid = instances[holder].child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    let _ = instances[holder].child.wait().await;
    let killed_at = Instant::now();
    hook.answer(Reply::status(200));

    let (delivered, token) = accepted_once(&redis, &hook, (&id, &key, holders_claim), survivor).await;
    assert!(delivered.at > killed_at);
    assert!(fetches(instances[survivor].addr).await, "the survivor holds the lease now");
    #[allow(clippy::print_stderr)]
    {
        let tries = firings(&hook.got()).len();
        eprintln!(
            "id {id}: {tries} tries in all, the holder's claim (token {holders_claim}) refused, accepted once \
             {:?} after the kill from the survivor (token {token})",
            delivered.at - killed_at
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_hangs_mid_delivery_and_wakes_after_the_other_delivered_sends_nothing() {
    let Some(redis) = Redis::start() else { return };
    let hook = Receiver::start().await;
    hook.answer(Reply::status(500));
    let (up, [value]) = common::upstream::values(["cpu"], 10.0).await;
    let (instances, holder) = two_instances(&redis, &hook, up, "cluster-notify-hang").await;
    let survivor = 1 - holder;
    let (id, key, holders_claim) = first_try(&redis, &hook, &value, holder).await;

    // It hangs (SIGSTOP) between two tries, past its lease: the other takes over and delivers.
    let pid = instances[holder].child.id().expect("running").to_string();
    let signal =
        |name: &str| assert!(std::process::Command::new("kill").args([name, &pid]).status().unwrap().success());
    signal("-STOP");
    let stopped = Instant::now();
    hook.answer(Reply::status(200));
    let (delivered, token) = accepted_once(&redis, &hook, (&id, &key, holders_claim), survivor).await;
    // It wakes with its try overdue and its lease believed held: the claim says the delivery was
    // done, and it sends nothing.
    signal("-CONT");
    let woke = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let hits = hook.got();
    let after: Vec<&Got> = hits.iter().filter(|h| h.at > woke).collect();
    assert!(after.is_empty(), "nothing sent once it woke: {after:#?}");
    assert_eq!(firings(&hits).into_iter().filter(|h| h.accepted()).count(), 1);
    assert!(!fetches(instances[holder].addr).await, "the woken holder does not fetch");
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "id {id}: the hung holder's claim (token {holders_claim}) taken over, delivered once by the other \
             (token {token}) {:?} after the hang began; nothing sent by the holder in the 5 s after it woke",
            delivered.at - stopped
        );
    }
}
