//! The shared book of authentication ([`SharedAuth`]) on Redis: a ticket is redeemed once across
//! every instance ([`super::scripts::REDEEM`]: its expiry judged by Redis's clock, its nonce kept
//! a minute past it, and nothing issued before Redis's book began), and password attempts are taken from
//! login budgets kept in Redis (one script: [`super::scripts::SPEND`]; a right password gives its
//! attempt back, [`super::scripts::REFUND`]). Both answer
//! [`Unavailable`] when Redis does not, and the caller falls back on what it has.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;

use super::keys::Keys;
use super::scripts::{REDEEM, REFUND, SPEND};
use crate::auth::shared::{Budget, SKEW_MARGIN, SharedAuth, Spent, Unavailable};
use crate::clock::millis;

/// The book, on the cluster's connection.
pub struct Book {
    pub(super) conn: ConnectionManager,
    pub(super) keys: Keys,
    /// Set by the cluster while Redis is in use.
    pub(super) reachable: Arc<AtomicBool>,
}

impl SharedAuth for Book {
    fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    fn redeem(&self, nonce: [u8; 16], expiry_ms: u64, lifetime: Duration) -> BoxFuture<'_, Result<bool, Unavailable>> {
        let mut conn = self.conn.clone();
        async move {
            let fresh: i64 = REDEEM
                .key(self.keys.ticket(&nonce))
                .key(self.keys.tickets_since())
                .arg(expiry_ms)
                .arg(millis(lifetime))
                .arg(millis(SKEW_MARGIN))
                .invoke_async(&mut conn)
                .await
                .map_err(|e| {
                    tracing::debug!(error = %e, "the shared ticket book did not answer");
                    Unavailable
                })?;
            Ok(fresh == 1)
        }
        .boxed()
    }

    fn spend(&self, budgets: Vec<Budget>) -> BoxFuture<'_, Result<Option<Spent>, Unavailable>> {
        let mut conn = self.conn.clone();
        async move {
            let mut invocation = SPEND.prepare_invoke();
            for b in &budgets {
                invocation.key(self.keys.budget(&b.key));
            }
            invocation.key(self.keys.blocks());
            for b in &budgets {
                invocation.arg(b.per_minute);
            }
            for b in &budgets {
                invocation.arg(&b.key);
            }
            let (spent, wait_ms): (usize, u64) = invocation.invoke_async(&mut conn).await.map_err(|e| {
                tracing::debug!(error = %e, "the shared login budgets did not answer");
                Unavailable
            })?;
            Ok(spent.checked_sub(1).map(|i| (i, Duration::from_millis(wait_ms))))
        }
        .boxed()
    }

    fn refund(&self, budgets: Vec<Budget>) -> BoxFuture<'_, ()> {
        let mut conn = self.conn.clone();
        async move {
            let mut invocation = REFUND.prepare_invoke();
            for b in &budgets {
                invocation.key(self.keys.budget(&b.key));
            }
            for b in &budgets {
                invocation.arg(b.per_minute);
            }
            if let Err(e) = invocation.invoke_async::<i64>(&mut conn).await {
                tracing::debug!(error = %e, "could not give a login attempt back to the shared budgets");
            }
        }
        .boxed()
    }
}
