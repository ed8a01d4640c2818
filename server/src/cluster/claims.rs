//! Notifications in a cluster, sent exactly once ([`Claims`] for [`Node`]): every instance keeps
//! the outbox rows of every event it reads from the stream, but only the holder of the alert's
//! source's lease sends one, after claiming it in Redis with the lease's fencing token
//! ([`CLAIM`]); once the receiver accepted it, the delivery is marked done ([`DONE`]) and no
//! instance sends it again, while the other instances close their rows of it. A holder that dies
//! after claiming, before the receiver accepted, leaves a claim of an older token that the next
//! holder takes over: the delivery is neither lost nor sent twice by two live holders.

use std::time::Duration;

use super::Node;
use super::scripts::{CLAIM, DONE};
use super::state::Mode;
use crate::clock::millis;
use crate::notify::claim::{Claimed, Claims, Pending};

/// How long a delivery's claim is kept in Redis: longer than the outbox tries a delivery (a day),
/// so that an instance that was away meanwhile still learns that it was sent.
pub const CLAIM_TTL: Duration = Duration::from_secs(3 * 86_400);

impl Node {
    /// Claims delivery `key` of an alert of `source` (see [`Claims::claim`]).
    pub async fn claim_delivery(&self, source: &str, key: &str) -> Claimed {
        match &*self.state.mode() {
            Mode::Shared { .. } => {}
            Mode::Alone { .. } => return Claimed::Alone,
            Mode::Connecting => return Claimed::NotHolder,
        }
        // Not holding the lease here: the script still says whether the delivery was done.
        let lease = self.state.role(source).and_then(|r| r.lease.lock().clone()).unwrap_or_default();
        let mut conn = self.conn.clone();
        let reply: redis::RedisResult<(i64, u64)> = CLAIM
            .key(self.keys.lease(source))
            .key(self.keys.claim(key))
            .arg(lease)
            .arg(millis(CLAIM_TTL))
            .invoke_async(&mut conn)
            .await;
        match reply {
            Ok((1, token)) => Claimed::Mine(token),
            Ok((2, _)) => Claimed::Done,
            Ok(_) => Claimed::NotHolder,
            Err(e) => Claimed::Failed(e.to_string()),
        }
    }

    /// Marks delivery `key` done under `token` (see [`Claims::done`]).
    ///
    /// # Errors
    /// Redis failed.
    pub async fn delivery_done(&self, key: &str, token: u64) -> Result<(), String> {
        let mut conn = self.conn.clone();
        DONE.key(self.keys.claim(key))
            .arg(token)
            .arg(millis(CLAIM_TTL))
            .invoke_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Whether delivery `key` was marked done (see [`Claims::is_done`]).
    ///
    /// # Errors
    /// Redis failed.
    pub async fn delivery_is_done(&self, key: &str) -> Result<bool, String> {
        let mut conn = self.conn.clone();
        let claim: Option<String> =
            redis::cmd("GET").arg(self.keys.claim(key)).query_async(&mut conn).await.map_err(|e| e.to_string())?;
        Ok(claim.is_some_and(|c| c.starts_with("done:")))
    }
}

impl Claims for Node {
    fn claim<'a>(&'a self, source: &'a str, key: &'a str) -> Pending<'a, Claimed> {
        Box::pin(self.claim_delivery(source, key))
    }

    fn done<'a>(&'a self, key: &'a str, token: u64) -> Pending<'a, Result<(), String>> {
        Box::pin(self.delivery_done(key, token))
    }

    fn is_done<'a>(&'a self, key: &'a str) -> Pending<'a, Result<bool, String>> {
        Box::pin(self.delivery_is_done(key))
    }
}
