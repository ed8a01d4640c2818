//! Where a fetch goes in a cluster ([`Deliver`] for [`Node`]): while Redis is in use, into the
//! shared stream, stamped there and fenced by the lease this instance holds; while this instance
//! is alone, to its own stamper (under the mode's lock, so that no local sample follows the
//! return to the shared stream).

use std::sync::Arc;

use serde_json::value::RawValue;

use super::Node;
use super::scripts::PUBLISH;
use super::state::{Mode, State};
use crate::clock::{millis, now_ms};
use crate::sources::{Deliver, FetchError};

impl Deliver for Node {
    async fn deliver(&self, source: &Arc<str>, result: Result<Arc<RawValue>, FetchError>) {
        let epoch = {
            let mode = self.state.mode();
            match &*mode {
                Mode::Alone { .. } => {
                    match result {
                        Ok(data) => self.stamper.publish(source, data),
                        Err(e) => self.stamper.fail(source, e.to_string()),
                    }
                    return;
                }
                Mode::Shared { epoch } => epoch.clone(),
                Mode::Connecting => return,
            }
        };
        let Some(lease) = self.state.role(source).and_then(|r| r.lease.lock().clone()) else { return };
        // The sample's JSON goes to Redis as it is, not copied.
        let reason;
        let (kind, body) = match &result {
            Ok(data) => ("s", data.get()),
            Err(e) => {
                reason = e.to_string();
                ("f", reason.as_str())
            }
        };
        let reply = self.fenced_append(&lease, &epoch, source, kind, body).await;
        match reply.as_deref() {
            Ok("-1") => {
                // Another instance holds the lease now: this one must not fetch any more.
                State::count(&self.state.stats.fenced);
                tracing::warn!(%source, "lost the lease while fetching: another instance fetches it now");
                if let Some(role) = self.state.role(source) {
                    *role.lease.lock() = None;
                }
                self.state.set_fetching(source, false);
            }
            Ok("-2") => self.wake.notify_one(),
            Ok(_) => State::count(&self.state.stats.published),
            Err(e) => {
                State::count(&self.state.stats.dropped);
                tracing::debug!(%source, error = %e, "could not append a sample to the shared stream");
                self.wake.notify_one();
            }
        }
    }

    fn missed_ticks(&self, n: u64) {
        self.hub.stats.missed_ticks.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Node {
    /// Appends an entry of `kind` (`s` a sample, `f` a failure, `a` an alert change) with `body`
    /// for `source` to the shared stream of `epoch`, stamped there, if `lease` is still the
    /// source's lease. The script's answer: the `seq`, `-1` fenced (another instance holds the
    /// lease), `-2` another epoch.
    pub(super) async fn fenced_append(
        &self,
        lease: &str,
        epoch: &str,
        source: &str,
        kind: &str,
        body: &str,
    ) -> redis::RedisResult<String> {
        let mut conn = self.conn.clone();
        PUBLISH
            .key(self.keys.lease(source))
            .key(self.keys.seq())
            .key(self.keys.samples())
            .key(self.keys.epoch())
            .arg(lease)
            .arg(epoch)
            .arg(source)
            .arg(kind)
            .arg(body)
            .arg(millis(self.keep))
            .arg(self.hub.last_seq() + 1)
            .arg(now_ms())
            .invoke_async(&mut conn)
            .await
    }
}
