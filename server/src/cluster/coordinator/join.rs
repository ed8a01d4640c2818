//! Joining the shared stream: its epoch, the first page of what it holds (on the reader's own
//! connection, so that no long reply holds up the shared one), the hub's switch to it, and the
//! reader, which pages through the rest while the coordinator goes on renewing the leases; and a
//! reader started again where one that failed stopped.

use std::sync::atomic::Ordering;
use std::time::Duration;

use livedash::Sample;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamRangeReply;
use tokio::task::JoinHandle;

use super::super::Node;
use super::super::reader::{self, Entry, PAGE, Position, Sinks, Stopped};
use super::super::scripts::BEGIN_BOOK;
use super::super::state::{self, Mode, State};
use super::super::transitions;
use super::BLOCK;
use crate::auth::accounts::random;
use crate::clock::now_ms;

impl Node {
    /// Joins the shared stream: its epoch (made when there is none), where to read from, the
    /// hub's switch to it, and the reader. With `backfill`, the samples the stream still holds
    /// that the hub has not seen are taken first (at start, and after an epoch change): the
    /// first page here, the rest by the reader; after a spell alone the hub starts at the
    /// stream's end instead, so that its history does not hold two fetches of the same span.
    pub(super) async fn join(&self, backfill: bool) -> Result<JoinHandle<Stopped>, String> {
        let mut conn = self.conn.clone();
        let fail = |e: redis::RedisError| e.to_string();
        let fresh = state::new_epoch(random());
        let _: Option<String> = redis::cmd("SET")
            .arg(self.keys.epoch())
            .arg(&fresh)
            .arg("NX")
            .query_async(&mut conn)
            .await
            .map_err(fail)?;
        // The book of redeemed tickets begins (if it has not) before this instance signs a
        // ticket with the shared key: none it signs is older than the book.
        let _: i64 = BEGIN_BOOK.key(self.keys.tickets_since()).invoke_async(&mut conn).await.map_err(fail)?;
        let epoch: Option<String> =
            redis::cmd("GET").arg(self.keys.epoch()).query_async(&mut conn).await.map_err(fail)?;
        let epoch = epoch.ok_or_else(|| "the shared stream's epoch vanished while joining".to_owned())?;
        let mut reader_conn = self.reader_connection().await?;
        let (page, last_sample, more) = if backfill {
            let page: StreamRangeReply = redis::cmd("XRANGE")
                .arg(self.keys.samples())
                .arg("-")
                .arg("+")
                .arg("COUNT")
                .arg(PAGE)
                .query_async(&mut reader_conn)
                .await
                .map_err(fail)?;
            let last = page.ids.last().map(|e| e.id.clone());
            let more = page.ids.len() >= PAGE;
            (page.ids, last, more)
        } else {
            (Vec::new(), self.last_id(&self.keys.samples()).await?, false)
        };
        let last_block = self.last_id(&self.keys.blocks()).await?;
        let first: Vec<Sample> = page
            .iter()
            .filter_map(reader::decode)
            .filter_map(|e| match e {
                Entry::Sample { epoch: of, sample } if of == epoch => Some(sample),
                _ => None,
            })
            .collect();
        let taken = {
            let mut mode = self.state.mode();
            let shared = Mode::Shared { epoch: epoch.clone() };
            let status = State::status_of(&shared, now_ms()).expect("a shared mode has a status");
            *mode = shared;
            self.hub.join(status, first)
        };
        // The alert states as the last changes in the stream's first page left them.
        transitions::apply_all(self.alerts.as_ref(), &page, &epoch);
        self.state.reachable.store(true, Ordering::Relaxed);
        for (source, role) in &self.state.roles() {
            self.state.set_fetching(source, role.lease.lock().is_some());
        }
        tracing::info!(epoch = ?epoch, instance = %self.state.instance, taken, more, "sharing the sources through Redis");
        let position = Position {
            samples: last_sample.unwrap_or_else(|| "0-0".to_owned()),
            blocks: last_block.unwrap_or_else(|| "0-0".to_owned()),
        };
        self.wake.notify_one();
        Ok(self.spawn_reader(reader_conn, position, epoch, (more, false)))
    }

    /// A reader of the stream of `epoch` going on from `position` (where one that failed
    /// stopped), taking what it missed a page at a time first.
    pub(super) async fn resume(&self, position: Position, epoch: &str) -> Result<JoinHandle<Stopped>, String> {
        let conn = self.reader_connection().await?;
        Ok(self.spawn_reader(conn, position, epoch.to_owned(), (true, true)))
    }

    /// `(catch_up, missed)`: page through what the stream holds after `position` first; what
    /// that holds was missed by this instance (a reader going on after a failure) rather than
    /// there before it joined.
    fn spawn_reader(
        &self,
        conn: MultiplexedConnection,
        position: Position,
        epoch: String,
        (catch_up, missed): (bool, bool),
    ) -> JoinHandle<Stopped> {
        let sinks = Sinks {
            hub: self.hub.clone(),
            auth: self.auth.clone(),
            state: self.state.clone(),
            alerts: self.alerts.clone(),
            missed,
        };
        let keys = (self.keys.samples(), self.keys.blocks());
        tokio::spawn(reader::run(conn, keys, position, epoch, sinks, (BLOCK, catch_up)))
    }

    /// A connection of the reader's own (its `XREAD` blocks).
    async fn reader_connection(&self) -> Result<MultiplexedConnection, String> {
        let timeout = (self.lease / 2).clamp(Duration::from_millis(250), Duration::from_secs(2));
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(BLOCK + timeout));
        self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(|e| e.to_string())
    }

    /// The last entry's id of the stream `key`, if it has any.
    async fn last_id(&self, key: &str) -> Result<Option<String>, String> {
        let mut conn = self.conn.clone();
        let last: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(last.ids.first().map(|e| e.id.clone()))
    }
}
