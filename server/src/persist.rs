//! Between the live path and the history store: at start the hub's history is refilled from the
//! store (so the page after a restart shows the minutes before it), then every sample frame the
//! hub broadcasts is offered to the store, never waiting: a full queue drops it, counted, and a
//! feed that falls behind the broadcast counts what it missed. Whether history is being saved is
//! looked at every second and told to the hub, which tells every page.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use livedash::{Sample, StoreStatus, raw_json};
use tokio::sync::broadcast::error::RecvError;

use crate::clock::{millis, now_ms};
use crate::live::hub::Hub;
use crate::live::outgoing::FrameKind;
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreConfig, db, read};

/// Refills `hub` with the last `history` of the store at `config.path`, starts the store's
/// writer and feeds it every sample from now on, until `shutdown`.
pub fn start(config: StoreConfig, hub: &Arc<Hub>, history: Duration, mut shutdown: Shutdown) -> Arc<Store> {
    let restored = refill(&config.path, hub, history);
    if restored > 0 {
        tracing::info!(samples = restored, "history restored from the store");
    }
    let store = Store::start(config);
    hub.set_store_status(StoreStatus { saving: true, error: None });
    let mut frames = hub.frames();
    let feed = store.clone();
    let hub = hub.clone();
    tokio::spawn(async move {
        let mut check = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                () = shutdown.stopped() => break,
                _ = check.tick() => {
                    let error = feed.failing();
                    hub.set_store_status(StoreStatus { saving: error.is_none(), error });
                }
                frame = frames.recv() => match frame {
                    Ok(out) if matches!(out.kind, FrameKind::Sample { .. }) => feed.offer(out.text.clone()),
                    Ok(_) => {}
                    Err(RecvError::Lagged(n)) => {
                        feed.shared.samples_dropped.fetch_add(n, Ordering::Relaxed);
                    }
                    Err(RecvError::Closed) => break,
                },
            }
        }
    });
    store
}

/// Puts the store's samples of the last `history` into the hub's history; how many it kept.
fn refill(path: &Path, hub: &Hub, history: Duration) -> usize {
    if !path.exists() {
        return 0;
    }
    let recent = db::open_reader(path).and_then(|conn| read::recent(&conn, now_ms().saturating_sub(millis(history))));
    let recent = match recent {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "history store: the minutes before this start could not be read back");
            return 0;
        }
    };
    let mut last_seq = 0;
    let samples = recent.into_iter().map(|(source, t, values)| {
        // Below the hub's first `seq` (the start-up time in microseconds), in time order.
        let seq = (t.saturating_mul(1000)).max(last_seq + 1);
        last_seq = seq;
        let data: serde_json::Map<String, serde_json::Value> =
            values.into_iter().filter_map(|(name, v)| Some((name, serde_json::Number::from_f64(v)?.into()))).collect();
        Sample { seq, source, ts_ms: t, data: raw_json(&serde_json::Value::Object(data)) }
    });
    hub.restore(samples)
}
