//! Per-series settings from a real `--config` file to a real server's `hello` and
//! `/api/snapshot`: the local source's built-in defaults first, then the configured rules, in the
//! order written; a source without any rule is left out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use livedash::settings::{SeriesRule, local_defaults};
use livedash::{Frame, Hello};

use common::upstream::{next_text, socket};
use common::{PASSWORD, basic, get};

/// Nothing listens on port 9 of loopback: the HTTP sources fail, which their rules do not mind.
const CONFIG: &str = r#"
[[source]]
type = "local"

[[source.series]]
match = "cpu_pct"
label = "Processor"
warn_above = 60
critical_above = 85

[[source.series]]
match = "mem_pct"
hidden = false

[[source]]
name = "api"
url = "http://127.0.0.1:9/stats"

[[source.series]]
match = "net.*"
label = "Network"
unit = "bytes/s"
decimals = 1

[[source.series]]
match = "latency_ms"
warn_above = 200
critical_above = 500
sparkline = false

[[source.series]]
match = "debug.*"
hidden = true

[[source]]
name = "bare"
url = "http://127.0.0.1:9/other"
"#;

fn rule(pattern: &str) -> SeriesRule {
    SeriesRule { pattern: pattern.to_owned(), ..SeriesRule::default() }
}

fn check(hello: &Hello, what: &str) {
    let local = hello.settings.get("local").unwrap_or_else(|| panic!("{what}: no local rules"));
    let defaults = local_defaults();
    assert_eq!(local[..defaults.len()], defaults[..], "{what}: the defaults come first");
    assert_eq!(
        local[defaults.len()..],
        [
            SeriesRule {
                label: Some("Processor".into()),
                warn_above: Some(60.0),
                critical_above: Some(85.0),
                ..rule("cpu_pct")
            },
            SeriesRule { hidden: Some(false), ..rule("mem_pct") },
        ],
        "{what}: then the configured ones"
    );
    assert_eq!(
        hello.settings.get("api").map(Vec::as_slice),
        Some(
            &[
                SeriesRule {
                    label: Some("Network".into()),
                    unit: Some("bytes/s".into()),
                    decimals: Some(1),
                    ..rule("net.*")
                },
                SeriesRule {
                    warn_above: Some(200.0),
                    critical_above: Some(500.0),
                    sparkline: Some(false),
                    ..rule("latency_ms")
                },
                SeriesRule { hidden: Some(true), ..rule("debug.*") },
            ][..]
        ),
        "{what}: an http source has no defaults"
    );
    assert!(!hello.settings.contains_key("bare"), "{what}: a source without rules is left out");
    assert_eq!(hello.sources.len(), 3, "{what}");
}

#[tokio::test]
async fn configured_rules_follow_the_local_defaults_in_the_hello_and_the_snapshot() {
    let server = common::start_with(common::test_config_with_file("series", CONFIG)).await;
    let mut ws = socket(server.addr, "").await;
    let Ok(Frame::Hello(hello)) = Frame::from_json(&next_text(&mut ws).await) else { panic!("a hello first") };
    check(&hello, "hello");

    let snapshot = get(server.addr, "/api/snapshot", &[("Authorization", &basic("admin", PASSWORD))]).await;
    assert_eq!(snapshot.status, 200, "{}", snapshot.body);
    let raw: serde_json::Value = serde_json::from_str(&snapshot.body).expect("JSON");
    assert_eq!(raw["settings"]["api"][0]["match"], "net.*", "the key is `match` on the wire: {raw}");
    let snapshot: Hello = serde_json::from_value(raw).expect("a hello");
    check(&snapshot, "snapshot");
    server.stop().await;
}

#[tokio::test]
async fn the_default_local_source_carries_its_defaults() {
    let server = common::start().await;
    let snapshot = get(server.addr, "/api/snapshot", &[("Authorization", &basic("admin", PASSWORD))]).await;
    let snapshot: Hello = serde_json::from_str(&snapshot.body).expect("a hello");
    assert_eq!(snapshot.settings.get("local"), Some(&local_defaults()));
    assert_eq!(snapshot.settings.len(), 1);
    server.stop().await;
}
