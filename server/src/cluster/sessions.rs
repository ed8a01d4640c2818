//! Sessions shared by the instances ([`Keep`] on Redis): each session is a hash `P:session:HANDLE`
//! (the SHA-256 of its cookie's value, never the value; its user, role, device, address, password
//! version and wall labels) that Redis drops when its lifetime is over, so that any instance
//! honours a session made on another ([`Keep::find`]); the set `P:sessions` names them all (for
//! the Sessions view and "log out everywhere": [`Keep::all`], which drops the names of those
//! gone). An end (logout, revocation, expiry, a
//! password change) deletes the hash and is appended to the stream `P:session-ends`, which every
//! instance reads ([`listen`], one blocking `XREAD` of at most half a second at a time) to forget
//! the session and close its sockets: within a second on every instance.
//!
//! While Redis does not answer, writes are lost (logged) and a session made on another instance
//! is not found here: its browser is asked to log in again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;
use redis::streams::{StreamRangeReply, StreamReadReply};

use super::keys::Keys;
use crate::auth::principal::Handle;
use crate::auth::session::{EndReason, Keep, SessionPolicy, Sessions};
use crate::clock::millis;
use crate::shutdown::Shutdown;
use crate::store::auth::sessions::SessionRow;

/// How long one read of the ends' stream waits for news.
const BLOCK: Duration = Duration::from_millis(500);
/// How many ends the stream keeps (about: trimmed with `~`).
const KEEP_ENDS: usize = 10_000;

/// Sets a session's `seen_ms` only while the session is there (a late write must not make a hash
/// without its TTL).
const SEEN: &str =
    "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'seen_ms', ARGV[1]) end return 0";

/// The sessions' part of Redis.
#[derive(Clone)]
pub struct RedisSessions {
    pub(super) client: redis::Client,
    pub(super) conn: ConnectionManager,
    pub(super) keys: Keys,
    pub(super) policy: SessionPolicy,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0; N];
    if text.len() != 2 * N {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The row a session's hash holds; `None` for a hash that is not one this code wrote.
fn row_of(id: Handle, fields: &HashMap<String, String>) -> Option<SessionRow> {
    let text = |k: &str| fields.get(k).cloned();
    let number = |k: &str| fields.get(k)?.parse::<u64>().ok();
    Some(SessionRow {
        id: id.0,
        secret: unhex(fields.get("secret")?)?,
        user: text("user")?,
        role: text("role")?,
        remember: text("remember")? == "1",
        version: unhex(fields.get("version")?)?,
        device: text("device")?,
        addr: text("addr")?,
        created_ms: number("created_ms")?,
        seen_ms: number("seen_ms")?,
    })
}

/// Runs `write` on the cluster's connection behind the request (it never waits); a failure is
/// logged.
fn behind(conn: &ConnectionManager, what: &'static str, write: redis::Pipeline) {
    let mut conn = conn.clone();
    tokio::spawn(async move {
        if let Err(e) = write.query_async::<()>(&mut conn).await {
            tracing::warn!(error = %e, "sessions: Redis did not take {what}");
        }
    });
}

impl Keep for RedisSessions {
    fn made(&self, row: &SessionRow) -> BoxFuture<'_, ()> {
        let key = self.keys.session(&hex(&row.id));
        let lifetime = self.policy.limits(row.remember).1;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                &key,
                &[
                    ("secret", hex(&row.secret)),
                    ("user", row.user.clone()),
                    ("role", row.role.clone()),
                    ("remember", if row.remember { "1" } else { "0" }.to_owned()),
                    ("version", hex(&row.version)),
                    ("device", row.device.clone()),
                    ("addr", row.addr.clone()),
                    ("created_ms", row.created_ms.to_string()),
                    ("seen_ms", row.seen_ms.to_string()),
                ],
            )
            .ignore()
            .pexpire(&key, i64::try_from(millis(lifetime)).unwrap_or(i64::MAX))
            .ignore()
            .sadd(self.keys.sessions(), hex(&row.id))
            .ignore();
        let mut conn = self.conn.clone();
        async move {
            // The connection's response timeout bounds the wait; a session Redis did not take
            // works on this instance only.
            if let Err(e) = pipe.query_async::<()>(&mut conn).await {
                tracing::warn!(error = %e, "sessions: Redis did not take a new session; other instances will not know it");
            }
        }
        .boxed()
    }

    fn seen(&self, id: Handle, seen_ms: u64) {
        let mut pipe = redis::pipe();
        pipe.cmd("EVAL").arg(SEEN).arg(1).arg(self.keys.session(&id.hex())).arg(seen_ms).ignore();
        behind(&self.conn, "a session's use", pipe);
    }

    fn ended(&self, id: Handle, reason: EndReason, _ended_ms: u64) {
        let mut pipe = redis::pipe();
        pipe.atomic().del(self.keys.session(&id.hex())).ignore().srem(self.keys.sessions(), id.hex()).ignore();
        pipe.cmd("XADD")
            .arg(self.keys.session_ends())
            .arg("MAXLEN")
            .arg("~")
            .arg(KEEP_ENDS)
            .arg("*")
            .arg("h")
            .arg(id.hex())
            .arg("r")
            .arg(reason.as_str())
            .ignore();
        behind(&self.conn, "a session's end", pipe);
    }

    fn find(&self, id: Handle) -> BoxFuture<'_, Option<SessionRow>> {
        let mut conn = self.conn.clone();
        async move {
            let fields: HashMap<String, String> = redis::cmd("HGETALL")
                .arg(self.keys.session(&id.hex()))
                .query_async(&mut conn)
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "sessions: Redis did not answer a session's lookup"))
                .ok()?;
            row_of(id, &fields)
        }
        .boxed()
    }

    fn all(&self) -> BoxFuture<'_, Vec<SessionRow>> {
        async move {
            self.every()
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "sessions: Redis did not list the sessions"))
                .unwrap_or_default()
        }
        .boxed()
    }
}

impl RedisSessions {
    /// Every session `P:sessions` names that is still there; the names of the others are dropped.
    async fn every(&self) -> redis::RedisResult<Vec<SessionRow>> {
        let mut conn = self.conn.clone();
        let names: Vec<String> = redis::cmd("SMEMBERS").arg(self.keys.sessions()).query_async(&mut conn).await?;
        let handles: Vec<Handle> = names.iter().filter_map(|n| Handle::parse(n)).collect();
        let mut pipe = redis::pipe();
        for handle in &handles {
            pipe.cmd("HGETALL").arg(self.keys.session(&handle.hex()));
        }
        let hashes: Vec<HashMap<String, String>> = pipe.query_async(&mut conn).await?;
        let mut rows = Vec::new();
        let mut gone = Vec::new();
        for (handle, fields) in handles.into_iter().zip(hashes) {
            match row_of(handle, &fields) {
                Some(row) => rows.push(row),
                None => gone.push(handle.hex()),
            }
        }
        if !gone.is_empty() {
            let () = redis::cmd("SREM").arg(self.keys.sessions()).arg(gone).query_async(&mut conn).await?;
        }
        Ok(rows)
    }

    /// Reads the ends' stream from its current end on and forgets here every session ended on any
    /// instance (its sockets close), until `shutdown`. Reconnects after a failure.
    pub fn listen(self, sessions: Arc<Sessions>, mut shutdown: Shutdown) {
        tokio::spawn(async move {
            let mut last: Option<String> = None;
            loop {
                tokio::select! {
                    e = self.follow(&mut last, &sessions) => {
                        tracing::debug!(error = %e, "sessions: the ends' stream could not be read; trying again");
                    }
                    () = shutdown.stopped() => return,
                }
                tokio::select! {
                    () = tokio::time::sleep(BLOCK) => {}
                    () = shutdown.stopped() => return,
                }
            }
        });
    }

    /// Follows the ends' stream after `last` (from its newest entry when `None`) until Redis fails.
    async fn follow(&self, last: &mut Option<String>, sessions: &Sessions) -> redis::RedisError {
        let key = self.keys.session_ends();
        // The client's default response timeout (500 ms) is the XREAD's own block: an empty read
        // would time out on the client side, and every turn would reconnect and sleep, leaving ends
        // unread for a second or more. This connection waits for the block plus a margin.
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(BLOCK + Duration::from_secs(2)));
        let mut conn = match self.client.get_multiplexed_async_connection_with_config(&config).await {
            Ok(conn) => conn,
            Err(e) => return e,
        };
        if last.is_none() {
            let newest: Result<StreamRangeReply, _> =
                redis::cmd("XREVRANGE").arg(&key).arg("+").arg("-").arg("COUNT").arg(1).query_async(&mut conn).await;
            match newest {
                Ok(newest) => *last = Some(newest.ids.first().map_or_else(|| "0-0".to_owned(), |e| e.id.clone())),
                Err(e) => return e,
            }
        }
        loop {
            let from = last.clone().unwrap_or_else(|| "0-0".to_owned());
            let reply: Result<Option<StreamReadReply>, _> = redis::cmd("XREAD")
                .arg("BLOCK")
                .arg(millis(BLOCK))
                .arg("STREAMS")
                .arg(&key)
                .arg(&from)
                .query_async(&mut conn)
                .await;
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) => return e,
            };
            for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
                let handle = entry.get::<String>("h").and_then(|h| Handle::parse(&h));
                if let Some(handle) = handle
                    && sessions.end_here(handle)
                {
                    tracing::debug!(session = %handle.hex(), "a session ended on another instance");
                }
                *last = Some(entry.id);
            }
        }
    }
}
