//! Alerts in a cluster, the stream's side: exactly one instance judges each source's rules, the
//! one holding the source's lease, and its state changes travel through the shared stream beside
//! the source's samples, appended by the same fenced script (`Node::fenced_append`, kind `a`, the
//! event with the lease's fencing token): a holder whose lease passed on cannot append one. Every
//! instance, the holder included, reads them back in stream order and hands them to its alerts
//! ([`Alerts::apply`]), which apply and record them (`alerts::cluster` says how).

use std::future::Future;
use std::pin::Pin;

use livedash::alerts::AlertEvent;
use redis::streams::StreamId;

use super::Node;
use super::reader::{ALERT, Entry, decode};
use super::state::{Mode, State};
use crate::alerts::Alerts;
use crate::alerts::leader::{Announced, Cluster, Role};

/// The fencing token in a lease value (`instance|token`).
pub fn token_of(lease: &str) -> Option<u64> {
    lease.rsplit_once('|')?.1.parse().ok()
}

impl Node {
    /// The token of `source`'s lease, while this instance holds it.
    pub fn token(&self, source: &str) -> Option<u64> {
        let role = self.state.role(source)?;
        role.lease.lock().as_deref().and_then(token_of)
    }

    /// Appends `event` (its `token` set to this instance's lease token for its source) to the
    /// shared stream, fenced: refused unless this instance holds the source's lease, in the
    /// current epoch.
    pub async fn announce_event(&self, mut event: AlertEvent) -> Announced {
        let epoch = match &*self.state.mode() {
            Mode::Shared { epoch } => epoch.clone(),
            Mode::Connecting | Mode::Alone { .. } => return Announced::NotShared,
        };
        let source = event.source.clone();
        let Some(lease) = self.state.role(&source).and_then(|r| r.lease.lock().clone()) else {
            return Announced::Fenced;
        };
        event.token = token_of(&lease).unwrap_or(0);
        let body = match serde_json::to_string(&event) {
            Ok(body) => body,
            Err(e) => return Announced::Failed(e.to_string()),
        };
        let reply = self.fenced_append(&lease, &epoch, &source, ALERT, &body).await;
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

impl Cluster for Node {
    fn role(&self, source: &str) -> Role {
        if !matches!(*self.state.mode(), Mode::Shared { .. }) {
            return Role::Local;
        }
        self.token(source).map_or(Role::Follow, Role::Lead)
    }

    fn announce(&self, event: AlertEvent) -> Pin<Box<dyn Future<Output = Announced> + Send + '_>> {
        Box::pin(self.announce_event(event))
    }

    fn last_seq(&self) -> u64 {
        self.hub.last_seq()
    }
}

/// Hands `alerts`, in order, the alert changes among `entries` of the stream of `epoch` (what the
/// stream held when this instance joined: for the state, not recorded again).
pub fn apply_all<'a>(alerts: Option<&Alerts>, entries: impl IntoIterator<Item = &'a StreamId>, epoch: &str) {
    let Some(alerts) = alerts else { return };
    for entry in entries {
        if let Some(Entry::Transition { epoch: of, seq, event }) = decode(entry)
            && of == epoch
        {
            alerts.apply(event, seq, false);
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
