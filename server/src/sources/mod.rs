//! Sources: each runs on its own fixed-rate ticker and hands every sample to the hub.
//!
//! A slow sample never shifts the cadence (the ticker is fixed-rate) and a missed tick is skipped,
//! not queued, so one source never runs two samples at once and never catches up in a burst.

pub mod local;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::hub::Hub;

/// Starts the `local` source: this machine's metrics every `interval`, until `shutdown` flips.
pub fn spawn_local(hub: Arc<Hub>, interval: Duration, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let name: Arc<str> = Arc::from("local");
    hub.register_source(&name, interval);
    tokio::spawn(async move {
        let mut source = Some(local::LocalSource::new());
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = crate::stopped(&mut shutdown) => break,
            }
            // Reading /proc is blocking I/O: keep it off the async workers.
            let Some(mut src) = source.take() else { break };
            match tokio::task::spawn_blocking(move || {
                let data = src.sample();
                (src, data)
            })
            .await
            {
                Ok((src, data)) => {
                    source = Some(src);
                    hub.publish(&name, &data);
                }
                Err(e) => {
                    tracing::error!(error = %e, "local source sampler panicked; stopping it");
                    hub.set_failing(&name, "the local sampler stopped unexpectedly".to_owned());
                    break;
                }
            }
        }
    })
}
