//! A `livedash:` host of the fleet as a task, the way the targets reconciler runs each host: its
//! [`RemoteHost`] reads the remote while the host's gate is open (always for a server alone; in a
//! cluster while this instance holds the host's lease), and each result goes to the host's
//! [`Deliver`] as a fleet sample (`{"cpu_pct":..,..,"up":1}`, the figures known, in
//! [`livedash::fleet::FIGURES`] order) or a failure with the reader's reason.
//!
//! The reader hands its results over a small channel: the reader does not wait for the
//! deliverer, and if the deliverer falls behind by more than [`QUEUE`] results the newest are
//! dropped (the next sample comes an interval later).

use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::value::RawValue;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::RemoteHost;
use crate::fleet::figures::HostFigures;
use crate::shutdown::Shutdown;
use crate::sources::{Deliver, FetchError};

/// Results waiting for the deliverer.
const QUEUE: usize = 16;

/// Reads `host` as `source` until the task is aborted or `shutdown`, while `active` says so.
pub fn spawn<D: Deliver>(
    deliver: Arc<D>,
    source: Arc<str>,
    host: RemoteHost,
    mut active: watch::Receiver<bool>,
    mut shutdown: Shutdown,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if !*active.borrow_and_update() {
                tokio::select! {
                    changed = active.changed() => if changed.is_err() { return },
                    () = shutdown.stopped() => return,
                }
                continue;
            }
            let (tx, mut rx) = mpsc::channel(QUEUE);
            let reading = host.run(
                move |result| {
                    // Full: the deliverer is behind; this result is dropped, the next one follows.
                    let _ = tx.try_send(result);
                },
                // Stops reading when the gate moves (then looked at again); a gate whose sender is
                // gone stays as it is (`sources::always()` for a server alone): reading goes on.
                async {
                    if active.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                },
            );
            let delivering = async {
                while let Some(result) = rx.recv().await {
                    deliver.deliver(&source, result.map(|f| sample(&f)).map_err(FetchError::Remote)).await;
                }
            };
            tokio::select! {
                () = reading => {}
                () = delivering => {}
                () = shutdown.stopped() => return,
            }
        }
    })
}

/// A fleet sample's data from a remote's figures: each one known, and `up`.
pub fn sample(figures: &HostFigures) -> Arc<RawValue> {
    let mut text = String::with_capacity(160);
    text.push('{');
    for (name, value) in livedash::fleet::FIGURES.iter().zip(figures.columns()) {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            // A finite f64 prints as a plain decimal (no NaN, no exponent): valid JSON.
            let _ = write!(text, "\"{name}\":{v},");
        }
    }
    text.push_str("\"up\":1}");
    // Only names and finite numbers were written: always JSON.
    RawValue::from_string(text).map(Arc::from).unwrap_or_else(|_| livedash::raw_json(&serde_json::json!({"up": 1})))
}
