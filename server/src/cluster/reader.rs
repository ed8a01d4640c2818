//! Reads the shared stream: every instance, the fetching one included, takes each sample and
//! failure from `P:samples` in stream order (which is `seq` order) into its hub, and each spent
//! login budget from `P:blocks` into its throttle. One blocking `XREAD` on a connection of its
//! own (a blocking command would hold up every other command on a shared one).

use std::sync::Arc;
use std::time::Duration;

use livedash::Sample;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamId, StreamReadReply};
use serde_json::value::RawValue;

use super::state::State;
use crate::auth::Auth;
use crate::clock::now_ms;
use crate::live::hub::Hub;

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
}

impl Entry {
    /// The epoch it was stamped in.
    pub fn epoch(&self) -> &str {
        match self {
            Self::Sample { epoch, .. } | Self::Failure { epoch, .. } => epoch,
        }
    }
}

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
        _ => None,
    }
}

/// Where the reader is in each stream.
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
}

/// Reads from `position` on until Redis fails or the epoch changes (`epoch` is the current one).
pub async fn run(
    mut conn: MultiplexedConnection,
    keys: (String, String),
    mut position: Position,
    epoch: String,
    sinks: Sinks,
    block: Duration,
) -> Stop {
    let (samples_key, blocks_key) = keys;
    let block_ms = u64::try_from(block.as_millis()).unwrap_or(1000);
    loop {
        let reply: Option<StreamReadReply> = match redis::cmd("XREAD")
            .arg("COUNT")
            .arg(1000)
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
            Err(e) => return Stop::Failed(e.to_string()),
        };
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            if stream.key == samples_key {
                for entry in &stream.ids {
                    match decode(entry) {
                        Some(e) if e.epoch() != epoch => return Stop::NewEpoch,
                        Some(Entry::Sample { sample, .. }) => {
                            State::count(&sinks.state.stats.received);
                            sinks.hub.accept(sample);
                        }
                        Some(Entry::Failure { source, reason, .. }) => {
                            State::count(&sinks.state.stats.received);
                            sinks.hub.set_failing(&source, reason);
                        }
                        None => {
                            tracing::warn!(id = %entry.id, "skipped an entry of the shared stream that livedash did not write")
                        }
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

/// A spent budget told by an instance: refused here too, for what is left of its wait.
fn refuse_too(auth: &Auth, entry: &StreamId) {
    let (Some(subject), Some(wait_ms)) = (entry.get::<String>("s"), entry.get::<u64>("w")) else { return };
    let written_ms = entry.id.split('-').next().and_then(|ms| ms.parse::<u64>().ok()).unwrap_or_else(now_ms);
    let left = wait_ms.saturating_sub(now_ms().saturating_sub(written_ms));
    if left > 0 {
        auth.block_from_peer(&subject, Duration::from_millis(left));
    }
}
