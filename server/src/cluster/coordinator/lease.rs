//! A round of the coordinator (the epoch checked, each source's lease renewed or taken, the
//! gates following), going alone (once Redis has failed for as long as a lease lasts), and
//! giving the leases up at shutdown.

use std::time::Duration;

use futures_util::future::join_all;

use super::super::Node;
use super::super::scripts::{HOLD, RELEASE};
use super::super::state::{self, Mode, State};
use crate::clock::{millis, now_ms};

impl Node {
    /// One round: the epoch is still `epoch` (else `Ok(false)`), and each source's lease renewed
    /// (held here) or taken (held by nobody); the gates follow.
    pub(super) async fn round(&self, epoch: &str) -> Result<bool, String> {
        let mut conn = self.conn.clone();
        let current: Option<String> =
            redis::cmd("GET").arg(self.keys.epoch()).query_async(&mut conn).await.map_err(|e| e.to_string())?;
        if current.as_deref() != Some(epoch) {
            return Ok(false);
        }
        let lease_ms = millis(self.lease);
        let roles = self.state.roles();
        let holds = roles.iter().map(|(source, role)| {
            let held = role.lease.lock().clone().unwrap_or_default();
            let mut conn = conn.clone();
            async move {
                let reply: redis::RedisResult<(i64, String)> = HOLD
                    .key(self.keys.lease(source))
                    .key(self.keys.fence(source))
                    .arg(held)
                    .arg(&self.state.instance)
                    .arg(lease_ms)
                    .invoke_async(&mut conn)
                    .await;
                (source, role, reply)
            }
        });
        for (source, role, reply) in join_all(holds).await {
            let (held, value) = reply.map_err(|e| e.to_string())?;
            if held == 1 {
                let before = role.lease.lock().replace(value.clone());
                if before.as_ref() != Some(&value) {
                    State::count(&self.state.stats.leases_taken);
                    tracing::info!(%source, lease = ?value, "this instance fetches the source now");
                }
                self.state.set_fetching(source, true);
            } else {
                if role.lease.lock().take().is_some() {
                    tracing::info!(%source, holder = ?value, "another instance fetches the source now");
                }
                self.state.set_fetching(source, false);
            }
        }
        Ok(true)
    }

    /// Makes this instance fetch every source itself, in an epoch of its own, and says why.
    pub(super) fn go_alone(&self, error: &str) {
        let error = format!("Redis at {} does not answer: {error}", self.place);
        {
            let mut mode = self.state.mode();
            if let Mode::Alone { error: e, .. } = &mut *mode {
                *e = error;
                return;
            }
            let alone = Mode::Alone { epoch: state::local_epoch(self.random), error: error.clone() };
            self.hub.set_cluster(State::status_of(&alone, now_ms()).expect("an alone mode has a status"));
            *mode = alone;
        }
        self.state.reachable.store(false, std::sync::atomic::Ordering::Relaxed);
        State::count(&self.state.stats.lost);
        tracing::warn!(reason = ?error, "Redis is unreachable: this instance fetches every source itself until it answers again");
        for (source, _) in &self.state.roles() {
            self.state.set_fetching(source, true);
        }
    }

    /// Gives up the leases held (at shutdown): another instance takes over at its next round.
    pub(super) async fn release(&self) {
        for (source, role) in &self.state.roles() {
            let Some(value) = role.lease.lock().take() else { continue };
            self.release_lease(source, &value).await;
        }
    }

    /// Gives up `source`'s lease `value` (at shutdown, or a fleet host removed), waiting 500 ms at
    /// most: unanswered, it expires by itself.
    pub(crate) async fn release_lease(&self, source: &str, value: &str) {
        let mut conn = self.conn.clone();
        let mut invocation = RELEASE.prepare_invoke();
        invocation.key(self.keys.lease(source)).arg(value);
        match tokio::time::timeout(Duration::from_millis(500), invocation.invoke_async::<i64>(&mut conn)).await {
            Ok(Ok(_)) => tracing::info!(%source, "gave the source's lease up"),
            _ => tracing::debug!(%source, "could not give the lease up; it expires by itself"),
        }
    }
}
