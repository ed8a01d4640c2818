//! Alerts in a cluster: exactly one instance judges each source's rules, the one holding the
//! source's lease, and its state changes travel through the shared stream beside the source's
//! samples, appended by the same fenced script ([`PUBLISH`], kind `a`): a holder whose lease
//! passed on cannot append one, so a failover neither loses nor duplicates a change. Every
//! instance, the holder included, reads them back in stream order and applies them to its own
//! alert state and store ([`Transitions::apply`]); a new holder picks the instances up where the
//! last changes in the stream left them, a pending one with the time it has already spent, from
//! the stream's `seq`s (Redis's clock, the same for every instance).
//!
//! The alerts wing implements [`Transitions`] (this wing never imports it) and calls
//! [`Node::announce`] for each change it decides.

use std::sync::Arc;

use livedash::alerts::AlertEvent;

use super::Node;
use super::scripts::PUBLISH;
use super::state::{Mode, State};
use crate::clock::{millis, now_ms};

/// The kind of a stream entry holding an alert state change.
pub const KIND: &str = "a";

/// What an instance does with the alert state changes the lease holders decided.
pub trait Transitions: Send + Sync {
    /// `event`, decided by the holder of its source's lease (this instance or another) and
    /// stamped in the stream at `seq` (Redis's time in µs): to be applied to this instance's
    /// alert state and recorded in its store. Called by the stream's reader, in stream order,
    /// after the sample that caused it; must not wait. A change may come again (a rejoin reads
    /// the stream's first page anew): the same `seq` of the same source is one change.
    fn apply(&self, event: AlertEvent, seq: u64);
}

/// How an announcement went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announced {
    /// In the stream at this `seq`.
    Stamped(u64),
    /// Not this instance's to announce: it does not hold the source's lease (any more).
    Fenced,
    /// The stream began anew (Redis lost its data) or this instance is not sharing it.
    NotShared,
    /// Redis failed.
    Failed(String),
}

/// The fencing token in a lease value (`instance|token`).
pub fn token_of(lease: &str) -> Option<u64> {
    lease.rsplit_once('|')?.1.parse().ok()
}

impl Node {
    /// The token of `source`'s lease, while this instance holds it.
    pub fn token(&self, source: &str) -> Option<u64> {
        let role = self.state.roles.get(source)?;
        role.lease.lock().as_deref().and_then(token_of)
    }

    /// The `seq` of the last sample this instance's hub took from the stream (Redis's time in µs,
    /// for the time a pending alert has spent).
    pub fn last_seq(&self) -> u64 {
        self.hub.last_seq()
    }

    /// Appends `event` (its `token` set to this instance's lease token for its source) to the
    /// shared stream, fenced: refused unless this instance holds the source's lease, in the
    /// current epoch.
    pub async fn announce(&self, mut event: AlertEvent) -> Announced {
        let epoch = match &*self.state.mode() {
            Mode::Shared { epoch } => epoch.clone(),
            Mode::Connecting | Mode::Alone { .. } => return Announced::NotShared,
        };
        let source = event.source.clone();
        let Some(lease) = self.state.roles.get(&source).and_then(|r| r.lease.lock().clone()) else {
            return Announced::Fenced;
        };
        event.token = token_of(&lease).unwrap_or(0);
        let body = match serde_json::to_string(&event) {
            Ok(body) => body,
            Err(e) => return Announced::Failed(e.to_string()),
        };
        let mut conn = self.conn.clone();
        let reply: redis::RedisResult<String> = PUBLISH
            .key(self.keys.lease(&source))
            .key(self.keys.seq())
            .key(self.keys.samples())
            .key(self.keys.epoch())
            .arg(&lease)
            .arg(&epoch)
            .arg(&*source)
            .arg(KIND)
            .arg(body)
            .arg(millis(self.keep))
            .arg(self.hub.last_seq() + 1)
            .arg(now_ms())
            .invoke_async(&mut conn)
            .await;
        match reply.as_deref() {
            Ok("-1") => {
                State::count(&self.state.stats.fenced);
                Announced::Fenced
            }
            Ok("-2") => {
                self.wake.notify_one();
                Announced::NotShared
            }
            Ok(seq) => seq.parse().map_or_else(|_| Announced::Failed(format!("a seq of {seq:?}")), Announced::Stamped),
            Err(e) => Announced::Failed(e.to_string()),
        }
    }
}

/// Applies, in order, the alert changes among `entries` of the stream of `epoch`.
pub fn apply_all<'a>(
    transitions: Option<&Arc<dyn Transitions>>,
    entries: impl IntoIterator<Item = &'a redis::streams::StreamId>,
    epoch: &str,
) {
    let Some(transitions) = transitions else { return };
    for entry in entries {
        if let Some(super::reader::Entry::Transition { epoch: of, seq, event }) = super::reader::decode(entry)
            && of == epoch
        {
            transitions.apply(event, seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_the_lease_values_last_part() {
        assert_eq!(token_of("host:12:abcdef|42"), Some(42));
        assert_eq!(token_of("a|b|7"), Some(7));
        assert_eq!(token_of("no token"), None);
    }
}
