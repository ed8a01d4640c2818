//! The coordinator: [`start`] makes an instance's [`Node`] and sets going one task that keeps it in
//! the cluster, and each source's fetcher behind its gate. While Redis answers it
//! holds or follows each source's lease (a round every third of the lease: renew what this
//! instance holds, take what nobody holds) and watches the epoch; the reader runs beside it.
//! When Redis stops answering it makes the instance fetch alone, and tries to rejoin with a
//! growing back-off (100 ms doubling up to the lease) until Redis answers again. At shutdown it
//! gives its leases up, so that another instance takes over at once.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use livedash::Sample;
use redis::AsyncConnectionConfig;
use redis::streams::StreamRangeReply;
use tokio::task::JoinHandle;

use super::reader::{self, Entry, Position, Sinks, Stop};
use super::scripts::{HOLD, RELEASE};
use super::state::{self, Mode, State};
use super::{Link, Node};
use crate::auth::Auth;
use crate::auth::accounts::random;
use crate::clock::{millis, now_ms};
use crate::live::hub::Hub;
use crate::live::stamp::Stamper;
use crate::metrics::SourceMetrics;
use crate::shutdown::Shutdown;
use crate::sources::SourceSpec;

/// How long the reader's `XREAD` blocks at most.
const BLOCK: Duration = Duration::from_secs(1);

/// The wait before rejoin attempt `n` (from 1): 100 ms doubling, at most `cap`.
pub fn backoff(n: u32, cap: Duration) -> Duration {
    Duration::from_millis(100).saturating_mul(1 << n.saturating_sub(1).min(16)).min(cap)
}

/// Starts the cluster on `link`: the coordinator, and each source's fetcher behind its gate.
pub fn start(
    link: Link,
    hub: Arc<Hub>,
    stamper: Arc<Stamper>,
    auth: Arc<Auth>,
    sources: &[SourceSpec],
    metrics: &SourceMetrics,
    shutdown: &Shutdown,
) -> Arc<Node> {
    let node = Arc::new(Node {
        client: link.client,
        conn: link.conn,
        keys: link.keys,
        state: link.state,
        hub,
        stamper,
        auth,
        lease: link.lease,
        keep: link.keep,
        place: link.place,
        wake: tokio::sync::Notify::new(),
        random: random(),
    });
    for spec in sources {
        let gate = node.state.roles.get(&spec.name).map(|r| r.gate.subscribe()).unwrap_or_else(crate::sources::always);
        crate::sources::spawn(node.clone(), metrics.clone(), spec.clone(), gate, shutdown.clone());
    }
    tokio::spawn(run(node.clone(), shutdown.clone()));
    node
}

/// Runs until `shutdown`.
pub async fn run(node: Arc<Node>, mut shutdown: Shutdown) {
    let round = node.lease / 3;
    let mut reader: Option<JoinHandle<Stop>> = None;
    let mut attempts: u32 = 0;
    loop {
        let mode = node.state.mode().clone();
        let epoch = match mode {
            Mode::Connecting | Mode::Alone { .. } => {
                match node.join(matches!(mode, Mode::Connecting)).await {
                    Ok(handle) => {
                        reader = Some(handle);
                        attempts = 0;
                    }
                    Err(e) => {
                        node.go_alone(&e);
                        attempts += 1;
                        tokio::select! {
                            () = tokio::time::sleep(backoff(attempts, node.lease)) => {}
                            () = shutdown.stopped() => break,
                        }
                    }
                }
                continue;
            }
            Mode::Shared { epoch } => epoch,
        };
        let outcome = match node.round(&epoch).await {
            Ok(true) => None,
            Ok(false) => Some(Stop::NewEpoch),
            Err(e) => Some(Stop::Failed(e)),
        };
        let outcome = match outcome {
            Some(stop) => Some(stop),
            None => tokio::select! {
                stop = async { reader.as_mut().expect("a reader runs while shared").await } , if reader.is_some() => {
                    reader = None;
                    Some(stop.unwrap_or_else(|e| Stop::Failed(format!("the stream reader ended: {e}"))))
                }
                () = tokio::time::sleep(round) => None,
                () = node.wake.notified() => None,
                () = shutdown.stopped() => break,
            },
        };
        match outcome {
            None => {}
            Some(Stop::NewEpoch) => {
                tracing::warn!("the shared stream has a new epoch (Redis lost its data): rejoining");
                stop(&mut reader);
                match node.join(true).await {
                    Ok(handle) => reader = Some(handle),
                    Err(e) => node.go_alone(&e),
                }
            }
            Some(Stop::Failed(e)) => {
                stop(&mut reader);
                node.go_alone(&e);
            }
        }
    }
    stop(&mut reader);
    node.release().await;
}

fn stop(reader: &mut Option<JoinHandle<Stop>>) {
    if let Some(handle) = reader.take() {
        handle.abort();
    }
}

impl Node {
    /// Joins the shared stream: its epoch (made when there is none), where to read from, the
    /// hub's switch to it, and the reader. With `backfill`, the samples the stream still holds
    /// that the hub has not seen are taken first (at start, and after an epoch change); after a
    /// spell alone the hub starts at the stream's end instead, so that its history does not hold
    /// two fetches of the same span.
    async fn join(&self, backfill: bool) -> Result<JoinHandle<Stop>, String> {
        let mut conn = self.conn.clone();
        let fail = |e: redis::RedisError| e.to_string();
        let fresh = state::new_epoch(random());
        let _: Option<String> = redis::cmd("SET")
            .arg(self.keys.epoch())
            .arg(&fresh)
            .arg("NX")
            .query_async(&mut conn)
            .await
            .map_err(fail)?;
        let epoch: Option<String> =
            redis::cmd("GET").arg(self.keys.epoch()).query_async(&mut conn).await.map_err(fail)?;
        let epoch = epoch.ok_or_else(|| "the shared stream's epoch vanished while joining".to_owned())?;
        let (samples, last_sample) = if backfill {
            let all: StreamRangeReply = redis::cmd("XRANGE")
                .arg(self.keys.samples())
                .arg("-")
                .arg("+")
                .query_async(&mut conn)
                .await
                .map_err(fail)?;
            let last = all.ids.last().map(|e| e.id.clone());
            (all.ids, last)
        } else {
            (Vec::new(), self.last_id(&self.keys.samples()).await?)
        };
        let last_block = self.last_id(&self.keys.blocks()).await?;
        let timeout = (self.lease / 2).clamp(Duration::from_millis(250), Duration::from_secs(2));
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(BLOCK + timeout));
        let reader_conn = self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(fail)?;
        let backfill: Vec<Sample> = samples
            .iter()
            .filter_map(reader::decode)
            .filter_map(|e| match e {
                Entry::Sample { epoch: of, sample } if of == epoch => Some(sample),
                _ => None,
            })
            .collect();
        let taken = {
            let mut mode = self.state.mode();
            let shared = Mode::Shared { epoch: epoch.clone() };
            let status = State::status_of(&shared, now_ms()).expect("a shared mode has a status");
            *mode = shared;
            self.hub.join(status, backfill)
        };
        self.state.reachable.store(true, std::sync::atomic::Ordering::Relaxed);
        for (source, role) in &self.state.roles {
            self.state.set_fetching(source, role.lease.lock().is_some());
        }
        tracing::info!(%epoch, instance = %self.state.instance, taken, "sharing the sources through Redis");
        let position = Position {
            samples: last_sample.unwrap_or_else(|| "0-0".to_owned()),
            blocks: last_block.unwrap_or_else(|| "0-0".to_owned()),
        };
        let sinks = Sinks { hub: self.hub.clone(), auth: self.auth.clone(), state: self.state.clone() };
        let keys = (self.keys.samples(), self.keys.blocks());
        self.wake.notify_one();
        Ok(tokio::spawn(reader::run(reader_conn, keys, position, epoch, sinks, BLOCK)))
    }

    /// The last entry's id of the stream `key`, if it has any.
    async fn last_id(&self, key: &str) -> Result<Option<String>, String> {
        let mut conn = self.conn.clone();
        let last: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(last.ids.first().map(|e| e.id.clone()))
    }

    /// One round: the epoch is still `epoch` (else `Ok(false)`), and each source's lease renewed
    /// (held here) or taken (held by nobody); the gates follow.
    async fn round(&self, epoch: &str) -> Result<bool, String> {
        let mut conn = self.conn.clone();
        let current: Option<String> =
            redis::cmd("GET").arg(self.keys.epoch()).query_async(&mut conn).await.map_err(|e| e.to_string())?;
        if current.as_deref() != Some(epoch) {
            return Ok(false);
        }
        let lease_ms = millis(self.lease);
        let holds = self.state.roles.iter().map(|(source, role)| {
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
                    tracing::info!(%source, lease = %value, "this instance fetches the source now");
                }
                self.state.set_fetching(source, true);
            } else {
                if role.lease.lock().take().is_some() {
                    tracing::info!(%source, holder = %value, "another instance fetches the source now");
                }
                self.state.set_fetching(source, false);
            }
        }
        Ok(true)
    }

    /// Makes this instance fetch every source itself, in an epoch of its own, and says why.
    fn go_alone(&self, error: &str) {
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
        tracing::warn!(reason = %error, "Redis is unreachable: this instance fetches every source itself until it answers again");
        for source in self.state.roles.keys() {
            self.state.set_fetching(source, true);
        }
    }

    /// Gives up the leases held (at shutdown): another instance takes over at its next round.
    async fn release(&self) {
        let mut conn = self.conn.clone();
        for (source, role) in &self.state.roles {
            let Some(value) = role.lease.lock().take() else { continue };
            let mut invocation = RELEASE.prepare_invoke();
            invocation.key(self.keys.lease(source)).arg(value);
            match tokio::time::timeout(Duration::from_millis(500), invocation.invoke_async::<i64>(&mut conn)).await {
                Ok(Ok(_)) => tracing::info!(%source, "gave the source's lease up"),
                _ => tracing::debug!(%source, "could not give the lease up; it expires by itself"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejoin_attempts_back_off_to_the_lease() {
        let cap = Duration::from_secs(3);
        let waits: Vec<u64> = (1..=7).map(|n| millis(backoff(n, cap))).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3000, 3000]);
        assert_eq!(backoff(100, cap), cap);
    }
}
