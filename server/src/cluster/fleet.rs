//! The fleet's hosts in a cluster ([`Shared`], the reconciler's [`Placement`]): each host is a
//! source with a lease like a configured one, so that one instance across the cluster fetches it
//! and every instance reads its samples from the shared stream. Every instance reads its own copy
//! of the targets file (the same file deployed to each), so each adds and removes the same hosts;
//! a host is fetched once some instance holds its lease (the next round takes it: within a third
//! of a lease, sooner as the round is woken), or by every instance while Redis is unreachable.

use std::sync::Arc;

use tokio::sync::watch;

use super::Node;
use crate::fleet::hosts::Placement;

/// The cluster's node as the place of the fleet's fetches.
pub struct Shared(pub Arc<Node>);

impl Placement for Shared {
    type Out = Node;

    fn deliver(&self) -> Arc<Node> {
        self.0.clone()
    }

    fn add(&self, source: &Arc<str>) -> watch::Receiver<bool> {
        let gate = self.0.state.add_role(source);
        // A round now takes the new host's lease if nobody holds it.
        self.0.wake.notify_one();
        gate
    }

    fn remove(&self, source: &str) {
        // Given up at once when held here, so that the host, were it added again, is taken at the
        // next round (every instance removes it alike).
        let Some(lease) = self.0.state.remove_role(source) else { return };
        let (node, source) = (self.0.clone(), source.to_owned());
        tokio::spawn(async move { node.release_lease(&source, &lease).await });
    }
}
