//! Subscriptions on `/ws` against a real server and real sockets: a socket gets the sources it
//! subscribed to and nothing else (in its `hello` and after), resumes exactly, an API client
//! without `sub` still gets everything; the overview's `fleet` frames start full, resume exactly
//! from `fleet_since`, and show a host that stops delivering go stale, then down.
//!
//! The fleet's hosts here are `[[source]]`s of JSON upstreams answering the figures by name, put
//! in the fleet's directory as fetched hosts (kind Figures), as the targets file's will be.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use livedash::Frame;
use livedash::fleet::{HostRow, HostStatus};
use livedash::summary::FleetUpdate;
use livedash_server::Running;
use livedash_server::fleet::{HostEntry, HostKind};
use livedash_server::sources::{Kind, SourceSpec};

use common::upstream::{Socket, Stoppable, http_source, next_text, socket, values};

const INTERVAL: Duration = Duration::from_millis(200);

/// A server with this machine's `local` source and the fleet hosts `hosts` (JSON upstreams of
/// figures, tagged `env=prod`), each `(name, address)`.
async fn server(hosts: &[(&str, std::net::SocketAddr)]) -> Running {
    let mut config = common::test_config(common::PASSWORD);
    config.sources.retain(|s| matches!(s.kind, Kind::Local));
    for (name, addr) in hosts {
        let mut spec: SourceSpec = http_source(name, *addr, INTERVAL);
        spec.timeout = INTERVAL / 2;
        config.sources.push(spec);
    }
    let server = common::start_with(config).await;
    for (name, _) in hosts {
        server.directory.insert(Arc::from(*name), entry(name));
    }
    server
}

fn entry(name: &str) -> HostEntry {
    HostEntry {
        name: (*name).to_owned(),
        tags: BTreeMap::from([("env".to_owned(), "prod".to_owned())]),
        interval: INTERVAL,
        kind: HostKind::Figures,
    }
}

async fn figures() -> std::net::SocketAddr {
    values(["cpu_pct", "mem_pct", "load1"], 12.5).await.0
}

async fn frame(ws: &mut Socket) -> Frame {
    Frame::from_json(&next_text(ws).await).expect("a valid frame")
}

/// The source a sample or status frame is of.
fn source_of(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Sample(s) => Some(s.source.to_string()),
        Frame::Status(s) => Some(s.source.to_string()),
        _ => None,
    }
}

/// Every frame for `wait`.
async fn frames_for(ws: &mut Socket, wait: Duration) -> Vec<Frame> {
    let until = Instant::now() + wait;
    let mut out = Vec::new();
    while Instant::now() < until {
        out.push(frame(ws).await);
    }
    out
}

#[tokio::test]
async fn a_host_subscription_gets_that_host_alone_and_no_sub_gets_everything() {
    let (a, b) = (figures().await, figures().await);
    let server = server(&[("web-a", a), ("web-b", b)]).await;
    tokio::time::sleep(INTERVAL * 3).await;

    let mut host = socket(server.addr, "?sub=host:web-a").await;
    let Frame::Hello(hello) = frame(&mut host).await else { panic!("a hello first") };
    assert_eq!(hello.sources.iter().map(|s| &*s.source).collect::<Vec<_>>(), ["web-a"]);
    assert_eq!(hello.interval_ms.keys().collect::<Vec<_>>(), ["web-a"]);
    assert!(!hello.history.is_empty() && hello.history.iter().all(|s| &*s.source == "web-a"));
    assert!(hello.fleet.is_none(), "no overview asked");

    let mut everything = socket(server.addr, "").await;
    let Frame::Hello(all) = frame(&mut everything).await else { panic!("a hello first") };
    let names: BTreeSet<&str> = all.sources.iter().map(|s| &*s.source).collect();
    assert_eq!(names, BTreeSet::from(["local", "web-a", "web-b"]));

    let mut configured = socket(server.addr, "?sub=configured").await;
    let Frame::Hello(mine) = frame(&mut configured).await else { panic!("a hello first") };
    assert_eq!(mine.sources.iter().map(|s| &*s.source).collect::<Vec<_>>(), ["local"], "not the fleet's hosts");

    let seen: BTreeSet<String> =
        frames_for(&mut host, Duration::from_secs(2)).await.iter().filter_map(source_of).collect();
    assert_eq!(seen, BTreeSet::from(["web-a".to_owned()]), "never another host's frames");
    let seen: BTreeSet<String> =
        frames_for(&mut everything, Duration::from_secs(1)).await.iter().filter_map(source_of).collect();
    assert_eq!(seen, BTreeSet::from(["local", "web-a", "web-b"].map(String::from)));
    let seen: BTreeSet<String> =
        frames_for(&mut configured, Duration::from_secs(1)).await.iter().filter_map(source_of).collect();
    assert_eq!(seen, BTreeSet::from(["local".to_owned()]));
    server.stop().await;
}

#[tokio::test]
async fn a_host_subscription_resumes_exactly_after_a_reconnect() {
    let (a, b) = (figures().await, figures().await);
    let server = server(&[("web-a", a), ("web-b", b)]).await;
    // The reference: every sample of web-a, from a socket that stays.
    let mut reference = socket(server.addr, "").await;
    let Frame::Hello(hello) = frame(&mut reference).await else { panic!("a hello first") };
    let from = hello.history.iter().map(|s| s.seq).max().unwrap_or(0);

    let mut host = socket(server.addr, &format!("?sub=host:web-a&since={from}")).await;
    let mut got = Vec::new();
    for f in frames_for(&mut host, Duration::from_secs(1)).await {
        if let Frame::Sample(s) = f {
            got.push(s.seq);
        }
    }
    let last = *got.last().expect("samples of web-a");
    drop(host);
    tokio::time::sleep(INTERVAL * 5).await;
    let mut host = socket(server.addr, &format!("?sub=host:web-a&since={last}")).await;
    let resumed = frames_for(&mut host, Duration::from_secs(1)).await;
    assert!(!resumed.iter().any(|f| matches!(f, Frame::Hello(_))), "a resume, not a hello");
    for f in &resumed {
        assert_eq!(source_of(f).as_deref().unwrap_or("web-a"), "web-a", "{f:?}");
        if let Frame::Sample(s) = f {
            got.push(s.seq);
        }
    }
    let upto = *got.last().unwrap();
    let mut expected = Vec::new();
    while expected.last().is_none_or(|&s| s < upto) {
        if let Frame::Sample(s) = frame(&mut reference).await
            && &*s.source == "web-a"
        {
            expected.push(s.seq);
        }
    }
    assert_eq!(got, expected, "no gap, no repeat");
    server.stop().await;
}

#[tokio::test]
async fn a_bad_subscription_is_a_400_naming_it_before_any_upgrade() {
    let server = common::start().await;
    let auth = common::basic("admin", common::PASSWORD);
    for (query, named) in [("sub=bogus", "bogus"), ("sub=figure:temp", "temp"), ("fleet_since=x", "fleet_since")] {
        let r = common::handshake(server.addr, &format!("/ws?{query}"), &[("Authorization", &auth)]).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert!(r.body.contains(named), "{query}: {}", r.body);
    }
    let r = common::handshake(server.addr, "/ws?sub=bogus", &[]).await;
    assert_eq!(r.status, 401, "credentials first");
    server.stop().await;
}

/// The overview as a client keeps it: rows by id, applied from `fleet` frames.
#[derive(Default)]
struct Overview {
    seq: u64,
    rows: BTreeMap<String, HostRow>,
}

impl Overview {
    fn apply(&mut self, update: &FleetUpdate) {
        if update.full {
            self.rows.clear();
        }
        for row in &update.rows {
            match self.rows.get_mut(row.id()) {
                Some(kept) => kept.take_change(row.clone()),
                None => drop(self.rows.insert(row.id().to_owned(), row.clone())),
            }
        }
        for gone in &update.gone {
            self.rows.remove(gone);
        }
        self.seq = update.seq;
    }

    /// Reads frames until one of `seq` or later; returns the updates read.
    async fn follow_to(&mut self, ws: &mut Socket, seq: u64) -> Vec<FleetUpdate> {
        let mut read = Vec::new();
        while self.seq < seq {
            if let Frame::Fleet(update) = frame(ws).await {
                self.apply(&update);
                read.push(update);
            }
        }
        read
    }

    fn status(&self, id: &str) -> Option<HostStatus> {
        self.rows.get(id).map(|r| r.status)
    }
}

#[tokio::test]
async fn the_overview_starts_full_and_resumes_exactly_from_fleet_since() {
    let (a, b) = (figures().await, figures().await);
    let refused = common::free_addr();
    let server = server(&[("web-a", a), ("web-b", b), ("web-c", refused)]).await;
    let mut reference = socket(server.addr, "?sub=overview").await;
    let Frame::Hello(hello) = frame(&mut reference).await else { panic!("a hello first") };
    assert!(hello.sources.is_empty() && hello.history.is_empty(), "the overview takes no source");
    let mut kept = Overview::default();
    kept.apply(hello.fleet.as_deref().expect("the hello holds the overview"));
    // Within a few ticks every host has its row, and the refused one is down with its implicit
    // "source down" alert firing (then it changes no more).
    while kept.status("web-a") != Some(HostStatus::Up)
        || kept.status("web-b") != Some(HostStatus::Up)
        || kept.status("web-c") != Some(HostStatus::Down)
        || kept.rows["web-c"].alerting == 0
    {
        let target = kept.seq + 1;
        kept.follow_to(&mut reference, target).await;
    }
    let row = &kept.rows["web-a"];
    assert_eq!((row.name.as_str(), row.tags["env"].as_str(), row.source.as_str()), ("web-a", "prod", ""));
    assert_eq!(row.figures.cpu_pct, Some(12.5));
    assert_eq!(kept.status("web-a"), Some(HostStatus::Up));

    let mut client = socket(server.addr, "?sub=overview").await;
    let Frame::Hello(hello) = frame(&mut client).await else { panic!("a hello first") };
    let first = hello.fleet.expect("a full update");
    assert!(first.full);
    let mut mine = Overview::default();
    mine.apply(&first);
    let target = mine.seq + 1;
    mine.follow_to(&mut client, target).await;
    let k = mine.seq;
    drop(client);
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let mut client = socket(server.addr, &format!("?sub=overview&fleet_since={k}")).await;
    let Frame::Hello(hello) = frame(&mut client).await else { panic!("a hello first") };
    assert!(hello.fleet.is_none(), "resumed: the rows follow as changes");
    let Frame::Fleet(resume) = frame(&mut client).await else { panic!("the changes after K next") };
    assert!(!resume.full && resume.seq > k, "{resume:?}");
    assert!(!resume.rows.iter().any(|r| r.id() == "web-c"), "web-c did not change after K");
    mine.apply(&resume);
    let upto = mine.seq + 2;
    mine.follow_to(&mut client, upto).await;
    kept.follow_to(&mut reference, upto).await;
    assert_eq!(mine.seq, kept.seq);
    assert_eq!(mine.rows, kept.rows, "the resumed client sees what the one that stayed sees");

    // A removal after K: a full update.
    server.directory.remove("web-b");
    let target = kept.seq + 1;
    let updates = kept.follow_to(&mut reference, target).await;
    assert!(updates.iter().any(|u| u.gone == ["web-b"]), "{updates:?}");
    let mut client = socket(server.addr, &format!("?sub=overview&fleet_since={k}")).await;
    let _hello = frame(&mut client).await;
    let Frame::Fleet(full) = frame(&mut client).await else { panic!("a fleet frame") };
    let ids: BTreeSet<&str> = full.rows.iter().map(HostRow::id).collect();
    assert!(full.full && ids == BTreeSet::from(["local", "web-a", "web-c"]), "{full:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_figure_subscription_starts_with_every_host_then_changes() {
    let ((a, [cpu_a, ..]), b) = (values(["cpu_pct", "mem_pct"], 12.5).await, figures().await);
    let server = server(&[("web-a", a), ("web-b", b)]).await;
    // Until both hosts were fetched and summed up (a loaded machine may take a few seconds).
    let started = std::time::Instant::now();
    let (mut ws, points) = loop {
        let mut ws = socket(server.addr, "?sub=figure:cpu_pct").await;
        let Frame::Hello(hello) = frame(&mut ws).await else { panic!("a hello first") };
        assert!(hello.fleet.is_none() && hello.sources.is_empty());
        let Frame::Points(points) = frame(&mut ws).await else { panic!("the full points next") };
        assert!(points.full && points.figure == "cpu_pct");
        let known = points.points.iter().filter(|(h, v)| h.starts_with("web") && v.is_some()).count();
        if known == 2 || started.elapsed() > Duration::from_secs(15) {
            break (ws, points);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let hosts: BTreeMap<&str, Option<f64>> = points.points.iter().map(|(h, v)| (h.as_str(), *v)).collect();
    assert_eq!(hosts.len(), 3, "every host, this machine's local too: {hosts:?}");
    assert_eq!((hosts["web-a"], hosts["web-b"]), (Some(12.5), Some(12.5)));
    // Only what changed, of that figure only (web-b stays as it is; this machine's CPU moves).
    cpu_a.store(40.04_f64.to_bits(), std::sync::atomic::Ordering::Relaxed);
    let web = |p: &livedash::summary::FigurePoints| -> Vec<(String, Option<f64>)> {
        p.points.iter().filter(|(h, _)| h.starts_with("web")).cloned().collect()
    };
    loop {
        let Frame::Points(changed) = frame(&mut ws).await else { panic!("points only") };
        assert!(!changed.full && changed.figure == "cpu_pct");
        if !web(&changed).is_empty() {
            assert_eq!(web(&changed), [("web-a".to_owned(), Some(40.0))]);
            break;
        }
    }
    cpu_a.store(40.01_f64.to_bits(), std::sync::atomic::Ordering::Relaxed);
    let until = Instant::now() + Duration::from_millis(2500);
    while let Ok(text) = tokio::time::timeout_at(until.into(), next_text(&mut ws)).await {
        let Ok(Frame::Points(p)) = Frame::from_json(&text) else { panic!("points only: {text}") };
        assert!(web(&p).is_empty(), "no web-a for a change the row does not show (40.01 is 40.0): {p:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_host_that_stops_delivering_goes_stale_then_down_in_the_overview() {
    let mut up = Stoppable::start(1.0).await;
    let server = server(&[("web-s", up.addr)]).await;
    // Judged on a 1 s interval (fetched every 200 ms): stale at the first failure, down after
    // 3 s without a sample, each seen at a tick.
    server.directory.insert(Arc::from("web-s"), HostEntry { interval: Duration::from_secs(1), ..entry("web-s") });
    let mut ws = socket(server.addr, "?sub=overview").await;
    let Frame::Hello(hello) = frame(&mut ws).await else { panic!("a hello first") };
    let mut kept = Overview::default();
    kept.apply(hello.fleet.as_deref().expect("rows"));
    while kept.status("web-s") != Some(HostStatus::Up) {
        let target = kept.seq + 1;
        kept.follow_to(&mut ws, target).await;
    }
    up.stop();
    let stopped = Instant::now();
    let mut seen = vec![HostStatus::Up];
    while kept.status("web-s") != Some(HostStatus::Down) {
        let target = kept.seq + 1;
        kept.follow_to(&mut ws, target).await;
        let now = kept.status("web-s").expect("its row");
        if seen.last() != Some(&now) {
            seen.push(now);
        }
        assert!(stopped.elapsed() < Duration::from_secs(6), "down within N intervals and a tick: {seen:?}");
    }
    assert_eq!(seen, [HostStatus::Up, HostStatus::Stale, HostStatus::Down]);
    assert!(kept.rows["web-s"].since_ms > 0);
    server.stop().await;
}

#[tokio::test]
async fn a_resume_of_the_samples_with_the_overview_gets_the_full_rows_after_it() {
    let server = server(&[("web-a", figures().await)]).await;
    tokio::time::sleep(Duration::from_millis(1200)).await; // a tick of the board with web-a in it
    let mut everything = socket(server.addr, "").await;
    let Frame::Hello(hello) = frame(&mut everything).await else { panic!("a hello first") };
    let from = hello.history.iter().map(|s| s.seq).max().unwrap_or(0);
    let mut ws = socket(server.addr, &format!("?sub=overview,host:web-a&since={from}")).await;
    let Frame::Status(status) = frame(&mut ws).await else { panic!("a resume: web-a's status first") };
    assert_eq!(&*status.source, "web-a");
    loop {
        match frame(&mut ws).await {
            Frame::Fleet(update) => {
                assert!(update.full && update.rows.iter().any(|r| r.id() == "web-a"), "{update:?}");
                break;
            }
            Frame::Sample(s) => assert_eq!(&*s.source, "web-a"),
            Frame::Alerts(_) | Frame::Store(_) | Frame::Cluster(_) => {}
            other => panic!("the overview's rows before anything else: {other:?}"),
        }
    }
    server.stop().await;
}
