//! Exactly once across a cluster: before sending a delivery, the instance holding the lease of the
//! alert's source claims it in Redis with the lease's fencing token; after the receiver accepted
//! it, marks it done there. Another instance never sends a delivery claimed by a newer token or
//! marked done; a new holder takes over a claim of an older token that was never marked done (the
//! old holder died before or during the send: a receiver that de-duplicates by `id` stays right
//! even if the first send did arrive). The cluster wing implements [`Claims`]; this wing never
//! imports it.

use std::future::Future;
use std::pin::Pin;

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// This instance holds the source's lease and now holds the claim (with this token): send.
    Mine(u64),
    /// Another instance delivered it already: mark it so here, do not send.
    Done,
    /// This instance does not hold the source's lease (or a newer token holds the claim): do not
    /// send now; look again later (the holder may die).
    NotHolder,
    /// No cluster now (Redis unreachable: this instance is alone): send as without a cluster.
    Alone,
    /// Redis failed: try again later.
    Failed(String),
}

/// A boxed future, as the trait object needs.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the cluster offers the outbox.
pub trait Claims: Send + Sync {
    /// Claims delivery `key` (the event's id and the channel, `"<id>/<channel>"`) of an alert of
    /// `source`.
    fn claim<'a>(&'a self, source: &'a str, key: &'a str) -> Pending<'a, Claimed>;
    /// Marks `key` delivered (after the receiver accepted it), under `token`.
    fn done<'a>(&'a self, key: &'a str, token: u64) -> Pending<'a, Result<(), String>>;
    /// Whether `key` was marked delivered by any instance (a follower's rows are closed so).
    fn is_done<'a>(&'a self, key: &'a str) -> Pending<'a, Result<bool, String>>;
}
