//! The notifications API and the Alerts view's notification parts against a real server, a real
//! upstream and real HTTP receivers started here on loopback, with webhook URLs that hold a
//! secret token: a test from the page reaches the receiver and comes back with its answer; one
//! from another site or by a viewer is refused with 403 and sends nothing; malformed requests are
//! 4xx naming the field, an unknown channel a 404; a receiver that refuses or is down is a 502
//! with its reason; no answer (JSON, page, redirect) ever holds the secret; a message's silence
//! link opens the view with the form filled in, and only its POST silences.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use common::receiver::{Receiver, Reply};
use common::{Response, basic};

const ANA: &str = "ana-password";
const WALL: &str = "wall-password";
/// The token inside every webhook URL: it must never come back in an answer.
const SECRET: &str = "s3cr3tT0ken4242";

/// Receivers on one port: `/ok/TOKEN` answers 200 "thanks", `/refuse/TOKEN` 400 "unknown hook".
async fn receiver() -> Receiver {
    let receiver = Receiver::start().await;
    receiver.answer_at("/ok/", Reply::new(200, "thanks", None));
    receiver.answer_at("/refuse/", Reply::new(400, "unknown hook", None));
    receiver
}

/// The channels: `ops` (accepts), `picky` (refuses with 400) and `gone` (nobody listens), each
/// URL with the secret in its path and its query.
fn channels(receiver: SocketAddr) -> String {
    let gone = common::free_addr();
    format!(
        "[[notify]]\nname = \"ops\"\nwebhook = \"http://{receiver}/ok/{SECRET}?token={SECRET}\"\n\n\
         [[notify]]\nname = \"picky\"\nwebhook = \"http://{receiver}/refuse/{SECRET}?token={SECRET}\"\n\n\
         [[notify]]\nname = \"gone\"\nwebhook = \"http://{gone}/ok/{SECRET}?token={SECRET}\"\n"
    )
}

/// A server with the rule `hot` (temp above 50) on the upstream, the channels, `ana` who may act
/// and `wall` who may only look, and a real history store.
async fn server(name: &str) -> (livedash_server::Running, Arc<AtomicU64>, Receiver) {
    let (up, [value]) = common::upstream::values(["temp"], 20.0).await;
    let hooks = receiver().await;
    let toml = format!(
        "viewers = [\"wall\"]\n\n[[source]]\nname = \"up\"\nurl = \"http://{up}/\"\n\n\
         [[alert]]\nname = \"hot\"\nsource = \"up\"\nseries = \"temp\"\nabove = 50\nseverity = \"critical\"\n\n{}",
        channels(hooks.addr)
    );
    let mut config = common::test_config_with_file(name, &toml);
    config.users = common::users_file(name, &[("ana", ANA), ("wall", WALL)]);
    config.store = Some(common::store_settings(name));
    (common::start_with(config).await, value, hooks)
}

/// `POST path` with `body` of `kind` and extra header lines; no part of the answer holds the secret.
async fn post_to(addr: SocketAddr, path: &str, kind: &str, body: &str, headers: &[(&str, &str)]) -> Response {
    let r = common::post(addr, path, kind, body, headers).await;
    assert_no_secret(&r, path);
    r
}

/// Fails if any part of `r` holds the secret.
fn assert_no_secret(r: &Response, what: &str) {
    assert!(!r.body.contains(SECRET), "{what}: the secret is in the body: {}", r.body);
    for (name, value) in &r.headers {
        assert!(!value.contains(SECRET), "{what}: the secret is in {name}: {value}");
    }
}

async fn get_as(addr: SocketAddr, path: &str, auth: &str) -> Response {
    let r = common::get(addr, path, &[("Authorization", auth)]).await;
    assert_no_secret(&r, path);
    r
}

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

fn ana() -> String {
    basic("ana", ANA)
}

#[tokio::test]
async fn a_test_from_another_site_or_a_viewer_is_refused_and_malformed_ones_are_4xx() {
    let (server, _, hooks) = server("notify-refused").await;
    let addr = server.addr;
    for (who, headers) in [
        ("cross-site", vec![("Authorization", ana()), ("Sec-Fetch-Site", "cross-site".to_owned())]),
        ("same-site", vec![("Authorization", ana()), ("Sec-Fetch-Site", "same-site".to_owned())]),
        ("foreign Origin", vec![("Authorization", ana()), ("Origin", "https://evil.example".to_owned())]),
        ("viewer", vec![("Authorization", basic("wall", WALL)), ("Sec-Fetch-Site", "same-origin".to_owned())]),
        ("viewer by script", vec![("Authorization", basic("wall", WALL))]),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let r = post_to(addr, "/api/notify/test", FORM, "channel=ops", &headers).await;
        assert_eq!(r.status, 403, "{who}: {}", r.body);
        let r = post_to(addr, "/api/notify/test", JSON, r#"{"channel":"ops"}"#, &headers).await;
        assert_eq!(r.status, 403, "{who}: {}", r.body);
    }
    let r = post_to(addr, "/api/notify/test", JSON, r#"{"channel":"ops"}"#, &[]).await;
    assert_eq!(r.status, 401, "no credentials: {}", r.body);

    let auth = ana();
    let auth = [("Authorization", auth.as_str())];
    for (kind, body, status, says) in [
        (JSON, r#"{}"#, 400, "`channel`"),
        (JSON, r#"{"channel":""}"#, 400, "`channel`"),
        (JSON, r#"{"channel":["ops"]}"#, 400, "`channel`"),
        (JSON, r#"{"channel":"ops","to":"x"}"#, 400, "`to`"),
        (JSON, r#"["ops"]"#, 400, "`body`"),
        (JSON, "{not json", 400, "`body`"),
        (FORM, "chan=ops", 400, "`chan`"),
        (FORM, &format!("channel={}", "x".repeat(201)), 400, "`channel`"),
        ("text/plain", "channel=ops", 415, "`content-type`"),
        (JSON, r#"{"channel":"nobody"}"#, 404, "nobody"),
        (FORM, "channel=nobody", 404, "nobody"),
    ] {
        let r = post_to(addr, "/api/notify/test", kind, body, &auth).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(r.body.contains(says), "{body}: {}", r.body);
    }
    for (query, param) in [("limit=0", "limit"), ("limit=lots", "limit"), ("rule=", "rule"), ("channel=ops", "channel")]
    {
        let r = get_as(addr, &format!("/api/notify/deliveries?{query}"), auth[0].1).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert!(r.body.contains(&format!("`{param}`")), "{query}: {}", r.body);
    }
    assert!(hooks.got().is_empty(), "a refused request reached a receiver");
    server.stop().await;
}

#[tokio::test]
async fn a_test_reaches_the_receiver_and_no_answer_holds_the_secret() {
    let (server, _, hooks) = server("notify-test").await;
    let addr = server.addr;
    let auth = ana();

    // The channels, as the API shows them: names and kinds, never the URL's secret.
    let r = get_as(addr, "/api/notify", &auth).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body: Value = serde_json::from_str(&r.body).expect("json");
    let names: Vec<&str> =
        body["channels"].as_array().expect("a list").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["ops", "picky", "gone"], "{body}");
    assert!(body["channels"].as_array().expect("a list").iter().all(|c| c["kind"] == "webhook"), "{body}");

    // A script's test: the receiver's answer.
    let r = post_to(addr, "/api/notify/test", JSON, r#"{"channel":"ops"}"#, &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let answer: Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!((answer["answer"]["code"].as_u64(), answer["answer"]["text"].as_str()), (Some(200), Some("thanks")));
    {
        let got = hooks.got();
        assert_eq!(got.len(), 1, "sent once: {got:?}");
        let sent: Value = got[0].json();
        assert_eq!(sent["kind"], "test", "{sent}");
    }

    // The page's button: a 303 back to the view, which shows the answer.
    let origin = format!("http://{addr}");
    let page = [("Authorization", auth.as_str()), ("Sec-Fetch-Site", "same-origin"), ("Origin", origin.as_str())];
    let r = post_to(addr, "/api/notify/test", FORM, "channel=ops", &page).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let back = r.header("location").expect("a Location").to_owned();
    assert!(back.starts_with("../../alerts?done=test&channel=ops&code=200&answer=thanks"), "{back}");
    let view = get_as(addr, &format!("/{}", back.trim_start_matches("../../")), &auth).await;
    assert!(view.body.contains("The test to ops was accepted: the receiver answered 200: “thanks”"), "{}", view.body);

    // A receiver that refuses, one that is down: 502 with the reason, no secret; the form comes
    // back to the view with it.
    let r = post_to(addr, "/api/notify/test", JSON, r#"{"channel":"picky"}"#, &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(r.body.contains("400") && r.body.contains("unknown hook"), "{}", r.body);
    let r = post_to(addr, "/api/notify/test", JSON, r#"{"channel":"gone"}"#, &[("Authorization", &auth)]).await;
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(serde_json::from_str::<Value>(&r.body).expect("json")["may_retry"], true, "{}", r.body);
    let r = post_to(addr, "/api/notify/test", FORM, "channel=picky", &page).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let back = r.header("location").expect("a Location").to_owned();
    assert!(back.starts_with("../../alerts?done=test&channel=picky&failed="), "{back}");
    let view = get_as(addr, &format!("/{}", back.trim_start_matches("../../")), &auth).await;
    assert!(view.body.contains("The test to picky failed: ") && view.body.contains("unknown hook"), "{}", view.body);

    // Every other answer: the channels section with a button per channel, the deliveries.
    let view = get_as(addr, "/alerts", &auth).await;
    assert!(view.body.contains("action=\"/api/notify/test\"") && view.body.contains("Send test"), "{}", view.body);
    let viewer = get_as(addr, "/alerts", &basic("wall", WALL)).await;
    assert!(viewer.body.contains("picky") && !viewer.body.contains("/api/notify/test"), "{}", viewer.body);
    let r = get_as(addr, "/api/notify/deliveries", &auth).await;
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn a_silence_link_opens_the_filled_in_form_and_only_its_post_silences() {
    let (server, value, _hooks) = server("notify-silence-link").await;
    let addr = server.addr;
    value.store(70f64.to_bits(), Ordering::Relaxed);
    let auth = ana();
    let hot = || async {
        let r = get_as(addr, "/api/alerts", &auth).await;
        let all: Value = serde_json::from_str(&r.body).expect("json");
        all["instances"].as_array().and_then(|a| a.iter().find(|i| i["rule"] == "hot").cloned()).unwrap_or_default()
    };
    for _ in 0..100 {
        if hot().await["state"] == "firing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(hot().await["state"], "firing");

    let link = "/alerts?silence=hot&source=up&series=temp";
    let view = get_as(addr, link, &auth).await;
    assert_eq!(view.status, 200, "{}", view.body);
    assert!(view.body.contains("Silence hot on up · temp"), "{}", view.body);
    for field in [r#"name="rule" value="hot""#, r#"name="source" value="up""#, r#"name="series" value="temp""#] {
        assert!(view.body.contains(field), "{field}: {}", view.body);
    }
    assert!(view.body.contains("autofocus"), "the form is ready to type in");
    assert!(hot().await.get("silenced").is_none(), "a GET silenced it");
    let viewer = get_as(addr, link, &basic("wall", WALL)).await;
    assert!(viewer.body.contains("read-only") && !viewer.body.contains("silence-link-for"), "{}", viewer.body);
    let unknown = get_as(addr, "/alerts?silence=nope", &auth).await;
    assert!(unknown.body.contains("No rule is named “nope”"), "{}", unknown.body);

    let origin = format!("http://{addr}");
    let page = [("Authorization", auth.as_str()), ("Sec-Fetch-Site", "same-origin"), ("Origin", origin.as_str())];
    let r = post_to(addr, "/api/alerts/silence", FORM, "rule=hot&source=up&series=temp&for=1h&comment=", &page).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(hot().await["silenced"]["by"], "ana");
    server.stop().await;
}

#[tokio::test]
async fn an_alerts_delivery_state_per_channel_and_a_failed_ones_reason_are_shown() {
    let (server, value, hooks) = server("notify-deliveries").await;
    let addr = server.addr;
    let auth = ana();
    value.store(70f64.to_bits(), Ordering::Relaxed);
    let state_of = |all: &Value, channel: &str| {
        all["deliveries"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["channel"] == channel && d["rule"] == "hot"))
            .map(|d| d["state"].as_str().unwrap_or("").to_owned())
    };
    let mut all = Value::Null;
    for _ in 0..150 {
        let r = get_as(addr, "/api/notify/deliveries?rule=hot", &auth).await;
        assert_eq!(r.status, 200, "{}", r.body);
        all = serde_json::from_str(&r.body).expect("json");
        if state_of(&all, "ops").as_deref() == Some("sent") && state_of(&all, "picky").as_deref() == Some("failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state_of(&all, "ops").as_deref(), Some("sent"), "{all}");
    assert_eq!(state_of(&all, "picky").as_deref(), Some("failed"), "{all}");
    assert_eq!(state_of(&all, "gone").as_deref(), Some("pending"), "an unreachable receiver is retried: {all}");
    let picky = all["deliveries"].as_array().and_then(|d| d.iter().find(|d| d["channel"] == "picky")).cloned();
    let reason = picky.as_ref().and_then(|d| d["last"].as_str()).unwrap_or_default();
    assert!(reason.contains("400") && reason.contains("unknown hook"), "the reason is kept: {all}");
    assert!(
        hooks.got().iter().any(|g| g.path.starts_with("/ok/") && String::from_utf8_lossy(&g.raw).contains("\"hot\"")),
        "sent"
    );

    let r = get_as(addr, "/api/notify/deliveries?rule=nope", &auth).await;
    assert_eq!(serde_json::from_str::<Value>(&r.body).expect("json")["deliveries"], serde_json::json!([]));
    let r = get_as(addr, "/api/notify/deliveries?limit=1", &auth).await;
    assert_eq!(serde_json::from_str::<Value>(&r.body).expect("json")["deliveries"].as_array().map(Vec::len), Some(1));
    let r = get_as(addr, "/api/notify", &auth).await;
    let channels: Value = serde_json::from_str(&r.body).expect("json");
    let ops = channels["channels"].as_array().and_then(|c| c.iter().find(|c| c["name"] == "ops")).cloned();
    assert!(ops.is_some_and(|c| c["sent"].as_u64() >= Some(1)), "{channels}");

    // The view: the alert's state per channel in words, the failed one with its reason.
    let view = get_as(addr, "/alerts", &auth).await;
    for says in ["ops: Sent", "picky: Failed", "gone: ", "Failed notifications", "unknown hook"] {
        assert!(view.body.contains(says), "{says}: {}", view.body);
    }
    let metrics = get_as(addr, "/metrics", &auth).await;
    assert!(metrics.body.contains("livedash_notify_sent_total{channel=\"ops\"}"), "{}", metrics.body);
    let live = get_as(addr, "/alerts?part=live", &basic("wall", WALL)).await;
    assert!(live.body.contains("picky: Failed") && live.body.contains("unknown hook"), "{}", live.body);
    server.stop().await;
}
