//! Subscriptions against the real binary with a targets file of two node_exporters (small
//! exporters started by the test, answering a real node_exporter body): the overview's first
//! `fleet` holds a row per host (this machine's `local` too) with the file's names and tags and
//! the figures of their bodies; `host:NAME` gets that host's frames alone; `configured` gets
//! `local` alone; a host taken out of the file goes from the overview (`gone`).

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use common::upstream::{Socket, next_text, socket};
use common::{free_addr, livedash, temp_dir, wait_listening};
use livedash::Frame;
use livedash::fleet::{HostRow, HostStatus};

const BODY: &str = include_str!("fixtures/node_a.prom");

async fn exporter() -> SocketAddr {
    let app = Router::new().route("/metrics", get(|| async { BODY }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Replaces the targets file at once (a rename, as configuration tools do).
fn write(file: &Path, hosts: &[(&str, SocketAddr)]) {
    let groups: Vec<String> = hosts
        .iter()
        .map(|(name, addr)| format!(r#"{{"targets": ["{addr}"], "labels": {{"name": "{name}", "env": "prod"}}}}"#))
        .collect();
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, format!("[{}]", groups.join(","))).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

async fn frame(ws: &mut Socket) -> Frame {
    Frame::from_json(&next_text(ws).await).expect("a valid frame")
}

/// The sources of the sample and status frames read for `wait`.
async fn sources_for(ws: &mut Socket, wait: Duration) -> BTreeSet<String> {
    let until = Instant::now() + wait;
    let mut seen = BTreeSet::new();
    while Instant::now() < until {
        match frame(ws).await {
            Frame::Sample(s) => drop(seen.insert(s.source.to_string())),
            Frame::Status(s) => drop(seen.insert(s.source.to_string())),
            _ => {}
        }
    }
    seen
}

#[tokio::test]
async fn the_real_binary_serves_each_subscription_its_hosts() {
    let dir = temp_dir("subs-fleet");
    let file = dir.join("targets.json");
    let (a, b) = (exporter().await, exporter().await);
    write(&file, &[("web-1", a), ("web-2", b)]);
    let addr = free_addr();
    let mut child = livedash(addr, &dir.join("data"))
        .arg("--targets-file")
        .arg(&file)
        .args(["--interval", "1s"])
        .spawn()
        .expect("the binary starts");
    assert!(wait_listening(addr, Duration::from_secs(20)).await, "listening");
    // Two ticks of the board: every host fetched once at least.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let mut overview = socket(addr, "?sub=overview").await;
    let Frame::Hello(hello) = frame(&mut overview).await else { panic!("a hello first") };
    assert!(hello.sources.is_empty(), "the overview takes no source");
    let first = hello.fleet.expect("the overview's rows");
    assert!(first.full);
    let rows: Vec<&HostRow> = first.rows.iter().collect();
    let names: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["local", "web-1", "web-2"]), "{rows:?}");
    let web1 = rows.iter().find(|r| r.name == "web-1").unwrap();
    assert_eq!((web1.tags["env"].as_str(), web1.status), ("prod", HostStatus::Up), "{web1:?}");
    assert!(web1.figures.mem_pct.is_some() && web1.figures.uptime_s.is_some(), "from the body: {web1:?}");
    let web2_id = rows.iter().find(|r| r.name == "web-2").unwrap().id().to_owned();

    let mut host = socket(addr, &format!("?sub=host:{}", web1.id())).await;
    let Frame::Hello(mine) = frame(&mut host).await else { panic!("a hello first") };
    assert_eq!(mine.sources.iter().map(|s| s.source.to_string()).collect::<Vec<_>>(), [web1.id()]);
    assert_eq!(sources_for(&mut host, Duration::from_millis(2500)).await, BTreeSet::from([web1.id().to_owned()]));

    let mut configured = socket(addr, "?sub=configured").await;
    let Frame::Hello(mine) = frame(&mut configured).await else { panic!("a hello first") };
    assert_eq!(mine.sources.iter().map(|s| &*s.source).collect::<Vec<_>>(), ["local"]);
    assert_eq!(sources_for(&mut configured, Duration::from_millis(1500)).await, BTreeSet::from(["local".to_owned()]));

    write(&file, &[("web-1", a)]);
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < until, "web-2 gone from the overview within 10 s");
        if let Frame::Fleet(update) = frame(&mut overview).await
            && update.gone.contains(&web2_id)
        {
            break;
        }
    }
    child.kill().await.unwrap();
}
