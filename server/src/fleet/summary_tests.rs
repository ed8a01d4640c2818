//! The summary board on a real hub, ticked by hand: rows from the samples of both kinds of host,
//! the alerting counts, the counts, and what a socket resuming from a summary `seq` gets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use livedash::Frame;
use livedash::alerts::{AlertInstance, AlertState, AlertsStatus, Severity};
use livedash::fleet::HostStatus;
use livedash::summary::FleetUpdate;
use serde_json::json;

use super::directory::{Directory, HostEntry, HostKind};
use super::summary::Board;
use crate::live::history::HistoryLimits;
use crate::live::hub::Hub;
use crate::live::stamp::Stamper;
use crate::live::summary::{SummaryFeed, SummaryWants};

fn setup() -> (Stamper, Directory, Arc<Board>) {
    let limits = HistoryLimits { max_age: Duration::from_secs(60), max_len: Some(10), max_bytes: 1 << 20 };
    let hub = Arc::new(Hub::with_first_seq(limits, 0));
    let stamper = Stamper::new(hub.clone());
    let directory = Directory::new();
    for (name, kind) in [("web-1", HostKind::Figures), ("local", HostKind::Local)] {
        stamper.register(&Arc::from(name), Duration::from_secs(1), &[]);
        let entry = HostEntry { name: name.into(), tags: BTreeMap::new(), interval: Duration::from_secs(1), kind };
        directory.insert(Arc::from(name), entry);
    }
    stamper.register(&Arc::from("api"), Duration::from_secs(1), &[]);
    let board = Board::new(&hub, directory.clone());
    (stamper, directory, board)
}

fn fleet(text: &str) -> FleetUpdate {
    match Frame::from_json(text) {
        Ok(Frame::Fleet(update)) => update,
        other => panic!("not a fleet frame: {other:?}"),
    }
}

/// The next `fleet` frame on the summary channel (the `points` frames beside it skipped).
fn next_fleet(receiver: &mut tokio::sync::broadcast::Receiver<crate::live::summary::SummaryFrame>) -> FleetUpdate {
    loop {
        let frame = receiver.try_recv().expect("a fleet frame");
        if frame.kind == crate::live::summary::SummaryKind::Fleet {
            return fleet(frame.text.as_str());
        }
    }
}

fn firing(source: &str) -> AlertInstance {
    AlertInstance {
        rule: Arc::from("hot"),
        source: Arc::from(source),
        series: None,
        state: AlertState::Firing,
        severity: Severity::Warning,
        since_ms: 1,
        value: None,
        peak: None,
        threshold: None,
        reason: None,
        silenced: None,
        acked: None,
    }
}

#[test]
fn rows_come_from_both_kinds_of_host_with_their_alerts() {
    let (stamper, _directory, board) = setup();
    let first = board.tick();
    let overview = SummaryWants { overview: true, figures: 0 };
    let start = board.start(overview, None);
    let full = fleet(start.hello_fleet.as_deref().expect("a full update"));
    assert!(full.full && full.rows.len() == 2, "the directory's hosts only: {full:?}");
    assert_eq!((full.seq, full.counts.stale), (first, 2), "not fetched yet: stale");

    stamper.publish(&Arc::from("web-1"), livedash::raw_json(&json!({"cpu_pct": 20.04, "up": 1})));
    stamper.publish(&Arc::from("local"), livedash::raw_json(&json!({"cpu_pct": 3.5, "load_avg": [0.1, 0, 0]})));
    stamper.publish(&Arc::from("api"), livedash::raw_json(&json!({"cpu_pct": 99})));
    stamper.hub().set_alerts(AlertsStatus::new(vec![firing("web-1"), firing("web-1"), firing("api")]));
    let second = board.tick();
    let mut receiver = start.receiver;
    let update = next_fleet(&mut receiver);
    assert_eq!(update.seq, second);
    let rows: BTreeMap<&str, _> = update.rows.iter().map(|r| (r.id(), r)).collect();
    assert_eq!(rows["web-1"].figures.cpu_pct, Some(20.0), "rounded as a row shows it");
    assert_eq!((rows["web-1"].status, rows["web-1"].alerting, rows["web-1"].cpu_spark.len()), (HostStatus::Up, 2, 1));
    assert_eq!((rows["local"].figures.cpu_pct, rows["local"].figures.load1), (Some(3.5), Some(0.1)));
    assert_eq!((update.counts.up, update.counts.alerting), (2, 1));
    assert_eq!(board.tick(), second, "nothing changed: no update");
}

#[test]
fn a_resume_gets_what_changed_after_it_or_a_full_update() {
    let (stamper, directory, board) = setup();
    stamper.publish(&Arc::from("web-1"), livedash::raw_json(&json!({"cpu_pct": 4})));
    let k = board.tick();
    stamper.publish(&Arc::from("web-1"), livedash::raw_json(&json!({"cpu_pct": 6})));
    stamper.publish(&Arc::from("web-1"), livedash::raw_json(&json!({"cpu_pct": 5})));
    let after = board.tick();
    let wants = SummaryWants { overview: true, figures: 1 };
    let resumed = board.start(wants, Some(k));
    assert!(resumed.hello_fleet.is_none());
    let update = fleet(resumed.frames[0].as_str());
    assert_eq!((update.full, update.seq), (false, after));
    assert_eq!(update.rows.iter().map(|r| r.id()).collect::<Vec<_>>(), ["web-1"], "local did not change");
    assert_eq!(update.rows[0].cpu_spark, [6.0, 5.0], "the sparkline's points after K alone");
    let full = fleet(board.start(wants, None).hello_fleet.as_deref().unwrap());
    let web = full.rows.iter().find(|r| r.id() == "web-1").unwrap();
    assert_eq!(web.cpu_spark, [4.0, 6.0, 5.0], "all of it in a full update");
    assert!(resumed.frames[1].as_str().contains(r#""points":[["web-1",5.0]]"#), "{}", resumed.frames[1].as_str());
    assert!(fleet(board.start(wants, Some(after)).frames[0].as_str()).rows.is_empty(), "nothing after the last");
    assert!(fleet(board.start(wants, Some(3)).frames[0].as_str()).full, "another life's seq");
    directory.remove("local");
    let removed = board.tick();
    assert!(fleet(board.start(wants, Some(after)).frames[0].as_str()).full, "a removal after it");
    let current = fleet(board.start(wants, Some(removed)).frames[0].as_str());
    assert!(!current.full && current.rows.is_empty());
}

#[test]
fn a_change_carries_tags_only_when_they_changed_and_tags_gone_make_a_full_update() {
    let (stamper, directory, board) = setup();
    board.tick();
    let mut receiver = board.start(SummaryWants { overview: true, figures: 0 }, None).receiver;
    let tagged = |env: Option<&str>| HostEntry {
        name: "web-1".into(),
        tags: env.map(|e| BTreeMap::from([("env".to_owned(), e.to_owned())])).unwrap_or_default(),
        interval: Duration::from_secs(1),
        kind: HostKind::Figures,
    };
    directory.insert(Arc::from("web-1"), tagged(Some("prod")));
    board.tick();
    let update = next_fleet(&mut receiver);
    assert_eq!(update.rows[0].tags["env"], "prod", "{update:?}");
    stamper.publish(&Arc::from("web-1"), livedash::raw_json(&json!({"cpu_pct": 5})));
    board.tick();
    let update = next_fleet(&mut receiver);
    assert!(!update.full && update.rows[0].tags.is_empty(), "the same tags are not sent again: {update:?}");
    directory.insert(Arc::from("web-1"), tagged(None));
    board.tick();
    let update = next_fleet(&mut receiver);
    assert!(update.full && update.rows.iter().all(|r| r.tags.is_empty()), "{update:?}");
}

#[test]
fn a_host_that_goes_quiet_turns_stale_then_down_without_a_frame() {
    let (stamper, _directory, board) = setup();
    let status = |board: &Board| {
        let full =
            fleet(board.start(SummaryWants { overview: true, figures: 0 }, None).hello_fleet.as_deref().unwrap());
        full.rows.iter().find(|r| r.id() == "web-1").map(|r| (r.status, r.since_ms)).unwrap()
    };
    stamper.publish(&Arc::from("web-1"), livedash::raw_json(&json!({"cpu_pct": 5})));
    // The sample came at about 0 ms on the board's clock; its interval is 1 s, N = 3.
    board.tick_at(1_000);
    assert_eq!(status(&board).0, HostStatus::Up);
    board.tick_at(2_000);
    assert_eq!(status(&board).0, HostStatus::Up, "two intervals of grace");
    let seq = board.tick_at(2_500);
    let (stale, since) = status(&board);
    assert_eq!(stale, HostStatus::Stale, "nothing for over 2 intervals");
    assert_eq!(board.tick_at(2_900), seq, "still stale: nothing changed, no update");
    assert_eq!(status(&board), (HostStatus::Stale, since), "since stays");
    board.tick_at(3_500);
    assert_eq!(status(&board).0, HostStatus::Down, "nothing for over N = 3 intervals");
}

#[test]
fn a_bad_targets_file_is_told_in_every_update_until_it_is_good_again() {
    use crate::fleet::hosts_health::TargetsHealth;
    use crate::targets::TargetsState;

    let (stamper, directory, _) = setup();
    let path = std::path::Path::new("/etc/livedash/targets.json");
    let bad = crate::targets::file::parse(path, b"[\n  {\"targets\": 5}\n]").expect_err("a bad file");
    let health = TargetsHealth::new(path.to_path_buf(), 1);
    health.refused(&bad, 1);
    let board = Board::with_targets(stamper.hub(), directory, Some(health.clone()));
    let mut receiver = board.start(SummaryWants { overview: true, figures: 0 }, None).receiver;
    stamper.publish(&Arc::from("web-1"), livedash::raw_json(&json!({"cpu_pct": 4})));
    board.tick();
    let update = next_fleet(&mut receiver);
    let problem = update.problem.expect("the file's error in the update");
    assert!(problem.contains("targets.json, line 2"), "{problem}");
    let full = fleet(board.start(SummaryWants { overview: true, figures: 0 }, None).hello_fleet.as_deref().unwrap());
    assert_eq!(full.problem.as_deref(), Some(problem.as_str()), "and in the hello's rows");
    // Good again: an update says so even though no row changed.
    let good = TargetsState {
        targets: Arc::from([]),
        error: None,
        error_at: None,
        loaded: std::time::Instant::now(),
        changes: 1,
    };
    health.update(&good, 1);
    board.tick();
    assert_eq!(next_fleet(&mut receiver).problem, None);
}
