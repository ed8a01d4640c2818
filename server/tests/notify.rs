//! Notifications end to end: a real server fetching from a real upstream whose values the test
//! sets, rules from a real `--config` file, the outbox in a real SQLite file, and real webhook
//! receivers on loopback that answer what the test scripts (500s, a 429 with `Retry-After`, a
//! 400), are down, or come back after livedash restarted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use livedash_server::Running;
use livedash_server::config::Config;
use livedash_server::notify::DeliveryState;
use serde_json::Value;

use common::receiver::{Receiver, Reply};
use common::upstream::Stoppable;
use common::{PASSWORD, basic, get};

/// A `[[notify]]` table of a webhook channel.
fn webhook(name: &str, url: &str, fallback: Option<&str>) -> String {
    let fallback = fallback.map(|f| format!("fallback = \"{f}\"\n")).unwrap_or_default();
    format!("[[notify]]\nname = \"{name}\"\nwebhook = \"{url}\"\n{fallback}\n")
}

/// The source `up` on `upstream`, `rules` and `channels` (`[[notify]]` tables) in a real
/// `--config` file, and a store of its own.
fn config(name: &str, upstream: SocketAddr, rules: &str, channels: &[String]) -> Config {
    let toml = format!("[[source]]\nname = \"up\"\nurl = \"http://{upstream}/\"\n\n{rules}\n{}", channels.concat());
    let mut config = common::test_config_with_file(name, &toml);
    config.store = Some(common::store_settings(name));
    config
}

const BUSY: &str =
    "[[alert]]\nname = \"busy\"\nsource = \"up\"\nseries = \"v0\"\nabove = 90\nseverity = \"critical\"\n";

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Waits (5 s at most) until no delivery is open any more (the last answer is written).
async fn settled(running: &Running) {
    for _ in 0..50 {
        let rows = running.notifier.deliveries(None, 100).await.unwrap();
        if rows.iter().all(|d| !matches!(d.state, DeliveryState::Pending | DeliveryState::Held)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn metrics(running: &Running) -> String {
    get(running.addr, "/metrics", &[("Authorization", &basic("admin", PASSWORD))]).await.body
}

#[tokio::test]
async fn a_firing_and_its_resolution_arrive_once_each_with_their_fields_through_500_500_200() {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500), Reply::status(500)]);
    let up = Stoppable::series(1, 95.0).await;
    let running =
        common::start_with(config("notify-fields", up.addr, BUSY, &[webhook("ops", &receiver.url(), None)])).await;
    let got = receiver.wait(3, Duration::from_secs(20)).await;
    assert_eq!(got.iter().map(|g| g.answered).collect::<Vec<_>>(), [500, 500, 200]);
    let gaps: Vec<Duration> = got.windows(2).map(|w| w[1].at - w[0].at).collect();
    eprintln!("500, 500, 200: tries {:?} apart", gaps);
    assert!(gaps[0] >= Duration::from_millis(700) && gaps[1] >= Duration::from_millis(1400), "{gaps:?}");
    let firing: Vec<Value> = got.iter().map(|g| g.notices().remove(0)).collect();
    assert!(firing.iter().all(|n| n["id"] == firing[0]["id"]), "the id is the same on every try: {firing:?}");
    let f = &firing[0];
    assert_eq!((str_of(f, "status"), str_of(f, "rule"), str_of(f, "severity")), ("firing", "busy", "critical"));
    assert_eq!((str_of(f, "source"), str_of(f, "series")), ("up", "v0"));
    assert_eq!((f["value"].as_f64(), f["threshold"].as_f64()), (Some(95.0), Some(90.0)));
    assert!(f["resolved_at"].is_null());
    let base = format!("http://{}", running.addr);
    assert!(str_of(f, "url").starts_with(&format!("{base}/?chart=v0&source=up&from=")), "{f}");
    assert_eq!(str_of(f, "silence_url"), format!("{base}/alerts?silence=busy&source=up&series=v0"));

    // A worse value, then recovery: the resolved message has the value at recovery, the peak and
    // how long it lasted.
    up.set(99.0);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    up.set(40.0);
    let got = receiver.wait(4, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 4, "one resolved message");
    let r = got[3].notices().remove(0);
    assert_eq!(str_of(&r, "status"), "resolved");
    assert_ne!(r["id"], f["id"]);
    assert_eq!((r["value"].as_f64(), r["peak"].as_f64()), (Some(40.0), Some(99.0)), "{r}");
    assert_eq!(r["started_at"], f["started_at"]);
    assert!(r["resolved_at"].is_string() && r["duration_s"].as_u64().unwrap() >= 1, "{r}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.got().len(), 4, "nothing sent twice");

    settled(&running).await;
    let rows = running.notifier.deliveries(Some("busy"), 10).await.unwrap();
    let seen: Vec<(DeliveryState, u32)> = rows.iter().map(|d| (d.state, d.attempts)).collect();
    assert_eq!(seen, [(DeliveryState::Sent, 1), (DeliveryState::Sent, 3)], "newest first");
    let text = metrics(&running).await;
    for line in [
        r#"livedash_notify_sent_total{channel="ops"} 2"#,
        r#"livedash_notify_retried_total{channel="ops"} 2"#,
        r#"livedash_notify_failed_total{channel="ops"} 0"#,
        r#"livedash_notify_waiting{channel="ops"} 0"#,
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    running.stop().await;
}

#[tokio::test]
async fn a_429_with_retry_after_2_is_tried_again_no_sooner_than_2_s_later() {
    let receiver = Receiver::start().await;
    receiver.script([Reply::new(429, "busy", Some("2"))]);
    let up = Stoppable::series(1, 95.0).await;
    let running =
        common::start_with(config("notify-429", up.addr, BUSY, &[webhook("ops", &receiver.url(), None)])).await;
    let got = receiver.wait(2, Duration::from_secs(15)).await;
    assert_eq!(got.iter().map(|g| g.answered).collect::<Vec<_>>(), [429, 200]);
    eprintln!("429 Retry-After: 2, then 200: tried again {:?} later", got[1].at - got[0].at);
    assert!(got[1].at - got[0].at >= Duration::from_secs(2));
    assert_eq!(got[0].notices()[0]["id"], got[1].notices()[0]["id"]);
    running.stop().await;
}

#[tokio::test]
async fn a_delivery_pending_across_a_restart_is_delivered_once_when_the_receiver_is_back() {
    let addr = common::free_addr();
    let url = format!("http://{addr}/hook");
    let up = Stoppable::series(1, 95.0).await;
    let config = config("notify-restart", up.addr, BUSY, &[webhook("ops", &url, None)]);
    let running = common::start_with(config.clone()).await;
    let mut tried = false;
    for _ in 0..100 {
        let rows = running.notifier.deliveries(None, 10).await.unwrap();
        if rows.first().is_some_and(|d| d.attempts >= 1 && d.state == DeliveryState::Pending) {
            tried = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(tried, "a failed try while the receiver is down");
    running.stop().await;

    let receiver = Receiver::start_on(addr).await;
    let running = common::start_with(config).await;
    let got = receiver.wait(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "delivered after the restart");
    assert_eq!(str_of(&got[0].notices()[0], "status"), "firing");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.got().len(), 1, "once");
    settled(&running).await;
    let rows = running.notifier.deliveries(None, 10).await.unwrap();
    assert_eq!(rows.iter().map(|d| d.state).collect::<Vec<_>>(), [DeliveryState::Sent]);
    running.stop().await;
}

#[tokio::test]
async fn a_source_down_with_20_value_rules_is_one_message() {
    let rules: String = (0..20)
        .map(|i| format!("[[alert]]\nname = \"r{i}\"\nsource = \"up\"\nseries = \"v{i}\"\nabove = 50\n\n"))
        .collect();
    let receiver = Receiver::start().await;
    let mut up = Stoppable::series(20, 95.0).await;
    let running =
        common::start_with(config("notify-group", up.addr, &rules, &[webhook("ops", &receiver.url(), None)])).await;
    let got = receiver.wait(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got_all = receiver.got();
    assert_eq!(got_all.len(), 1, "20 rules firing together are one message");
    assert_eq!(got[0].notices().len(), 20);

    up.stop();
    let got = receiver.wait(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.got().len(), 2, "the source down is one message");
    let down = got[1].notices();
    assert_eq!(down.len(), 1, "its value rules add nothing: {down:?}");
    assert_eq!((str_of(&down[0], "rule"), str_of(&down[0], "status")), ("source down", "firing"));
    assert!(down[0]["reason"].as_str().is_some_and(|r| !r.is_empty()), "why it is down: {down:?}");

    up.set(10.0);
    up.restart().await;
    let got = receiver.wait(3, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.got().len(), 3, "back up: one message");
    let back = got[2].notices();
    assert_eq!(back.len(), 21, "the source and its 20 rules resolved together: {back:?}");
    assert!(back.iter().all(|n| n["status"] == "resolved" && n["source"] == "up"));
    running.stop().await;
}

#[tokio::test]
async fn a_400_fails_with_its_reason_and_the_fallback_channel_gets_it() {
    let refusing = Receiver::start().await;
    refusing.script([Reply::status(400)]);
    let fallback = Receiver::start().await;
    let rules = format!("{BUSY}notify = [\"ops\"]\n");
    let channels = &[webhook("ops", &refusing.url(), Some("mail")), webhook("mail", &fallback.url(), None)];
    let up = Stoppable::series(1, 95.0).await;
    let running = common::start_with(config("notify-400", up.addr, &rules, channels)).await;
    let got = fallback.wait(1, Duration::from_secs(10)).await;
    let rows = running.notifier.deliveries(None, 10).await.unwrap();
    let events = running.alerts.events(0, u64::MAX, 100).await.unwrap();
    assert_eq!(got.len(), 1, "the fallback got it: {rows:?} {events:?} {:?}", refusing.got());
    assert_eq!(refusing.got().len(), 1, "a 400 is not tried again");
    assert_eq!(got[0].notices()[0]["id"], refusing.got()[0].notices()[0]["id"], "the same id");
    settled(&running).await;
    let failed = running.notifier.failed(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].channel.as_str(), failed[0].state), ("ops", DeliveryState::Failed));
    assert!(failed[0].last.as_deref().unwrap_or_default().contains("400"), "{:?}", failed[0].last);
    let text = metrics(&running).await;
    assert!(text.contains(r#"livedash_notify_failed_total{channel="ops"} 1"#), "{text}");
    assert!(text.contains(r#"livedash_notify_sent_total{channel="mail"} 1"#), "{text}");
    running.stop().await;
}

#[tokio::test]
async fn a_delivery_due_while_its_alert_is_silenced_is_not_sent() {
    use livedash::alerts::Hush;
    use livedash_server::alerts::Target;
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500)]);
    let up = Stoppable::series(1, 95.0).await;
    let running =
        common::start_with(config("notify-silenced", up.addr, BUSY, &[webhook("ops", &receiver.url(), None)])).await;
    assert_eq!(receiver.wait(1, Duration::from_secs(10)).await.len(), 1, "the first try, refused");
    let now = livedash_server::clock::now_ms();
    let hush = Hush { by: "ana".into(), until_ms: Some(now + 60_000), comment: "deploying".into(), at_ms: now };
    let target = Target { rule: "busy".into(), source: None, series: None };
    running.alerts.silence(target, hush).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.got().len(), 1, "not tried again while silenced");
    let rows = running.notifier.deliveries(None, 10).await.unwrap();
    assert_eq!(rows.iter().map(|d| (d.state, d.attempts)).collect::<Vec<_>>(), [(DeliveryState::Silenced, 1)]);
    running.stop().await;
}
