//! Quiet hours and reminders, with the real binary, its history store (the outbox) and a real
//! webhook receiver. Quiet hours run under libfaketime (Debian's `faketime`; the wall clock only,
//! the monotonic one left alone): the process starts inside them, an alert fires and stays, another
//! fires and resolves, nothing is sent; the wall clock is then set to three seconds before their
//! end, and at the end ONE digest arrives: the one still firing, and the pair as one notice with
//! `resolved_at`. Reminders: a channel with `repeat = "2s"` is reminded of a firing alert every
//! two seconds (each reminder its own id) until somebody acknowledges it.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // a skip says why, on stderr

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DurationRound, Local, TimeDelta};
use common::receiver::{Got, Receiver};
use common::{PASSWORD, basic};
use tokio::process::{Child, Command};

fn set(value: &AtomicU64, v: f64) {
    value.store(v.to_bits(), Ordering::Relaxed);
}

/// The config: the source `up`, the channel `ops` (`channel` holds its other keys), the rules
/// `hot` (cpu above 90) and `blip` (mem above 90) notifying it.
fn config(dir: &Path, upstream: SocketAddr, hook: &Receiver, channel: &str) -> std::path::PathBuf {
    let path = dir.join("livedash.toml");
    let toml = format!(
        "interval = \"100ms\"\n\n[[source]]\nname = \"up\"\nurl = \"http://{upstream}/\"\n\n\
         [[notify]]\nname = \"ops\"\nwebhook = \"{}\"\n{channel}\n\n\
         [[alert]]\nname = \"hot\"\nsource = \"up\"\nseries = \"cpu\"\nabove = 90\nnotify = [\"ops\"]\n\n\
         [[alert]]\nname = \"blip\"\nsource = \"up\"\nseries = \"mem\"\nabove = 90\nnotify = [\"ops\"]\n",
        hook.url()
    );
    std::fs::write(&path, toml).unwrap();
    path
}

fn livedash(addr: SocketAddr, dir: &Path, config: &Path) -> Command {
    let mut command = common::livedash(addr, dir);
    command.arg("--config").arg(config);
    command
}

async fn started(mut command: Command, addr: SocketAddr) -> Child {
    let child = command.spawn().unwrap();
    assert!(common::wait_listening(addr, Duration::from_secs(10)).await, "livedash did not listen on {addr}");
    child
}

/// The state of `rule`'s instance, as `GET /api/alerts` says.
async fn state_of(addr: SocketAddr, rule: &str) -> String {
    let r = common::get(addr, "/api/alerts", &[("Authorization", &basic("admin", PASSWORD))]).await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
    let instances = v["instances"].as_array().cloned().unwrap_or_default();
    instances
        .iter()
        .find(|i| i["rule"] == rule)
        .map(|i| i["state"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default()
}

/// Whether one of the events of `rule` entered `state` (the log, as `GET /api/alerts/events`
/// says).
async fn entered(addr: SocketAddr, rule: &str, state: &str) -> bool {
    let r = common::get(addr, "/api/alerts/events?limit=1000", &[("Authorization", &basic("admin", PASSWORD))]).await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
    v["events"].as_array().is_some_and(|e| e.iter().any(|e| e["rule"] == rule && e["to"] == state))
}

async fn until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn minute(t: chrono::DateTime<Local>) -> String {
    t.format("%H:%M").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_hold_what_fires_and_send_one_digest_at_their_end() {
    if !common::faketime::present() {
        return;
    }
    let dir = common::temp_dir("notify-quiet");
    let hook = Receiver::start().await;
    let (up, [cpu, mem]) = common::upstream::values(["cpu", "mem"], 10.0).await;
    // Quiet from an hour from now to two hours from now (local time); the process starts an hour
    // and a half ahead, inside them.
    let real = Local::now();
    let start = (real + TimeDelta::hours(1)).duration_trunc(TimeDelta::minutes(1)).unwrap();
    let end = (real + TimeDelta::hours(2)).duration_trunc(TimeDelta::minutes(1)).unwrap();
    let quiet = format!("quiet = \"{}-{}\"", minute(start), minute(end));
    let config = config(&dir, up, &hook, &quiet);
    let offset = dir.join("faketime");
    std::fs::write(&offset, "+5400\n").unwrap();
    let addr = common::free_addr();
    let mut command = livedash(addr, &dir, &config);
    common::faketime::offset_by(&mut command, &offset);
    let _child = started(command, addr).await;

    // Inside: `hot` fires and stays; `blip` fires and resolves.
    set(&cpu, 95.0);
    set(&mem, 95.0);
    until("hot and blip fire", Duration::from_secs(10), async || {
        state_of(addr, "hot").await == "firing" && entered(addr, "blip", "firing").await
    })
    .await;
    set(&mem, 10.0);
    until("blip resolves", Duration::from_secs(10), async || entered(addr, "blip", "resolved").await).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(hook.got().is_empty(), "nothing is sent inside quiet hours: {:#?}", hook.got());

    // Three seconds before their end.
    let to_end = (end - Local::now()).num_seconds() - 3;
    std::fs::write(&offset, format!("+{to_end}\n")).unwrap();
    let jumped = Instant::now();
    assert!(hook.until(Duration::from_secs(20), |h| !h.is_empty()).await, "the digest at their end");
    let at = hook.got()[0].at;
    // A while longer, for anything else that would come.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hits = hook.got();
    assert_eq!(hits.len(), 1, "one message: {hits:#?}");
    let digest: &Got = &hits[0];
    assert!(at >= jumped + Duration::from_secs(2), "sent at the end, not at the jump: {:?}", at - jumped);
    assert_eq!(digest.body["kind"], "digest", "{:#}", digest.body);
    let notices = digest.notices();
    assert_eq!(notices.len(), 2, "the one still firing, and the pair as one: {:#}", digest.body);
    let hot = notices.iter().find(|n| n["rule"] == "hot").expect("hot in the digest");
    assert_eq!(hot["status"], "firing");
    assert!(hot["resolved_at"].is_null());
    let blip = notices.iter().find(|n| n["rule"] == "blip").expect("blip in the digest");
    assert_eq!(blip["status"], "resolved", "the pair is its resolution: {blip:#}");
    assert!(blip["resolved_at"].is_string() && blip["started_at"].is_string(), "{blip:#}");
    assert!(blip["resolved_at"].as_str() > blip["started_at"].as_str());
    eprintln!("the digest came {:?} after the clock was set 3 s before the end: {:#}", at - jumped, digest.body);
}

fn reminders(hits: &[Got]) -> Vec<&Got> {
    hits.iter().filter(|h| h.body["kind"] == "reminder").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_alert_is_reminded_of_every_repeat_until_acknowledged() {
    let dir = common::temp_dir("notify-repeat");
    let hook = Receiver::start().await;
    let (up, [cpu, _]) = common::upstream::values(["cpu", "mem"], 10.0).await;
    let config = config(&dir, up, &hook, "repeat = \"2s\"");
    let addr = common::free_addr();
    let _child = started(livedash(addr, &dir, &config), addr).await;

    set(&cpu, 95.0);
    assert!(hook.until(Duration::from_secs(10), |h| !h.is_empty()).await, "the firing is sent");
    let firing = hook.got()[0].clone();
    assert_eq!(firing.body["kind"], "alert");
    assert_eq!(firing.body["status"], "firing");
    assert!(hook.until(Duration::from_secs(10), |h| reminders(h).len() >= 2).await, "reminded of it, twice");
    let hits = hook.got();
    let (one, two) = (reminders(&hits)[0], reminders(&hits)[1]);
    for r in [one, two] {
        assert_eq!((&r.body["rule"], &r.body["status"]), (&"hot".into(), &"firing".into()), "{:#}", r.body);
        assert_ne!(r.body["id"], firing.body["id"], "a reminder has its own id");
        assert!(r.body["value"].as_f64().is_some_and(|v| v > 90.0));
    }
    assert_ne!(one.body["id"], two.body["id"]);
    // Made `repeat` apart on the monotonic clock; sent a moment later each (the margin is the
    // sends' own delays, which vary).
    assert!(one.at - firing.at >= Duration::from_secs(1), "{:?}", one.at - firing.at);
    assert!(two.at - one.at >= Duration::from_secs(1), "every repeat, not sooner: {:?}", two.at - one.at);

    // Acknowledged: no more reminders (one made before the answer may still come).
    let body = r#"{"rule":"hot","comment":"on it"}"#;
    let request = format!(
        "POST /api/alerts/ack HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Authorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
        basic("admin", PASSWORD),
        body.len()
    );
    let r = common::raw(addr, request.as_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_ack = reminders(&hook.got()).len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(reminders(&hook.got()).len(), after_ack, "no reminder once acknowledged");
    eprintln!(
        "reminders {:?} and {:?} after the firing; {after_ack} in all before the acknowledgement",
        one.at - firing.at,
        two.at - firing.at
    );
}
