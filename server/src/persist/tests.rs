//! The store's feed against a real hub and a real SQLite file: thousands of samples accepted at
//! once (a cluster join's backfill) all reach the store; the refill reads back the newest within
//! the hub's byte budget, numbered below every live `seq`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use livedash::{ClusterStatus, Sample};

use crate::live::history::HistoryLimits;
use crate::live::hub::Hub;
use crate::store::{Store, StoreConfig};

fn config(name: &str) -> StoreConfig {
    StoreConfig { queue: 65_536, ..StoreConfig::temporary(&format!("persist-{name}")) }
}

fn hub(max_bytes: usize) -> Arc<Hub> {
    let limits = HistoryLimits { max_age: Duration::from_secs(3600), max_len: None, max_bytes };
    let hub = Arc::new(Hub::new(limits));
    hub.register_source(&Arc::from("up"), Duration::from_millis(50), &[]);
    hub
}

/// Sample `i` of `up`, `i` ms after `base`, with two series.
fn sample(seq: u64, base: u64, i: u64) -> Sample {
    let data = livedash::raw_json(&serde_json::json!({"x": i, "y": i * 2}));
    Sample { seq, source: Arc::from("up"), ts_ms: base + i, data }
}

async fn flushed(store: &Arc<Store>) {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.flush()).await.expect("flushed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_samples_accepted_at_once_all_reach_the_store() {
    let hub = hub(256 << 20);
    let (_switch, shutdown) = crate::shutdown::channel();
    let store = super::start(config("burst"), &hub, Duration::from_secs(3600), shutdown);
    let base = crate::clock::now_ms() - 600_000;
    let first = hub.last_seq() + 1;
    // A join's backfill (5,000 under one lock), then 5,000 more one after another, without a
    // moment for any other task in between.
    let status = ClusterStatus { shared: true, epoch: "e".into(), error: None, since_ms: 1 };
    let backfill = (0..5_000).map(|i| sample(first + i, base, i)).collect();
    assert_eq!(hub.join(status, backfill), 5_000);
    for i in 5_000..10_000 {
        assert!(hub.accept(sample(first + i, base, i)));
    }
    flushed(&store).await;
    let shared = &store.shared;
    assert_eq!(shared.samples_dropped.load(Ordering::Relaxed), 0, "nothing refused or missed");
    assert_eq!(shared.points_written.load(Ordering::Relaxed), 20_000, "two series of 10,000 samples");
    assert_eq!(store.backlog(), (0, 0), "the queue's count is back to nothing once written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refill_reads_back_the_newest_within_the_budget_numbered_below_live_seqs() {
    let config = config("refill");
    let path = config.path.clone();
    {
        let hub = hub(256 << 20);
        let (_switch, shutdown) = crate::shutdown::channel();
        let store = super::start(config.clone(), &hub, Duration::from_secs(3600), shutdown);
        // 40 minutes of a 50 ms source: 48,000 samples over three quarters.
        let base = crate::clock::now_ms() - 2_400_000;
        let first = hub.last_seq() + 1;
        for i in 0..48_000 {
            assert!(hub.accept(sample(first + i, base, i * 50)));
        }
        flushed(&store).await;
        assert_eq!(store.shared.points_written.load(Ordering::Relaxed), 96_000);
        tokio::task::spawn_blocking(move || store.stop()).await.expect("stopped");
    }
    let sources = [Arc::from("up")];
    let budget = 1 << 20;
    let now = crate::clock::now_ms();
    let back = super::refill::read_back(&path, &sources, budget, (now - 3_600_000, now)).expect("read back");
    let frames: usize = back.iter().map(|s| livedash::Frame::Sample(s.clone()).to_json().len() + 192).sum();
    assert!(frames >= budget && frames < budget + budget / 5, "{frames} bytes read back for a budget of {budget}");
    assert!(back.len() < 10_000, "{} of 48,000 samples read back", back.len());
    assert_eq!(back.iter().map(|s| s.seq).collect::<Vec<_>>(), (1..=back.len() as u64).collect::<Vec<_>>());
    assert!(back.windows(2).all(|w| w[0].ts_ms < w[1].ts_ms), "oldest first");
    let newest = back.last().expect("some");
    assert_eq!(newest.data.get(), r#"{"x":2399950.0,"y":4799900.0}"#, "the newest sample is the last one written");

    // Through the hub: the newest within its budget, every seq below its own first.
    let hub = hub(budget);
    let restored = super::refill::refill(&path, &hub, Duration::from_secs(3600));
    assert!(restored > 1000, "{restored}");
    assert!(hub.history_bytes() <= budget);
    let history = hub.snapshot().history;
    assert_eq!(history.last().map(|s| s.ts_ms), Some(newest.ts_ms));
    assert!(history.iter().all(|s| s.seq < 1_000_000), "restored seqs are small: below any live one");
}
