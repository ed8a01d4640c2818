//! Alerts end to end: a real server on a real port fetching from a real upstream whose value the
//! test sets (and which it stops and starts again), rules from a real `--config` file, the store
//! in a real SQLite file, the `alerts` frame on a real WebSocket, `/metrics`, and the binary
//! refusing bad rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use livedash::Frame;
use livedash::alerts::{AlertEvent, AlertState, AlertsStatus};
use livedash_server::Running;

use common::upstream::{Stoppable, socket};
use common::{PASSWORD, basic, get};

fn config(name: &str, upstream: SocketAddr, rules: &str, store: bool) -> livedash_server::config::Config {
    let toml = format!("[[source]]\nname = \"up\"\nurl = \"http://{upstream}/\"\n\n{rules}");
    let mut config = common::test_config_with_file(name, &toml);
    if store {
        config.store = Some(common::store_settings(name));
    }
    config
}

async fn events(running: &Running) -> Vec<AlertEvent> {
    running.alerts.events(0, u64::MAX, 1000).await.expect("events")
}

fn of(events: &[AlertEvent], rule: &str) -> Vec<(AlertState, AlertState)> {
    events.iter().filter(|e| &*e.rule == rule).map(|e| (e.from, e.to)).collect()
}

/// Waits (10 s at most) until the events of `rule` are `n` or more; returns them all.
async fn wait_events(running: &Running, rule: &str, n: usize) -> Vec<AlertEvent> {
    for _ in 0..100 {
        let all = events(running).await;
        if of(&all, rule).len() >= n {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{rule}: fewer than {n} events: {:?}", events(running).await);
}

/// Lets `n` fetches (of 200 ms) happen.
async fn fetches(n: u64) {
    tokio::time::sleep(Duration::from_millis(200 * n)).await;
}

async fn metrics(addr: SocketAddr) -> String {
    get(addr, "/metrics", &[("Authorization", &basic("admin", PASSWORD))]).await.body
}

async fn next_frame(ws: &mut common::upstream::Socket) -> Frame {
    Frame::from_json(&common::upstream::next_text(ws).await).expect("a frame")
}

const VALUE_RULES: &str = r#"
[[alert]]
name = "busy"
source = "up"
series = "v"
above = 90
clear = 80
for = "1s"
severity = "critical"

[[alert]]
name = "busy held"
source = "u*"
series = "*"
above = 90
clear = 80
keep_firing_for = "1s"
"#;

const START: (AlertState, AlertState) = (AlertState::Ok, AlertState::Pending);
const FIRE: (AlertState, AlertState) = (AlertState::Pending, AlertState::Firing);
const FIRE_AT_ONCE: (AlertState, AlertState) = (AlertState::Ok, AlertState::Firing);
const RESOLVE: (AlertState, AlertState) = (AlertState::Firing, AlertState::Resolved);

#[tokio::test]
async fn a_rule_fires_after_for_holds_through_flapping_resolves_once_and_keep_firing_for_holds_it() {
    let up = Stoppable::start(50.0).await;
    let running = common::start_with(config("alerts-fire", up.addr, VALUE_RULES, false)).await;
    let mut ws = socket(running.addr, "").await;
    let hello = next_frame(&mut ws).await;
    let Frame::Hello(hello) = hello else { panic!("hello first") };
    assert_eq!(hello.alerts.map(|a| a.firing), Some(0), "the hello carries the alerts");
    fetches(3).await;
    assert!(events(&running).await.is_empty(), "50 is below 90");

    up.set(95.0);
    let all = wait_events(&running, "busy", 2).await;
    let busy: Vec<&AlertEvent> = all.iter().filter(|e| &*e.rule == "busy").collect();
    assert_eq!(of(&all, "busy"), [START, FIRE]);
    assert!(
        busy[1].ts_ms - busy[0].ts_ms >= 950,
        "fired {} ms after pending: before `for`",
        busy[1].ts_ms - busy[0].ts_ms
    );
    assert_eq!(of(&all, "busy held"), [FIRE_AT_ONCE], "no `for`: firing at once");
    let frame = loop {
        if let Frame::Alerts(a) = next_frame(&mut ws).await
            && a.firing == 2
        {
            break a;
        }
    };
    let busy_now = frame.instances.iter().find(|i| &*i.rule == "busy").expect("listed");
    assert_eq!(
        (busy_now.state, busy_now.series.as_deref(), busy_now.peak),
        (AlertState::Firing, Some("v"), Some(95.0))
    );
    let text = metrics(running.addr).await;
    assert!(text.contains(r#"livedash_alerts{state="firing"} 2"#), "{text}");
    assert!(text.contains(r#"livedash_alert_events_total{to="firing"} 2"#), "{text}");

    for v in [85.0, 95.0, 81.0, 99.0, 85.0] {
        up.set(v);
        fetches(2).await;
    }
    let all = events(&running).await;
    assert_eq!(of(&all, "busy"), [START, FIRE], "flapping between above and clear: no new event");
    assert_eq!(of(&all, "busy held"), [FIRE_AT_ONCE]);

    up.set(70.0);
    let all = wait_events(&running, "busy", 3).await;
    assert_eq!(of(&all, "busy"), [START, FIRE, RESOLVE]);
    let resolved = all.iter().find(|e| &*e.rule == "busy" && e.to == AlertState::Resolved).unwrap();
    assert_eq!((resolved.value, resolved.peak), (Some(70.0), Some(99.0)), "the resolving value, the episode's peak");
    let all = wait_events(&running, "busy held", 2).await;
    let held = all.iter().find(|e| &*e.rule == "busy held" && e.to == AlertState::Resolved).unwrap();
    assert!(held.ts_ms - resolved.ts_ms >= 950, "keep_firing_for held it {} ms", held.ts_ms - resolved.ts_ms);
    fetches(3).await;
    let all = events(&running).await;
    assert_eq!((of(&all, "busy").len(), of(&all, "busy held").len()), (3, 2), "resolved once: {all:?}");
    running.stop().await;
}

#[tokio::test]
async fn a_stopped_upstream_raises_one_source_alert_and_freezes_its_value_rules() {
    let rules = format!("{VALUE_RULES}\n[[alert]]\nname = \"quiet\"\nsource = \"up\"\nseries = \"v\"\nbelow = 10\n");
    let mut up = Stoppable::start(95.0).await;
    let running = common::start_with(config("alerts-down", up.addr, &rules, false)).await;
    wait_events(&running, "busy", 2).await;
    up.stop();
    up.set(50.0);
    let all = wait_events(&running, "source down", 2).await;
    assert_eq!(of(&all, "source down"), [START, FIRE], "firing after three failed fetches, not the first");
    fetches(10).await;
    let all = events(&running).await;
    assert_eq!(of(&all, "source down"), [START, FIRE], "one source alert");
    assert_eq!(of(&all, "busy"), [START, FIRE], "a failing fetch is not a value: neither resolves nor fires");
    assert_eq!(of(&all, "quiet"), [], "nor is it 0");
    let status: AlertsStatus = running.alerts.status();
    assert_eq!(status.firing, 3, "source down, and the two frozen value rules: {status:?}");
    let busy = status.instances.iter().find(|i| &*i.rule == "busy").unwrap();
    assert!(busy.reason.as_deref().is_some_and(|r| r.starts_with("frozen")), "{busy:?}");
    let source_alerts = status.instances.iter().filter(|i| i.series.is_none()).count();
    assert_eq!(source_alerts, 1);

    up.restart().await;
    let all = wait_events(&running, "source down", 3).await;
    assert_eq!(of(&all, "source down"), [START, FIRE, RESOLVE]);
    let all = wait_events(&running, "busy", 3).await;
    assert_eq!(of(&all, "busy"), [START, FIRE, RESOLVE], "back with 50: resolved by a value");
    running.stop().await;
}

#[tokio::test]
async fn a_restart_while_firing_keeps_since_and_fires_nothing_again() {
    let rules = format!(
        "{VALUE_RULES}\n[[alert]]\nname = \"slow\"\nsource = \"up\"\nseries = \"v\"\nabove = 90\nfor = \"1h\"\n"
    );
    let up = Stoppable::start(95.0).await;
    let running = common::start_with(config("alerts-restart", up.addr, &rules, true)).await;
    wait_events(&running, "busy", 2).await;
    fetches(3).await;
    let before = running.alerts.status();
    let since =
        |s: &AlertsStatus, rule: &str| s.instances.iter().find(|i| &*i.rule == rule).map(|i| (i.state, i.since_ms));
    let busy = since(&before, "busy").expect("firing");
    let slow = since(&before, "slow").expect("pending");
    assert_eq!((busy.0, slow.0), (AlertState::Firing, AlertState::Pending));
    running.stop().await;

    let running =
        common::start_with(config("alerts-restart-2", up.addr, &rules, false).with_store_of("alerts-restart")).await;
    let after = running.alerts.status();
    assert_eq!(since(&after, "busy"), Some(busy), "still firing, since the first life");
    assert_eq!(since(&after, "slow"), Some(slow), "still pending, since the first life");
    fetches(5).await;
    let after = running.alerts.status();
    assert_eq!(since(&after, "busy"), Some(busy));
    let all = events(&running).await;
    assert_eq!(of(&all, "busy"), [START, FIRE], "no new fired event: {all:?}");
    assert_eq!(of(&all, "slow"), [START]);
    running.stop().await;
}

#[test]
fn bad_rules_stop_start_up_naming_the_key() {
    let dir = common::temp_dir("alerts-bad");
    for (rules, key) in [
        ("[[alert]]\nname = \"a\"\nseries = \"v\"\nabove = 80\nclear = 90\n", "alert[0].clear"),
        (
            "[[alert]]\nname = \"a\"\nseries = \"v\"\nabove = 1\n[[alert]]\nname = \"b\"\nseries = \"v\"\nabove = 1\nfor = \"soon\"\n",
            "alert[1].for",
        ),
        (
            "[[alert]]\nname = \"a\"\nseries = \"v\"\nabove = 1\n[[alert]]\nname = \"a\"\nwhen = \"failing\"\n",
            "alert[1].name",
        ),
        ("[[alert]]\nname = \"a\"\nseries = \"v\"\nbelow = 1\nseverity = \"page\"\n", "alert[0].severity"),
        ("[[alert]]\nname = \"a\"\nwhen = \"sometimes\"\n", "alert[0].when"),
    ] {
        let path = dir.join("bad.toml");
        std::fs::write(&path, rules).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
            .args(["--config", path.to_str().unwrap(), "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .env("LIVEDASH_ADMIN_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{rules}: started");
        assert!(stderr.contains(key), "{rules}: {stderr}");
    }
}

trait WithStore {
    fn with_store_of(self, name: &str) -> Self;
}

impl WithStore for livedash_server::config::Config {
    /// The same store file as the test `name`'s.
    fn with_store_of(mut self, name: &str) -> Self {
        let mut settings = common::store_settings(&format!("{name}-unused"));
        let dir = std::env::temp_dir().join(format!("livedash-test-{name}-{}", std::process::id()));
        settings.path = dir.join("history.db");
        self.store = Some(settings);
        self
    }
}

#[tokio::test]
async fn alert_true_follows_the_cards_threshold_and_a_silence_lifts_by_itself() {
    use livedash::alerts::Hush;
    use livedash_server::alerts::{AlertsError, Target};
    let card = "[[source.series]]\nmatch = \"v\"\ncritical_above = 90\nalert = true\n";
    let up = Stoppable::start(90.0).await;
    let running = common::start_with(config("alerts-card", up.addr, card, false)).await;
    let names: Vec<String> = running.alerts.rules().iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names, ["up v warn", "up v critical", "source down"]);
    let all = wait_events(&running, "up v critical", 1).await;
    assert_eq!(of(&all, "up v critical"), [FIRE_AT_ONCE], "90 is at the card's line: red, and firing");
    assert_eq!(of(&all, "up v warn"), [], "the card has no warning line");

    let mut ws = socket(running.addr, "").await;
    let now = livedash_server::clock::now_ms();
    let target = |rule: &str| Target { rule: rule.to_owned(), source: None, series: None };
    let hush = |until_ms| Hush { by: "admin".into(), until_ms, comment: "deploying".into(), at_ms: now };
    assert!(matches!(
        running.alerts.silence(target("nope"), hush(Some(now + 800))).await,
        Err(AlertsError::UnknownRule(_))
    ));
    assert!(matches!(
        running.alerts.silence(target("up v critical"), hush(Some(now - 1))).await,
        Err(AlertsError::BadRequest(_))
    ));
    assert_eq!(running.alerts.silence(target("up v critical"), hush(Some(now + 800))).await.unwrap(), 1);
    assert_eq!(running.alerts.ack(target("up v critical"), hush(None)).await.unwrap(), 1);
    let (mut silenced, mut lifted) = (false, false);
    for _ in 0..200 {
        if let Frame::Alerts(a) =
            tokio::time::timeout(Duration::from_secs(5), next_frame(&mut ws)).await.expect("a frame in time")
            && let Some(i) = a.for_series("up", "v")
        {
            assert_eq!(i.state, AlertState::Firing, "a silenced alert still fires and is listed");
            silenced |= i.silenced.is_some();
            if silenced && i.silenced.is_none() {
                lifted = true;
                break;
            }
        }
    }
    assert!(silenced && lifted, "the silence showed, then lifted by itself (silenced {silenced}, lifted {lifted})");
    let status = running.alerts.status();
    let acked = status.for_series("up", "v").and_then(|i| i.acked.clone());
    assert_eq!(
        acked.map(|h| (h.by, h.comment)),
        Some(("admin".to_owned(), "deploying".to_owned())),
        "acked until it resolves"
    );
    running.stop().await;
}
