//! The alerts API and the Alerts view against a real server fed by a real upstream whose value
//! the test sets: silencing from the page's own origin works and is recorded with its user; from
//! another site (by `Sec-Fetch-Site`, or by `Origin` without it) and by a read-only user it is
//! refused with 403 and changes nothing; a silence lifts by itself at its end; bad bodies are 400s
//! naming the field; the event log lists the firing.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use common::{basic, post};

const ANA: &str = "ana-password";
const WALL: &str = "wall-password";

/// A server with the rule `hot` (temp above 50, at once) on the upstream, `ana` who may act and
/// `wall` who may only look, and a real history store.
async fn server(name: &str) -> (livedash_server::Running, Arc<AtomicU64>) {
    let (up, [value]) = common::upstream::values(["temp"], 20.0).await;
    let toml = format!(
        "viewers = [\"wall\"]\n\n[[source]]\nname = \"up\"\nurl = \"http://{up}/\"\n\n\
         [[alert]]\nname = \"hot\"\nsource = \"up\"\nseries = \"temp\"\nabove = 50\nseverity = \"critical\"\n"
    );
    let mut config = common::test_config_with_file(name, &toml);
    config.users = common::users_file(name, &[("ana", ANA), ("wall", WALL)]);
    config.store = Some(common::store_settings(name));
    (common::start_with(config).await, value)
}

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

fn ana() -> String {
    basic("ana", ANA)
}

/// `GET /api/alerts`'s instance of `hot`.
async fn hot(addr: SocketAddr) -> Value {
    let r = common::get(addr, "/api/alerts", &[("Authorization", &ana())]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let all: Value = serde_json::from_str(&r.body).expect("json");
    all["instances"].as_array().and_then(|a| a.iter().find(|i| i["rule"] == "hot").cloned()).unwrap_or(Value::Null)
}

/// Waits (10 s at most) until `hot` satisfies `ok`.
async fn until_hot(addr: SocketAddr, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let i = hot(addr).await;
        if ok(&i) {
            return i;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("hot never became {what}: {}", hot(addr).await);
}

#[tokio::test]
async fn a_silence_from_the_page_is_kept_and_one_from_another_site_or_a_viewer_is_refused() {
    let (server, value) = server("alerts-silence").await;
    let addr = server.addr;
    value.store(70f64.to_bits(), Ordering::Relaxed);
    until_hot(addr, "firing", |i| i["state"] == "firing").await;
    let origin = format!("http://{addr}");
    let form = "rule=hot&source=up&series=temp&for=1h&comment=deploying";

    // Another site, by the browser's word, or by its Origin when the browser says nothing else;
    // and a read-only user from the page itself.
    let evil = "rule=hot&for=1h&comment=evil";
    for (who, headers) in [
        ("cross-site", vec![("Authorization", ana()), ("Sec-Fetch-Site", "cross-site".to_owned())]),
        ("same-site", vec![("Authorization", ana()), ("Sec-Fetch-Site", "same-site".to_owned())]),
        ("foreign Origin", vec![("Authorization", ana()), ("Origin", "https://evil.example".to_owned())]),
        ("null Origin", vec![("Authorization", ana()), ("Origin", "null".to_owned())]),
        ("viewer", vec![("Authorization", basic("wall", WALL)), ("Sec-Fetch-Site", "same-origin".to_owned())]),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        for path in ["/api/alerts/silence", "/api/alerts/ack"] {
            let r = post(addr, path, FORM, evil, &headers).await;
            assert_eq!(r.status, 403, "{who} {path}: {}", r.body);
        }
    }
    let i = hot(addr).await;
    assert!(i.get("silenced").is_none() && i.get("acked").is_none(), "a refused request changed it: {i}");

    // The page's own form: 303 back to the view, and recorded with who, when and why.
    let headers = [("Authorization", ana()), ("Sec-Fetch-Site", "same-origin".to_owned()), ("Origin", origin.clone())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let r = post(addr, "/api/alerts/silence", FORM, form, &headers).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.header("location").is_some_and(|l| l.starts_with("../../alerts?done=silence&matched=1")), "{r:?}");
    let i = hot(addr).await;
    assert_eq!(
        (i["silenced"]["by"].as_str(), i["silenced"]["comment"].as_str()),
        (Some("ana"), Some("deploying")),
        "{i}"
    );
    assert_eq!(i["state"], "firing", "a silenced alert is still listed as firing");
    // An Origin alone that is ours (a browser without Sec-Fetch-Site), and a script without
    // either (Basic only), may act too.
    let r = post(
        addr,
        "/api/alerts/ack",
        FORM,
        "rule=hot&comment=on+it",
        &[("Authorization", &ana()), ("Origin", &origin)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r =
        post(addr, "/api/alerts/ack", JSON, r#"{"rule":"hot","comment":"script"}"#, &[("Authorization", &ana())]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(hot(addr).await["acked"]["by"], "ana");

    // The view shows who silenced it, and the forms to the user who may act, not to a viewer.
    let page = common::get(addr, "/alerts", &[("Authorization", &ana())]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Silenced by ana") && page.body.contains("deploying"), "{}", page.body);
    assert!(page.body.contains("action=\"/api/alerts/silence\""), "the editor gets the forms");
    let page = common::get(addr, "/alerts", &[("Authorization", &basic("wall", WALL))]).await;
    assert!(page.body.contains("read-only") && !page.body.contains("action=\"/api/alerts/silence\""), "{}", page.body);
    server.stop().await;
}

#[tokio::test]
async fn a_silence_lifts_by_itself_at_its_end() {
    let (server, value) = server("alerts-expiry").await;
    let addr = server.addr;
    value.store(70f64.to_bits(), Ordering::Relaxed);
    until_hot(addr, "firing", |i| i["state"] == "firing").await;
    let r = post(addr, "/api/alerts/silence", JSON, r#"{"rule":"hot","for":"1s"}"#, &[("Authorization", &ana())]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body: Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(body["matched"], 1, "{body}");
    assert!(hot(addr).await.get("silenced").is_some(), "silenced at first");
    let i = until_hot(addr, "unsilenced", |i| i.get("silenced").is_none()).await;
    assert_eq!(i["state"], "firing", "lifting a silence changes nothing else: {i}");
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field_and_events_are_listed() {
    let (server, value) = server("alerts-bad").await;
    let addr = server.addr;
    value.store(70f64.to_bits(), Ordering::Relaxed);
    until_hot(addr, "firing", |i| i["state"] == "firing").await;
    let auth = [("Authorization", ana().leak() as &str)];
    for (kind, body, status, says) in [
        (JSON, r#"{"for":"1h"}"#, 400, "`rule`"),
        (JSON, r#"{"rule":"hot"}"#, 400, "`for`"),
        (JSON, r#"{"rule":"hot","for":"soon"}"#, 400, "`for`"),
        (JSON, r#"{"rule":"hot","until_ms":5}"#, 400, "`until_ms`"),
        (JSON, r#"{"rule":"hot","for":"1h","until":"x"}"#, 400, "`until`"),
        (JSON, r#"{"rule":["hot"],"for":"1h"}"#, 400, "`rule`"),
        (JSON, r#"["hot"]"#, 400, "`body`"),
        (JSON, "{not json", 400, "`body`"),
        (FORM, "rule=hot&for=%ZZ", 400, "`for`"),
        ("text/plain", "rule=hot", 415, "`content-type`"),
        (JSON, r#"{"rule":"nope","for":"1h"}"#, 404, "nope"),
    ] {
        let r = post(addr, "/api/alerts/silence", kind, body, &auth).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(r.body.contains(says), "{body}: {}", r.body);
    }
    assert!(hot(addr).await.get("silenced").is_none(), "nothing bad was kept");

    let r = common::get(addr, "/api/alerts/events", &auth).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let events: Value = serde_json::from_str(&r.body).expect("json");
    let firing =
        events["events"].as_array().expect("a list").iter().find(|e| e["rule"] == "hot" && e["to"] == "firing");
    assert!(firing.is_some_and(|e| e["value"] == 70.0), "{events}");
    for (query, param) in [("from=yesterday", "from"), ("to=x", "to"), ("from=5&to=4", "from"), ("limit=0", "limit")] {
        let r = common::get(addr, &format!("/api/alerts/events?{query}"), &auth).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert!(r.body.contains(&format!("`{param}`")), "{query}: {}", r.body);
    }
    // The view's refresh: its live part, then 304 while nothing changed (the value stays put).
    let live = common::get(addr, "/alerts?part=live", &auth).await;
    assert_eq!(live.status, 200);
    assert!(live.body.contains("hot") && live.body.contains("Firing") && !live.body.contains("<html"), "{}", live.body);
    let tag = live.header("etag").expect("an ETag").to_owned();
    let again = common::get(addr, "/alerts?part=live", &[auth[0], ("If-None-Match", &tag)]).await;
    assert_eq!(again.status, 304, "nothing changed: {}", again.body);
    server.stop().await;
}
