//! The hub in a cluster: joining the shared stream after a restart, epochs and what a resume
//! gets across them.

use std::sync::Arc;
use std::time::Duration;

use livedash::{ClusterStatus, Frame, Sample};

use super::history::HistoryLimits;
use super::hub::Hub;
use super::stamp::Stamper;
use super::start::Start;

fn hub(first_seq: u64) -> (Arc<Hub>, Arc<str>) {
    let limits = HistoryLimits { max_age: Duration::from_secs(600), max_len: Some(100), max_bytes: 64 << 20 };
    let hub = Arc::new(Hub::with_first_seq(limits, first_seq));
    let up: Arc<str> = Arc::from("up");
    hub.register_source(&up, Duration::from_secs(1), &[]);
    (hub, up)
}

fn sample(seq: u64) -> Sample {
    let ts_ms = crate::clock::now_ms() - 10_000 + seq;
    Sample { seq, source: Arc::from("up"), ts_ms, data: livedash::raw_json(&serde_json::json!({"x": seq})) }
}

fn shared(epoch: &str) -> ClusterStatus {
    ClusterStatus { shared: true, epoch: epoch.into(), error: None, since_ms: 1 }
}

fn resumed(start: Start) -> Option<Vec<u64>> {
    let Start::Resume(frames) = start else { return None };
    Some(
        frames
            .iter()
            .filter_map(|f| match Frame::from_json(f.as_str()) {
                Ok(Frame::Sample(s)) => Some(s.seq),
                _ => None,
            })
            .collect(),
    )
}

fn at(seq: u64, ts_ms: u64) -> Sample {
    Sample { seq, source: Arc::from("up"), ts_ms, data: livedash::raw_json(&serde_json::json!({"t": ts_ms})) }
}

#[test]
fn a_restarted_instance_takes_from_the_stream_what_it_had_not_stored() {
    // The store gave back 10 and 20; the server's clock says 1000; the stream holds 20..40 (its
    // 20 is the same sample as the store's).
    let (hub, _) = hub(1000);
    let base = crate::clock::now_ms() - 10_000;
    assert_eq!(hub.restore([at(10, base + 10), at(20, base + 20)]), 2);
    let taken = hub.join(shared("e1"), [20, 30, 40].map(|seq| at(seq, base + seq)).to_vec());
    assert_eq!(taken, 3, "20 again, in place of the store's copy, then 30 and 40");
    assert_eq!(hub.snapshot().history.iter().map(|s| s.seq).collect::<Vec<_>>(), [10, 20, 30, 40]);
    assert_eq!(hub.snapshot().cluster, Some(shared("e1")));
    assert!(hub.accept(sample(50)));
    assert_eq!(resumed(hub.subscribe(Some(30), Some("e1")).start), Some(vec![40, 50]));
    assert_eq!(resumed(hub.subscribe(Some(20), Some("e1")).start), Some(vec![30, 40, 50]), "20 came from the stream");
    assert_eq!(resumed(hub.subscribe(Some(10), Some("e1")).start), None, "from before this life in the stream");
    assert_eq!(resumed(hub.subscribe(Some(40), None).start), None, "without the epoch");
}

#[test]
fn alone_then_back_a_resume_never_mixes_the_two_fetches() {
    let (hub, up) = hub(0);
    hub.join(shared("e1"), vec![sample(100)]);
    assert!(hub.accept(sample(110)));
    // Redis goes away: this instance stamps its own samples, in an epoch of its own.
    let alone = ClusterStatus { shared: false, epoch: "local-x".into(), error: Some("down".into()), since_ms: 2 };
    hub.set_cluster(alone);
    let stamper = Stamper::new(hub.clone());
    stamper.publish(&up, livedash::raw_json(&serde_json::json!({"x": 1})));
    assert_eq!(hub.last_seq(), 111, "a local sample follows the shared ones");
    assert_eq!(resumed(hub.subscribe(Some(110), Some("e1")).start), None, "e1 is over here");
    assert_eq!(resumed(hub.subscribe(Some(111), Some("local-x")).start), Some(vec![]));
    // Back to the shared stream, from its end (no backfill): only what comes now can be resumed.
    hub.join(shared("e1"), Vec::new());
    assert!(hub.accept(sample(500)));
    assert!(hub.accept(sample(510)));
    assert_eq!(resumed(hub.subscribe(Some(500), Some("e1")).start), Some(vec![510]));
    assert_eq!(resumed(hub.subscribe(Some(110), Some("e1")).start), None, "the hub missed samples since 110");
    assert_eq!(resumed(hub.subscribe(Some(111), Some("e1")).start), None, "111 was a local sample");
}

#[test]
fn what_was_restored_is_never_twice_in_the_history_nor_above_the_streams_seqs() {
    // The store gave back three samples, numbered from 1; the stream's first samples are the last
    // two of them, stamped by Redis (seqs far above), then one more.
    let (hub, _) = hub(crate::clock::now_ms() * 1000);
    let base = crate::clock::now_ms() - 5_000;
    assert_eq!(hub.restore([at(1, base), at(2, base + 100), at(3, base + 200)]), 3);
    let stream = [at(5_000_000, base + 100), at(5_000_100, base + 200), at(5_000_200, base + 300)];
    assert_eq!(hub.join(shared("e1"), stream.to_vec()), 3);
    let history = hub.snapshot().history;
    let times: Vec<u64> = history.iter().map(|s| s.ts_ms - base).collect();
    assert_eq!(times, [0, 100, 200, 300], "each sample once");
    assert_eq!(history.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 5_000_000, 5_000_100, 5_000_200]);
    assert_eq!(hub.last_seq(), 5_000_200);
}
