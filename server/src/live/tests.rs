//! The hub, the stamper and the first frames together: what a client sees.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use livedash::settings::SeriesRule;
use livedash::{Frame, Hello, SourceState};
use serde_json::json;

use super::history::HistoryLimits;
use super::hub::{Hub, Subscription};
use super::outgoing::FrameKind;
use super::stamp::Stamper;
use super::start::Start;
use super::subscription::{Filter, NoFleet, Subs};
use crate::clock::now_ms;
use tungstenite::Utf8Bytes;

fn limits(max_len: usize) -> HistoryLimits {
    HistoryLimits { max_age: Duration::from_secs(600), max_len: Some(max_len), max_bytes: 64 << 20 }
}

fn stamper() -> Stamper {
    Stamper::new(Arc::new(Hub::with_first_seq(limits(3), 0)))
}

fn source(stamper: &Stamper, name: &str) -> Arc<str> {
    let name: Arc<str> = Arc::from(name);
    stamper.register(&name, Duration::from_secs(1), &[]);
    name
}

fn publish(stamper: &Stamper, source: &Arc<str>, value: &serde_json::Value) {
    stamper.publish(source, livedash::raw_json(value));
}

fn hello_of(start: Start) -> Hello {
    let Start::Hello(text) = start else { panic!("expected a hello") };
    let Ok(Frame::Hello(h)) = Frame::from_json(text.as_str()) else { panic!("not a hello frame") };
    h
}

fn seqs_of(start: Start) -> Vec<u64> {
    let Start::Resume(frames) = start else { panic!("expected a resume") };
    frames
        .iter()
        .filter_map(|f| match Frame::from_json(f.as_str()) {
            Ok(Frame::Sample(s)) => Some(s.seq),
            _ => None,
        })
        .collect()
}

#[test]
fn a_since_from_before_this_server_gets_a_hello() {
    let stamper = Stamper::new(Arc::new(Hub::with_first_seq(limits(3), 100)));
    let a = source(&stamper, "a");
    publish(&stamper, &a, &json!(1));
    assert_eq!(hello_of(stamper.hub().subscribe(Some(7), None).start).history.len(), 1);
    assert_eq!(seqs_of(stamper.hub().subscribe(Some(100), None).start), [101]);
}

#[tokio::test]
async fn samples_get_increasing_seq_and_reach_subscribers() {
    let stamper = stamper();
    let a = source(&stamper, "a");
    publish(&stamper, &a, &json!({"x": 1}));
    let Subscription { start, frames: mut rx, .. } = stamper.hub().subscribe(None, None);
    assert_eq!(hello_of(start).history.iter().map(|s| s.seq).collect::<Vec<_>>(), [1]);
    publish(&stamper, &a, &json!({"x": 2}));
    let frame = rx.recv().await.expect("frame");
    assert_eq!(frame.kind, FrameKind::Sample { source: 0, seq: 2 });
    assert!(frame.text.as_str().starts_with(r#"{"type":"sample","seq":2,"source":"a""#), "{}", frame.text.as_str());
    assert_eq!(stamper.hub().last_seq(), 2);
}

#[test]
fn default_seq_starts_from_the_clock_so_it_grows_across_restarts() {
    let before = now_ms() * 1000;
    let hub = Hub::new(limits(1));
    assert!(hub.last_seq() >= before);
    // Still exact in a JavaScript number for centuries.
    assert!(hub.last_seq() < (1 << 53));
}

#[test]
fn history_is_bounded_per_source() {
    let stamper = stamper();
    let a = source(&stamper, "a");
    for i in 0..10 {
        publish(&stamper, &a, &json!({ "x": i }));
    }
    let snap = stamper.hub().snapshot();
    assert_eq!(snap.history.iter().map(|s| s.seq).collect::<Vec<_>>(), [8, 9, 10]);
    assert_eq!(snap.interval_ms["a"], 1000);
}

#[test]
fn resume_sends_exactly_the_missing_samples_or_a_hello() {
    let stamper = stamper();
    let hub = stamper.hub();
    let (a, b) = (source(&stamper, "a"), source(&stamper, "b"));
    for i in 0..4 {
        publish(&stamper, &a, &json!(i)); // seqs 1, 3, 5, 7
        publish(&stamper, &b, &json!(i)); // seqs 2, 4, 6, 8
    }
    // Each ring holds its last 3: a = 3, 5, 7 and b = 4, 6, 8; 1 and 2 are gone.
    assert_eq!(seqs_of(hub.subscribe(Some(5), None).start), [6, 7, 8]);
    assert_eq!(seqs_of(hub.subscribe(Some(2), None).start), [3, 4, 5, 6, 7, 8]);
    assert_eq!(seqs_of(hub.subscribe(Some(8), None).start), Vec::<u64>::new());
    assert_eq!(hello_of(hub.subscribe(Some(1), None).start).history.len(), 6, "seq 2 was evicted: full hello");
    assert_eq!(hello_of(hub.subscribe(Some(99), None).start).history.len(), 6, "from the future: full hello");
    assert_eq!(hub.stats.resumed.load(Ordering::Relaxed), 3);
}

#[test]
fn a_resume_starts_with_every_source_status() {
    let stamper = stamper();
    let a = source(&stamper, "a");
    publish(&stamper, &a, &json!(1));
    stamper.fail(&a, "timeout".into());
    let Start::Resume(frames) = stamper.hub().subscribe(Some(1), None).start else { panic!("resume") };
    assert_eq!(frames.len(), 1);
    assert!(frames[0].as_str().contains(r#""state":"failing","error":"timeout""#));
}

#[tokio::test]
async fn failing_then_recovering_sends_status_frames() {
    let stamper = stamper();
    let a = source(&stamper, "a");
    let mut rx = stamper.hub().subscribe(None, None).frames;
    stamper.fail(&a, "connection refused".into());
    stamper.fail(&a, "connection refused".into());
    publish(&stamper, &a, &json!(1));
    let f1 = rx.recv().await.expect("frame");
    assert_eq!(f1.kind, FrameKind::Status { source: 0 });
    assert!(f1.text.as_str().contains(r#""state":"failing","error":"connection refused""#), "{}", f1.text.as_str());
    let f2 = rx.recv().await.expect("frame");
    assert!(f2.text.as_str().contains(r#""state":"ok""#), "the repeated failure is not re-sent: {}", f2.text.as_str());
    let f3 = rx.recv().await.expect("frame");
    assert!(f3.text.as_str().contains(r#""type":"sample""#));
    assert!(matches!(f3.kind, FrameKind::Sample { .. }));
}

#[test]
fn quiet_sources_turn_stale_and_failing_ones_stay_failing() {
    let stamper = stamper();
    let hub = stamper.hub();
    let (a, b, c) = (source(&stamper, "a"), source(&stamper, "b"), source(&stamper, "c"));
    publish(&stamper, &a, &json!(1));
    stamper.fail(&b, "HTTP 500".into());
    publish(&stamper, &c, &json!(1));
    let later = now_ms() + 3_500;
    hub.mark_stale(later);
    let states: Vec<_> = hub.health().into_iter().map(|h| (h.source.to_string(), h.state)).collect();
    assert_eq!(
        states,
        [("a".into(), SourceState::Stale), ("b".into(), SourceState::Failing), ("c".into(), SourceState::Stale)]
    );
    publish(&stamper, &a, &json!(2));
    assert_eq!(hub.health()[0].state, SourceState::Ok);
    assert!(hub.health()[0].last_good_age_ms.is_some_and(|age| age < 1000));
    assert_eq!(hub.health()[1].last_good_age_ms, None);
}

#[test]
fn the_hub_accepts_only_registered_sources_and_rising_seqs() {
    let hub = Hub::with_first_seq(limits(3), 10);
    let a: Arc<str> = Arc::from("a");
    hub.register_source(&a, Duration::from_secs(1), &[]);
    let sample = |seq, source: &Arc<str>| livedash::Sample {
        seq,
        source: source.clone(),
        ts_ms: now_ms(),
        data: livedash::raw_json(&json!(seq)),
    };
    assert!(!hub.accept(sample(10, &a)), "not above the first seq");
    assert!(hub.accept(sample(12, &a)));
    assert!(!hub.accept(sample(11, &a)), "older than one accepted");
    assert!(!hub.accept(sample(13, &Arc::from("unknown"))));
    assert!(hub.accept(sample(13, &a)));
    assert_eq!(hub.snapshot().history.iter().map(|s| s.seq).collect::<Vec<_>>(), [12, 13]);
}

/// Subscribing while another thread publishes: every client sees each sample exactly once,
/// first in its `hello` or resume, then on its receiver, with no gap and no duplicate.
#[test]
fn a_subscribe_during_publishing_sees_every_sample_exactly_once() {
    const SAMPLES: u64 = 6_000;
    const READ_AFTER: usize = 40;
    let stamper = Arc::new(Stamper::new(Arc::new(Hub::with_first_seq(limits(100_000), 0))));
    let names = [source(&stamper, "a"), source(&stamper, "b")];
    let publisher = {
        let stamper = stamper.clone();
        std::thread::spawn(move || {
            for i in 0..SAMPLES {
                publish(&stamper, &names[(i % 2) as usize], &json!(i));
                if i % 20 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        })
    };
    let mut readers = Vec::new();
    let mut subscribed = 0;
    while !publisher.is_finished() || subscribed < 4 {
        let hub = stamper.hub().clone();
        let last = hub.last_seq();
        // Every other client resumes from a few samples back.
        let since = (subscribed % 2 == 1 && last > 5).then(|| last - 5);
        let Subscription { start, frames: mut rx, .. } = hub.subscribe(since, None);
        subscribed += 1;
        readers.push(std::thread::spawn(move || {
            let mut seqs = match start {
                Start::Hello(_) => hello_of(start).history.iter().map(|s| s.seq).collect::<Vec<_>>(),
                Start::Resume(_) => {
                    let mut seqs = vec![since.unwrap_or_default()];
                    seqs.extend(seqs_of(start));
                    seqs
                }
            };
            for _ in 0..READ_AFTER {
                let Ok(frame) = rx.blocking_recv() else { break };
                let Ok(Frame::Sample(s)) = Frame::from_json(frame.text.as_str()) else { panic!("a sample") };
                seqs.push(s.seq);
            }
            seqs
        }));
        std::thread::sleep(Duration::from_millis(2));
    }
    publisher.join().expect("publisher");
    // The hub (and its channel) goes with the last stamper: readers waiting for more stop.
    drop(stamper);
    assert!(subscribed >= 4);
    for reader in readers {
        let seqs = reader.join().expect("reader");
        let first = seqs.first().copied().unwrap_or_default();
        let expected: Vec<u64> = (first..first + seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "a gap or a duplicate");
    }
}

#[test]
fn the_history_keeps_within_its_byte_budget_dropping_the_oldest_of_any_source() {
    let budget = 10_000;
    let stamper = Stamper::new(Arc::new(Hub::with_first_seq(
        HistoryLimits { max_age: Duration::from_secs(600), max_len: Some(1000), max_bytes: budget },
        0,
    )));
    let hub = stamper.hub();
    let (a, b) = (source(&stamper, "a"), source(&stamper, "b"));
    let big = "x".repeat(900);
    for i in 0..30 {
        publish(&stamper, &a, &json!({ "i": i, "pad": big }));
        publish(&stamper, &b, &json!(i));
    }
    assert!(hub.history_bytes() <= budget, "{} bytes kept", hub.history_bytes());
    assert!(hub.stats.history_dropped.load(Ordering::Relaxed) > 0);
    let seqs: Vec<u64> = hub.snapshot().history.iter().map(|s| s.seq).collect();
    // What is kept is the newest: everything from some seq on, of both sources.
    let first = seqs[0];
    assert_eq!(*seqs.last().expect("some kept"), 60);
    assert!(seqs.iter().all(|s| *s >= first) && seqs.len() < 60, "{seqs:?}");
    assert!(seqs.contains(&59) && seqs.contains(&60), "both sources' newest are kept: {seqs:?}");
}

#[test]
fn clients_arriving_at_the_same_state_share_one_hello() {
    let stamper = stamper();
    let hub = stamper.hub();
    let a = source(&stamper, "a");
    publish(&stamper, &a, &json!(1));
    let Start::Hello(first) = hub.subscribe(None, None).start else { panic!("hello") };
    let Start::Hello(second) = hub.subscribe(None, None).start else { panic!("hello") };
    assert_eq!(first.as_str().as_ptr(), second.as_str().as_ptr(), "the same bytes, not a copy");
    assert_eq!(hub.stats.hellos_made.load(Ordering::Relaxed), 1);
    publish(&stamper, &a, &json!(2));
    let Start::Hello(third) = hub.subscribe(None, None).start else { panic!("hello") };
    assert_ne!(first.as_str(), third.as_str(), "a new sample makes a new hello");
    stamper.fail(&a, "down".into());
    let Start::Hello(fourth) = hub.subscribe(None, None).start else { panic!("hello") };
    assert!(fourth.as_str().contains(r#""state":"failing""#), "a status change makes a new hello too");
    assert_eq!(hub.stats.hellos_made.load(Ordering::Relaxed), 3);
}

#[test]
fn a_subscription_gets_its_sources_alone_and_shares_its_hello_with_its_like() {
    let stamper = Stamper::new(Arc::new(Hub::with_first_seq(limits(2), 0)));
    let hub = stamper.hub();
    let (a, b) = (source(&stamper, "a"), source(&stamper, "b"));
    for i in 0..4 {
        publish(&stamper, &b, &json!(i)); // seqs 1..=4: b keeps 3 and 4
    }
    publish(&stamper, &a, &json!("a")); // seq 5
    let filter = |list| Filter::new(Arc::new(Subs::parse(Some(list)).expect("parses")), Arc::new(NoFleet));
    let Start::Hello(first) = hub.subscribe_to(None, None, &mut filter("host:a"), None).start else { panic!("hello") };
    let Start::Hello(second) = hub.subscribe_to(None, None, &mut filter("host:a"), None).start else { panic!("hello") };
    assert_eq!(first.as_str().as_ptr(), second.as_str().as_ptr(), "the same subscription shares the bytes");
    let Ok(Frame::Hello(hello)) = Frame::from_json(first.as_str()) else { panic!("a hello") };
    assert_eq!((hello.history.len(), hello.sources.len(), hello.interval_ms.len()), (1, 1, 1), "a alone");
    assert_eq!(hello_of(hub.subscribe(None, None).start).sources.len(), 2, "everything: another hello");
    assert_eq!(hub.snapshot_for(&mut filter("host:a")).history.len(), 1, "a host page's first render");
    // b no longer holds seq 2, but a host:a socket does not need it: a resume.
    assert_eq!(seqs_of(hub.subscribe_to(Some(1), None, &mut filter("host:a"), None).start), [5]);
    assert_eq!(hello_of(hub.subscribe(Some(1), None).start).history.len(), 3, "everything: a hello");
    let mut mine = filter("host:b");
    let Start::Resume(frames) = hub.catch_up_for(0, &mut mine).start else { panic!("a resume") };
    assert!(frames.iter().all(|f| f.as_str().contains(r#""source":"b""#)), "{frames:?}");
}

#[test]
fn a_socket_that_fell_behind_gets_every_status_and_each_sources_newest_sample() {
    let stamper = Stamper::new(Arc::new(Hub::with_first_seq(limits(100), 0)));
    let hub = stamper.hub();
    let (a, b) = (source(&stamper, "a"), source(&stamper, "b"));
    publish(&stamper, &b, &json!("b1")); // seq 1: b's only sample
    stamper.fail(&b, "timeout".into());
    for i in 0..10 {
        publish(&stamper, &a, &json!(i)); // seqs 2..=11
    }
    // The socket had sent up to seq 3 when it fell behind.
    let caught = hub.catch_up(3);
    let Start::Resume(frames) = caught.start else { panic!("a resume") };
    let texts: Vec<&str> = frames.iter().map(Utf8Bytes::as_str).collect();
    assert_eq!(texts.len(), 3, "two statuses and a's newest: {texts:?}");
    assert!(texts[0].contains(r#""source":"a","state":"ok""#), "{}", texts[0]);
    assert!(texts[1].contains(r#""source":"b","state":"failing""#), "{}", texts[1]);
    assert!(texts[2].contains(r#""seq":11"#), "{}", texts[2]);
    assert_eq!(caught.seq, 11);
    // Had it sent nothing yet, b's newest would come too, in seq order.
    let Start::Resume(frames) = hub.catch_up(0).start else { panic!("a resume") };
    let seqs: Vec<u64> = frames
        .iter()
        .filter_map(|f| match Frame::from_json(f.as_str()) {
            Ok(Frame::Sample(s)) => Some(s.seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, [1, 11]);
}

#[test]
fn every_hello_carries_the_rules_of_the_sources_that_have_any() {
    let stamper = stamper();
    let hub = stamper.hub();
    let rule = |pattern: &str, label: &str| SeriesRule {
        pattern: pattern.into(),
        label: Some(label.into()),
        ..SeriesRule::default()
    };
    let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
    stamper.register(&a, Duration::from_secs(1), &[rule("x", "X"), rule("x*", "Later")]);
    stamper.register(&b, Duration::from_secs(1), &[]);
    stamper.register(&a, Duration::from_secs(1), &[rule("y", "Y")]);
    publish(&stamper, &b, &json!({"x": 1}));
    let Start::Hello(text) = hub.subscribe(None, None).start else { panic!("hello") };
    assert!(
        text.as_str().ends_with(r#""settings":{"a":[{"match":"x","label":"X"},{"match":"x*","label":"Later"}]}}"#),
        "in order, a registered name keeping its first rules, b (none) left out: {}",
        text.as_str()
    );
    let hello = hello_of(Start::Hello(text));
    assert_eq!(hello.settings.get("a").map(Vec::as_slice), Some(&[rule("x", "X"), rule("x*", "Later")][..]));
    assert_eq!(hub.snapshot().settings, hello.settings, "the snapshot carries them too");
    publish(&stamper, &a, &json!({"x": 2}));
    assert_eq!(hello_of(hub.subscribe(None, None).start).settings, hello.settings, "and a hello made later");
    let bare = Stamper::new(Arc::new(Hub::with_first_seq(limits(3), 0)));
    source(&bare, "c");
    let Start::Hello(text) = bare.hub().subscribe(None, None).start else { panic!("hello") };
    assert!(!text.as_str().contains("settings"), "no rules, no field: {}", text.as_str());
}
