//! The shared book of second factors ([`SharedTotp`]) on Redis: `P:totp` (a hash: each user to
//! their entry, see [`crate::auth::totp::shared`]), `P:totp-step:USER` (the last time step taken,
//! raised only: [`super::scripts::RAISE`]) and `P:totp-spent:USER` (a set of the recovery codes
//! spent, by SHA-256: `SADD` says whether it was the first time).

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::keys::Keys;
use super::scripts::RAISE;
use crate::auth::shared::Unavailable;
use crate::auth::totp::shared::{Entry, Shared, SharedTotp, decode, encode, unhex};
use crate::store::auth::tokens::hex;

/// The book, on the cluster's connection.
pub struct TotpBook {
    pub(super) conn: ConnectionManager,
    pub(super) keys: Keys,
}

fn unavailable(e: &redis::RedisError) -> Unavailable {
    tracing::debug!(error = %e, "the shared book of second factors did not answer");
    Unavailable
}

impl SharedTotp for TotpBook {
    fn all(&self) -> BoxFuture<'_, Result<Vec<Shared>, Unavailable>> {
        let mut conn = self.conn.clone();
        async move {
            let all: Vec<(String, String)> = conn.hgetall(self.keys.totp()).await.map_err(|e| unavailable(&e))?;
            let mut out = Vec::with_capacity(all.len());
            for (user, value) in all {
                let Some(entry) = decode(&value) else { continue };
                let step: Option<u64> = conn.get(self.keys.totp_step(&user)).await.map_err(|e| unavailable(&e))?;
                let spent: Vec<String> =
                    conn.smembers(self.keys.totp_spent(&user)).await.map_err(|e| unavailable(&e))?;
                let spent = spent.iter().filter_map(|c| unhex(c).and_then(|v| <[u8; 32]>::try_from(v).ok())).collect();
                out.push(Shared { user, entry, last_step: step.unwrap_or(0), spent });
            }
            Ok(out)
        }
        .boxed()
    }

    fn put(&self, user: String, entry: Entry) -> BoxFuture<'_, Result<(), Unavailable>> {
        let mut conn = self.conn.clone();
        async move {
            if let Entry::Enrolled { .. } = entry {
                // A new enrolment starts with nothing spent (its codes are new).
                let () = conn.del(self.keys.totp_spent(&user)).await.map_err(|e| unavailable(&e))?;
            }
            let () = conn.hset(self.keys.totp(), &user, encode(&entry)).await.map_err(|e| unavailable(&e))?;
            Ok(())
        }
        .boxed()
    }

    fn take_step(&self, user: String, step: u64) -> BoxFuture<'_, Result<bool, Unavailable>> {
        let mut conn = self.conn.clone();
        async move {
            let raised: i64 = RAISE
                .key(self.keys.totp_step(&user))
                .arg(step)
                .invoke_async(&mut conn)
                .await
                .map_err(|e| unavailable(&e))?;
            Ok(raised == 1)
        }
        .boxed()
    }

    fn spend(&self, user: String, code: [u8; 32]) -> BoxFuture<'_, Result<bool, Unavailable>> {
        let mut conn = self.conn.clone();
        async move {
            let added: i64 = conn.sadd(self.keys.totp_spent(&user), hex(&code)).await.map_err(|e| unavailable(&e))?;
            Ok(added == 1)
        }
        .boxed()
    }
}
