//! The feed against a real hub: a fleet's worth of sources changing status together, while the
//! queue is full of samples, loses no change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use livedash::alerts::AlertState;
use livedash::{Sample, raw_json};

use crate::live::history::HistoryLimits;
use crate::live::hub::Hub;

/// More sources than the queue had places kept for status changes (256), with enough samples
/// queued first to fill the queue up to them.
const SOURCES: usize = 1500;

#[tokio::test]
async fn every_source_going_down_together_is_judged_with_the_queue_full_of_samples() {
    let limits = HistoryLimits { max_age: Duration::from_secs(600), max_len: Some(4), max_bytes: 256 << 20 };
    let hub = Arc::new(Hub::with_first_seq(limits, 0));
    // An hour's interval: the implicit "source down" rules wait three of them, so every source
    // that was judged failing stays pending for the whole test.
    let interval = Duration::from_secs(3600);
    let names: Vec<Arc<str>> = (0..SOURCES).map(|i| Arc::from(format!("host-{i:04}"))).collect();
    for name in &names {
        hub.register_source(name, interval, &[]);
    }
    let intervals: HashMap<Arc<str>, Duration> = names.iter().map(|n| (n.clone(), interval)).collect();
    let (_switch, shutdown) = crate::shutdown::channel();
    let alerts = super::start(Vec::new(), HashMap::new(), &intervals, &hub, None, shutdown);

    // The test's thread runs the alerts' task only when it waits: everything below is queued first.
    let data = raw_json(&serde_json::json!({"cpu_pct": 1.0}));
    let mut seq = 0;
    for _ in 0..(super::CHANNEL / SOURCES + 1) {
        for name in &names {
            seq += 1;
            assert!(hub.accept(Sample { seq, source: name.clone(), ts_ms: seq, data: data.clone() }));
        }
    }
    assert!(alerts.dropped() > 0, "the queue filled up with samples");
    for name in &names {
        hub.set_failing(name, "connection refused".to_owned());
    }

    let deadline = Instant::now() + Duration::from_secs(20);
    let pending = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let pending = alerts.instances().iter().filter(|i| i.state == AlertState::Pending).count();
        if pending == SOURCES || Instant::now() > deadline {
            break pending;
        }
    };
    assert_eq!(pending, SOURCES, "every source's down rule went pending");
}
