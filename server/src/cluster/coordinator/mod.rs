//! The coordinator: [`start`] makes an instance's [`Node`] and sets going one task that keeps it in
//! the cluster, and each source's fetcher behind its gate. While Redis answers it holds or
//! follows each source's lease (a round every third of the lease: renew what this instance
//! holds, take what nobody holds, [`lease`]) and watches the epoch; the reader runs beside it
//! ([`join`]: a backfill pages through the stream while the rounds go on).
//!
//! A failed round or reader is not yet a lost Redis: the lease covers three rounds, so the
//! instance goes alone only once Redis has failed for as long as a lease lasts (measured on the
//! monotonic clock; and for a round at least, so that a process woken from a stop is not alone
//! at its first failure); meanwhile a reader that failed starts again where it stopped, after a
//! back-off. Alone, it tries to rejoin with a growing back-off (100 ms doubling up to the lease),
//! which is reset only once a rejoined reader has lasted a round, so that a rejoin whose reader
//! fails at once is never a tight loop. At shutdown it gives its leases up, so that another
//! instance takes over at once.

mod join;
mod lease;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::reader::{Position, Stop, Stopped};
use super::state::Mode;
use super::{Link, Node};
use crate::auth::Auth;
use crate::auth::accounts::random;
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
        alerts: link.alerts,
    });
    for spec in sources {
        let gate = node.state.role(&spec.name).map(|r| r.gate.subscribe()).unwrap_or_else(crate::sources::always);
        crate::sources::spawn(node.clone(), metrics.clone(), spec.clone(), gate, shutdown.clone());
    }
    tokio::spawn(run(node.clone(), shutdown.clone()));
    node
}

/// How the coordinator's exchanges with Redis have gone lately.
struct Health {
    /// Failures (of a join, a round, a reader) since Redis last worked for a while: the back-off's
    /// attempt number.
    failures: u32,
    /// When a round last succeeded with a reader running (or the stream was joined).
    healthy_at: Instant,
    /// When the current reader started.
    reader_since: Instant,
    /// The first failure since then.
    failing_since: Option<Instant>,
}

impl Health {
    fn new() -> Self {
        Self { failures: 0, healthy_at: Instant::now(), reader_since: Instant::now(), failing_since: None }
    }

    fn joined(&mut self) {
        (self.healthy_at, self.reader_since, self.failing_since) = (Instant::now(), Instant::now(), None);
    }

    fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
        self.failing_since.get_or_insert_with(Instant::now);
    }

    /// A round succeeded: with a reader that has run for a round, Redis works (a reader that
    /// fails at once does not count, so that it neither resets the back-off nor keeps the
    /// instance from going alone).
    fn round_ok(&mut self, reading: bool, round: Duration) {
        if reading && self.reader_since.elapsed() >= round {
            self.healthy_at = Instant::now();
            self.failures = 0;
            self.failing_since = None;
        }
    }

    /// Whether Redis has failed for as long as `lease`: what this instance held has passed on.
    /// The failures must span a round too: a process that was stopped (SIGSTOP) and wakes long
    /// after its last success fails once (a reply it waited for timed out) with Redis working;
    /// going alone then would fetch and judge beside the instance that holds the lease now.
    fn lost(&self, lease: Duration) -> bool {
        self.healthy_at.elapsed() >= lease && self.failing_since.is_some_and(|t| t.elapsed() >= lease / 3)
    }
}

/// Runs until `shutdown`.
pub async fn run(node: Arc<Node>, mut shutdown: Shutdown) {
    let round = node.lease / 3;
    let mut reader: Option<JoinHandle<Stopped>> = None;
    let mut health = Health::new();
    // Where a reader that failed is to go on from, and when it may.
    let mut resume: Option<(Position, Instant)> = None;
    loop {
        let mode = node.state.mode().clone();
        let epoch = match mode {
            Mode::Connecting | Mode::Alone { .. } => {
                if health.failures > 0 {
                    tokio::select! {
                        () = tokio::time::sleep(backoff(health.failures, node.lease)) => {}
                        () = shutdown.stopped() => break,
                    }
                }
                resume = None;
                if let Some(handle) = join(&node, matches!(mode, Mode::Connecting), &mut health).await {
                    reader = Some(handle);
                }
                continue;
            }
            Mode::Shared { epoch } => epoch,
        };
        if reader.is_none()
            && let Some((at, _)) = resume.take_if(|(_, when)| *when <= Instant::now())
        {
            match node.resume(at.clone(), &epoch).await {
                Ok(handle) => {
                    reader = Some(handle);
                    health.reader_since = Instant::now();
                }
                Err(e) => {
                    tracing::debug!(error = %e, "the stream reader could not start again yet");
                    health.failed();
                    resume = Some((at, Instant::now() + backoff(health.failures, round)));
                }
            }
        }
        let mut outcome = match node.round(&epoch).await {
            Ok(true) => {
                health.round_ok(reader.is_some(), round);
                None
            }
            Ok(false) => Some(Stop::NewEpoch),
            Err(e) => Some(Stop::Failed(e)),
        };
        let round_failed = outcome.is_some();
        if outcome.is_none() {
            outcome = tokio::select! {
                stopped = async { reader.as_mut().expect("a reader runs while shared").await }, if reader.is_some() => {
                    reader = None;
                    match stopped {
                        Ok(Stopped { why: Stop::Failed(e), at }) => {
                            resume = Some((at, Instant::now() + backoff(health.failures.saturating_add(1), round)));
                            Some(Stop::Failed(e))
                        }
                        Ok(Stopped { why, .. }) => Some(why),
                        Err(e) => Some(Stop::Failed(format!("the stream reader ended: {e}"))),
                    }
                }
                () = tokio::time::sleep(round) => None,
                () = node.wake.notified() => None,
                () = shutdown.stopped() => break,
            };
        }
        match outcome {
            None => {}
            Some(Stop::NewEpoch) => {
                tracing::warn!("the shared stream has a new epoch (Redis lost its data): rejoining");
                stop(&mut reader);
                resume = None;
                if let Some(handle) = join(&node, true, &mut health).await {
                    reader = Some(handle);
                }
            }
            Some(Stop::Failed(e)) => {
                health.failed();
                if health.lost(node.lease) || (reader.is_none() && resume.is_none()) {
                    stop(&mut reader);
                    resume = None;
                    node.go_alone(&e);
                    continue;
                }
                tracing::warn!(error = %e, "Redis failed; trying again while the lease lasts");
                if round_failed {
                    tokio::select! {
                        () = tokio::time::sleep(round) => {}
                        () = shutdown.stopped() => break,
                    }
                }
            }
        }
    }
    stop(&mut reader);
    node.release().await;
}

/// Joins the shared stream (`backfill` as [`Node::join`] takes it): the reader on success, noted
/// in `health`; on failure this instance fetches alone, and the failure counts.
async fn join(node: &Node, backfill: bool, health: &mut Health) -> Option<JoinHandle<Stopped>> {
    match node.join(backfill).await {
        Ok(handle) => {
            health.joined();
            Some(handle)
        }
        Err(e) => {
            node.go_alone(&e);
            health.failed();
            None
        }
    }
}

fn stop(reader: &mut Option<JoinHandle<Stopped>>) {
    if let Some(handle) = reader.take() {
        handle.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::millis;

    #[test]
    fn a_process_woken_long_after_its_last_success_is_not_alone_at_its_first_failure() {
        let lease = Duration::from_millis(300);
        let mut health = Health::new();
        health.healthy_at = Instant::now().checked_sub(Duration::from_secs(10)).expect("an instant 10 s ago");
        health.failed();
        assert!(!health.lost(lease), "one failure right after waking");
        std::thread::sleep(lease / 3);
        health.failed();
        assert!(health.lost(lease), "failures for a round, and no success for a lease");
        health.joined();
        health.failed();
        assert!(!health.lost(lease), "a success since");
    }

    #[test]
    fn rejoin_attempts_back_off_to_the_lease() {
        let cap = Duration::from_secs(3);
        let waits: Vec<u64> = (1..=7).map(|n| millis(backoff(n, cap))).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3000, 3000]);
        assert_eq!(backoff(100, cap), cap);
    }
}
