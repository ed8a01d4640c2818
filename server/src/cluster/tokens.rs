//! The shared book of API tokens ([`SharedTokens`]) on Redis: one hash, `P:tokens`, from each
//! token's handle (hex) to its row without any secret (see [`crate::auth::token::shared`]).

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::keys::Keys;
use crate::auth::shared::Unavailable;
use crate::auth::token::shared::{SharedTokens, decode, encode};
use crate::store::auth::tokens::{TokenRow, hex};

/// The book, on the cluster's connection.
pub struct TokenBook {
    pub(super) conn: ConnectionManager,
    pub(super) keys: Keys,
}

fn unavailable(e: &redis::RedisError) -> Unavailable {
    tracing::debug!(error = %e, "the shared token book did not answer");
    Unavailable
}

impl SharedTokens for TokenBook {
    fn all(&self) -> BoxFuture<'_, Result<Vec<TokenRow>, Unavailable>> {
        let mut conn = self.conn.clone();
        async move {
            let all: Vec<(String, String)> = conn.hgetall(self.keys.tokens()).await.map_err(|e| unavailable(&e))?;
            Ok(all.iter().filter_map(|(id, value)| decode(id, value)).collect())
        }
        .boxed()
    }

    fn put(&self, row: TokenRow) -> BoxFuture<'_, Result<(), Unavailable>> {
        let mut conn = self.conn.clone();
        async move {
            let () = conn.hset(self.keys.tokens(), hex(&row.id), encode(&row)).await.map_err(|e| unavailable(&e))?;
            Ok(())
        }
        .boxed()
    }
}
