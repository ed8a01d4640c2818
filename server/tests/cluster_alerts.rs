//! Alerts in a cluster, with the real binary: two `livedash` processes on one Redis, each with its
//! own history store; only the holder of a source's lease judges its rules, and its state changes
//! go through the shared stream with its fencing token. The holder is killed (SIGKILL) while a
//! rule is pending: the survivor takes the lease over and continues the pending alert from the
//! time it had already spent, and there is exactly one "fired" event in all (in the stream and
//! in both stores), written with the survivor's token. A holder that hangs instead (SIGSTOP) and
//! wakes after the survivor fired cannot announce its own "fired": fenced.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::cluster::{fetches, holder};
use common::redis_server::Redis;
use livedash::alerts::{AlertEvent, AlertState};
use redis::streams::StreamRangeReply;
use tokio::process::Child;

const PREFIX: &str = "alerting";
/// The rule's `for`: long against the lease (1 s), so that the takeover happens while it is pending.
const FOR: Duration = Duration::from_secs(5);
/// How long after the alert went pending the holder is killed.
const KILL_AFTER: Duration = Duration::from_millis(1500);

struct Instance {
    addr: SocketAddr,
    store: PathBuf,
    child: Child,
}

async fn spawn(redis: &Redis, config: &Path, key: &Path, name: &str) -> Instance {
    let addr = common::free_addr();
    let data = common::temp_dir(name);
    let store = data.join("history.db");
    let child = common::livedash(addr, &data)
        .args(["--redis-url", &redis.url(), "--redis-prefix", PREFIX, "--redis-lease", "1s"])
        .arg("--config")
        .arg(config)
        .arg("--cluster-key-file")
        .arg(key)
        .spawn()
        .expect("spawn livedash");
    assert!(common::wait_listening(addr, Duration::from_secs(6)).await, "livedash did not listen on {addr}");
    Instance { addr, store, child }
}

/// The alert state changes in the shared stream, with their seqs.
fn announced(redis: &Redis) -> Vec<AlertEvent> {
    let stream: StreamRangeReply =
        redis::cmd("XRANGE").arg(format!("{PREFIX}:samples")).arg("-").arg("+").query(&mut redis.connection()).unwrap();
    stream
        .ids
        .iter()
        .filter(|e| e.get::<String>("k").as_deref() == Some("a"))
        .map(|e| serde_json::from_str(&e.get::<String>("d").unwrap()).unwrap())
        .collect()
}

async fn until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The events a store file kept (read-only, beside a running server).
fn kept(store: &Path) -> Vec<AlertEvent> {
    livedash_server::store::alerts::events(store, 0, u64::MAX >> 1, 1000).unwrap()
}

fn entered(events: &[AlertEvent], state: AlertState) -> Vec<&AlertEvent> {
    events.iter().filter(|e| &*e.rule == "hot" && e.to == state).collect()
}

/// Two instances on `redis` watching an upstream whose value the test sets, with the rule `hot`
/// (`cpu` above 90 for [`FOR`]); which of them holds the source's lease.
async fn two_instances(redis: &Redis, name: &str) -> ([Instance; 2], usize, Arc<AtomicU64>) {
    let (up, [value]) = common::upstream::values(["cpu"], 10.0).await;
    let dir = common::temp_dir(name);
    let key = dir.join("cluster.key");
    std::fs::write(&key, "a shared secret of more than thirty-two bytes\n").unwrap();
    let config = dir.join("livedash.toml");
    let toml = format!(
        "interval = \"200ms\"\n\n[[source]]\nname = \"up\"\nurl = \"http://{up}/\"\n\n\
         [[alert]]\nname = \"hot\"\nsource = \"up\"\nseries = \"cpu\"\nabove = 90\nfor = \"{}s\"\n",
        FOR.as_secs()
    );
    std::fs::write(&config, toml).unwrap();
    let instances = [
        spawn(redis, &config, &key, &format!("{name}-0")).await,
        spawn(redis, &config, &key, &format!("{name}-1")).await,
    ];
    let holder = holder([instances[0].addr, instances[1].addr]).await;
    (instances, holder, value)
}

/// Sets the value above the rule's threshold and waits for the holder to announce it pending.
async fn go_pending(redis: &Redis, value: &AtomicU64) -> AlertEvent {
    value.store(95f64.to_bits(), Ordering::Relaxed);
    until("the holder announces the pending alert", Duration::from_secs(5), || {
        !entered(&announced(redis), AlertState::Pending).is_empty()
    })
    .await;
    entered(&announced(redis), AlertState::Pending)[0].clone()
}

/// Waits for the one fired event, and a while longer for a second one, were there one.
async fn fired_once(redis: &Redis) -> AlertEvent {
    until("the survivor fires it", Duration::from_secs(15), || {
        !entered(&announced(redis), AlertState::Firing).is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stream = announced(redis);
    let fired = entered(&stream, AlertState::Firing);
    assert_eq!(fired.len(), 1, "one fired event in the stream: {stream:?}");
    fired[0].clone()
}

#[tokio::test]
async fn the_survivor_continues_a_pending_alert_and_it_fires_once_in_all() {
    let Some(redis) = Redis::start() else { return };
    let (mut instances, holder, value) = two_instances(&redis, "cluster-alerts-kill").await;
    let survivor = 1 - holder;
    let pending = go_pending(&redis, &value).await;
    // Applied by both instances meanwhile (each reads the stream into its own store).
    tokio::time::sleep(KILL_AFTER).await;
    instances[holder].child.start_kill().unwrap();
    let _ = instances[holder].child.wait().await;

    let fired = fired_once(&redis).await;
    assert!(fetches(instances[survivor].addr).await, "the survivor holds the lease now");
    assert!(fired.token > pending.token, "fired under the survivor's newer lease: {fired:?}");
    assert!(pending.token > 0, "the holder's events carry its fencing token");
    // Continued, not begun anew: it fires `for` after it went pending (plus a sample interval,
    // and the moments the source was stale before the first sample under the new lease, which
    // pause it), where starting over at the takeover would take `KILL_AFTER` and most of a lease
    // longer (7.2 s at least).
    let after = fired.ts_ms - pending.ts_ms;
    assert!(
        after >= FOR.as_millis() as u64 - 100 && after < 6_500,
        "fired {after} ms after it went pending, for = {FOR:?}"
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "pending at {}, fired {after} ms later (for = {FOR:?}), tokens {} then {}",
            pending.ts_ms, pending.token, fired.token
        );
    }

    // Each store holds what the stream says, once: the killed instance's the pending event, the
    // survivor's both; one fired event in all.
    let (dead, alive) = (kept(&instances[holder].store), kept(&instances[survivor].store));
    assert_eq!(entered(&dead, AlertState::Pending).len(), 1, "{dead:?}");
    assert_eq!(entered(&alive, AlertState::Pending).len(), 1, "{alive:?}");
    let fired_in_stores = entered(&dead, AlertState::Firing).len() + entered(&alive, AlertState::Firing).len();
    assert_eq!(fired_in_stores, 1, "one fired event in both stores: {dead:?} {alive:?}");
    assert_eq!(entered(&alive, AlertState::Firing)[0].token, fired.token);
    assert_eq!(entered(&alive, AlertState::Pending)[0].token, pending.token);
}

#[tokio::test]
async fn a_holder_that_hangs_while_pending_cannot_fire_it_when_it_wakes() {
    let Some(redis) = Redis::start() else { return };
    let (instances, holder, value) = two_instances(&redis, "cluster-alerts-hang").await;
    let (hung, survivor) = (&instances[holder], &instances[1 - holder]);
    let pending = go_pending(&redis, &value).await;
    tokio::time::sleep(KILL_AFTER).await;
    let pid = hung.child.id().unwrap().to_string();
    let signal =
        |name: &str| assert!(std::process::Command::new("kill").args([name, &pid]).status().unwrap().success());
    // The holder hangs past its lease and past the rule's `for`: the other takes over and fires.
    signal("-STOP");
    until("the survivor fires it", Duration::from_secs(15), || {
        !entered(&announced(&redis), AlertState::Firing).is_empty()
    })
    .await;
    // It wakes up believing it holds the lease, its own countdown run out: what it decides is
    // fenced, and what it records is the survivor's decision, once.
    signal("-CONT");
    let fired = fired_once(&redis).await;
    assert!(fired.token > pending.token, "{fired:?}");
    assert!(!fetches(hung.addr).await, "the woken holder does not fetch");
    for store in [&hung.store, &survivor.store] {
        let events = kept(store);
        assert_eq!(entered(&events, AlertState::Pending).len(), 1, "{events:?}");
        let fired_here = entered(&events, AlertState::Firing);
        assert_eq!(fired_here.len(), 1, "one fired event in each store, the survivor's: {events:?}");
        assert_eq!(fired_here[0].token, fired.token);
    }
}
