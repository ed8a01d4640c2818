//! Reads the shared stream: every instance, the fetching one included, takes each sample,
//! failure and alert state change from `P:samples` in stream order (which is `seq` order) into its hub, and each spent
//! login budget from `P:blocks` into its throttle. One blocking `XREAD` on a connection of its
//! own (a blocking command would hold up every other command on a shared one). A backfill (at
//! join, or going on after a failure) pages through the stream first, on the same connection,
//! while the coordinator goes on renewing the leases.

use std::sync::Arc;
use std::time::{Duration, Instant};

use livedash::Sample;
use livedash::alerts::AlertEvent;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use serde_json::value::RawValue;

use super::state::State;
use crate::alerts::Alerts;
use crate::auth::Auth;
use crate::clock::now_ms;
use crate::live::hub::Hub;

/// How many entries one read of the samples stream takes at most (a page of a backfill): small
/// enough that a page of large entries, or a busy machine, never takes a reply past the reader's
/// response timeout.
pub const PAGE: usize = 250;
/// The longest a backfill waits, before a page, for a tap of the hub that is behind.
const PATIENCE: Duration = Duration::from_secs(5);

/// Why the reader stopped, and where it was: a reader that failed can go on from there.
#[derive(Debug)]
pub struct Stopped {
    /// Why.
    pub why: Stop,
    /// The last entries it took.
    pub at: Position,
}

/// Why the reader stopped.
#[derive(Debug)]
pub enum Stop {
    /// Redis failed or went away.
    Failed(String),
    /// An entry of another epoch: Redis lost its data and the stream began anew.
    NewEpoch,
}

/// An entry of the samples stream.
#[derive(Debug)]
pub enum Entry {
    /// A sample, stamped.
    Sample {
        /// The epoch it was stamped in.
        epoch: String,
        /// The sample.
        sample: Sample,
    },
    /// A failed fetch.
    Failure {
        /// The epoch it was stamped in.
        epoch: String,
        /// Its source.
        source: Arc<str>,
        /// Why.
        reason: String,
    },
    /// An alert state change decided by the source's lease holder ([`super::transitions`]).
    Transition {
        /// The epoch it was stamped in.
        epoch: String,
        /// Its place in the stream (Redis's time in µs).
        seq: u64,
        /// The change, with the holder's fencing token.
        event: AlertEvent,
    },
}

impl Entry {
    /// The epoch it was stamped in.
    pub fn epoch(&self) -> &str {
        match self {
            Self::Sample { epoch, .. } | Self::Failure { epoch, .. } | Self::Transition { epoch, .. } => epoch,
        }
    }
}

/// The kind of a stream entry holding an alert state change ([`super::transitions`]).
pub const ALERT: &str = "a";

/// An entry as [`super::scripts::PUBLISH`] writes it; `None` for anything else (logged, skipped).
pub fn decode(entry: &StreamId) -> Option<Entry> {
    let text = |field: &str| entry.get::<String>(field);
    let epoch = text("e")?;
    let source: Arc<str> = Arc::from(text("src")?);
    match text("k")?.as_str() {
        "s" => {
            let data = RawValue::from_string(text("d")?).ok()?;
            let sample =
                Sample { seq: text("q")?.parse().ok()?, source, ts_ms: text("t")?.parse().ok()?, data: data.into() };
            Some(Entry::Sample { epoch, sample })
        }
        "f" => Some(Entry::Failure { epoch, source, reason: text("d")? }),
        ALERT => {
            let event: AlertEvent = serde_json::from_str(&text("d")?).ok()?;
            (event.source == source).then_some(Entry::Transition { epoch, seq: text("q")?.parse().ok()?, event })
        }
        _ => None,
    }
}

/// Where the reader is in each stream.
#[derive(Debug, Clone)]
pub struct Position {
    /// The last samples entry read.
    pub samples: String,
    /// The last blocks entry read.
    pub blocks: String,
}

/// What the reader feeds.
pub struct Sinks {
    /// Samples and failures go here.
    pub hub: Arc<Hub>,
    /// Spent budgets go here.
    pub auth: Arc<Auth>,
    /// Counters.
    pub state: Arc<State>,
    /// Alert state changes go here.
    pub alerts: Option<Alerts>,
    /// Whether what a catch-up reads was missed by this instance (a reader going on after a
    /// failure: its alert changes are recorded) rather than in the stream before it joined (for
    /// the alert states only: recorded, if at all, by an earlier life of this instance).
    pub missed: bool,
}

/// Reads from `position` on until Redis fails or the epoch changes (`epoch` is the current one);
/// with `catch_up`, first takes what the samples stream holds after `position` a page at a time
/// ([`catch_up`]). Says why it stopped, and where it was.
pub async fn run(
    mut conn: MultiplexedConnection,
    keys: (String, String),
    mut position: Position,
    epoch: String,
    sinks: Sinks,
    (block, catch_up_first): (Duration, bool),
) -> Stopped {
    let (samples_key, blocks_key) = keys;
    if catch_up_first && let Err(why) = catch_up(&mut conn, &samples_key, &mut position, &epoch, &sinks).await {
        return Stopped { why, at: position };
    }
    let block_ms = u64::try_from(block.as_millis()).unwrap_or(1000);
    loop {
        let reply: Option<StreamReadReply> = match redis::cmd("XREAD")
            .arg("COUNT")
            .arg(PAGE)
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS")
            .arg(&samples_key)
            .arg(&blocks_key)
            .arg(&position.samples)
            .arg(&position.blocks)
            .query_async(&mut conn)
            .await
        {
            Ok(reply) => reply,
            Err(e) => return Stopped { why: Stop::Failed(e.to_string()), at: position },
        };
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            if stream.key == samples_key {
                for entry in &stream.ids {
                    if let Err(why) = take(entry, &epoch, &sinks, false) {
                        return Stopped { why, at: position };
                    }
                    position.samples.clone_from(&entry.id);
                }
            } else {
                for entry in &stream.ids {
                    refuse_too(&sinks.auth, entry);
                    position.blocks.clone_from(&entry.id);
                }
            }
        }
    }
}

/// Takes the samples stream after `position.samples` into the hub a page at a time
/// (`XRANGE key (id + COUNT n`, on the reader's own connection, so that no reply holds up the
/// lease's renewal), pausing while a tap of the hub (the history store's queue) is behind, at
/// most [`PATIENCE`] a page, until a page comes back short. Entries of another epoch (from
/// before Redis lost its data) are skipped, as the first page's are.
pub async fn catch_up(
    conn: &mut MultiplexedConnection,
    key: &str,
    position: &mut Position,
    epoch: &str,
    sinks: &Sinks,
) -> Result<(), Stop> {
    loop {
        let waited = Instant::now();
        while sinks.hub.taps_behind() && waited.elapsed() < PATIENCE {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let page: StreamRangeReply = redis::cmd("XRANGE")
            .arg(key)
            .arg(format!("({}", position.samples))
            .arg("+")
            .arg("COUNT")
            .arg(PAGE)
            .query_async(conn)
            .await
            .map_err(|e| Stop::Failed(e.to_string()))?;
        for entry in &page.ids {
            take(entry, epoch, sinks, true)?;
            position.samples.clone_from(&entry.id);
        }
        if page.ids.len() < PAGE {
            return Ok(());
        }
    }
}

/// Takes one entry of the samples stream into the hub. One of another epoch stops the reader
/// (Redis lost its data), unless `skip_other_epochs` (a backfill: the stream's oldest entries may
/// be of an epoch before the current one).
fn take(entry: &StreamId, epoch: &str, sinks: &Sinks, skip_other_epochs: bool) -> Result<(), Stop> {
    match decode(entry) {
        Some(e) if e.epoch() != epoch => {
            if !skip_other_epochs {
                return Err(Stop::NewEpoch);
            }
        }
        Some(Entry::Sample { sample, .. }) => {
            State::count(&sinks.state.stats.received);
            sinks.hub.accept(sample);
        }
        Some(Entry::Failure { source, reason, .. }) => {
            State::count(&sinks.state.stats.received);
            sinks.hub.set_failing(&source, reason);
        }
        Some(Entry::Transition { seq, event, .. }) => {
            State::count(&sinks.state.stats.received);
            if let Some(alerts) = &sinks.alerts {
                alerts.apply(event, seq, !skip_other_epochs || sinks.missed);
            }
        }
        None => tracing::warn!(id = %entry.id, "skipped an entry of the shared stream that livedash did not write"),
    }
    Ok(())
}

/// A spent budget told by an instance: refused here too, for what is left of its wait.
fn refuse_too(auth: &Auth, entry: &StreamId) {
    let (Some(subject), Some(wait_ms)) = (entry.get::<String>("s"), entry.get::<u64>("w")) else { return };
    let written_ms = entry.id.split('-').next().and_then(|ms| ms.parse::<u64>().ok()).unwrap_or_else(now_ms);
    let left = wait_ms.saturating_sub(now_ms().saturating_sub(written_ms));
    if left > 0 {
        auth.block_from_peer(&subject, Duration::from_millis(left));
    }
}
