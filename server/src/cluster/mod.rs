//! Scale-out: several livedash instances share their sources through Redis (`--redis-url`).
//!
//! One instance per source holds a lease ([`coordinator`]: renewed every third of it, taken over
//! by another within two when the holder dies or hangs) and fetches; it appends each stamped
//! sample to one stream ([`scripts::PUBLISH`], fenced: a holder whose lease passed on cannot
//! append), where `seq` is assigned once, in Redis. Every instance reads the stream into its own
//! hub ([`reader`]), so that `seq` is the same everywhere and `?since=` resumes on any of them,
//! and keeps its own history store from what it reads. A stream that lost its data has a new
//! epoch, and a resume from another epoch gets a full `hello`.
//!
//! Authentication is shared too ([`book`]): tickets are redeemed once across the instances and
//! login budgets are kept in Redis; so are the sessions ([`sessions`]: any instance honours one,
//! an end on one ends it on all), API tokens ([`tokens`]) and second factors ([`totp`]). When Redis is unreachable every instance fetches every source
//! itself, says so (`/healthz`, the page, `/metrics`) and goes back to the shared stream by itself
//! when Redis answers again ([`state::Mode`]).
//!
//! - [`keys`]: what is kept in Redis, under one prefix; [`scripts`]: the atomic steps;
//! - [`state`]: this instance's view (mode, epoch, who fetches what), [`deliver`]: where a fetch
//!   goes; [`transitions`]: alert state changes, decided by each source's lease holder alone;
//!   [`claims`]: notifications sent exactly once, claimed by that holder with its fencing token;
//!   [`fleet`]: the targets file's hosts leased like configured sources, added and removed at run
//!   time;
//! - this file: what an instance is made of ([`Link`] before the server's auth exists, [`Node`]
//!   after); [`coordinator::start`] sets it going.
//!
//! May import [`crate::live`] (the hub and stamper it feeds), [`crate::sources`] (the fetchers
//! it gates), [`crate::auth`] (the trait it implements, the throttle it tells), [`crate::config`]
//! (its settings), [`crate::metrics`], [`crate::clock`], [`crate::shutdown`] and [`crate::alerts`]
//! (it hands them the lease holders' changes and implements their `leader::Cluster`),
//! [`crate::notify`] (it implements its `Claims`), [`crate::fleet`] (it implements its
//! `Placement`) and the store's session rows (it keeps them). Nothing imports it
//! but `lib.rs`, `router.rs` and `metrics.rs` (its state).

pub mod book;
pub mod claims;
pub mod coordinator;
pub mod deliver;
pub mod fleet;
pub mod keys;
pub mod reader;
pub mod scripts;
pub mod sessions;
pub mod state;
pub mod tokens;
pub mod totp;
pub mod transitions;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Notify;

use crate::alerts::Alerts;
use crate::auth::Auth;
use crate::auth::accounts::random;
use crate::config::ClusterSettings;
use crate::live::hub::Hub;
use crate::live::stamp::Stamper;
use crate::sources::SourceSpec;
use book::Book;
use keys::Keys;
use state::State;

/// What a cluster is built from before the server's auth exists: the client, the shared
/// connection, the key names, and this instance's state.
pub struct Link {
    client: redis::Client,
    conn: ConnectionManager,
    keys: Keys,
    state: Arc<State>,
    lease: Duration,
    /// How long the stream keeps samples.
    keep: Duration,
    /// Where Redis is, without any password: for messages.
    place: String,
    /// Where the lease holders' alert state changes go.
    alerts: Option<Alerts>,
}

impl Link {
    /// A link to the Redis of `settings` for these sources (nothing is connected yet), keeping
    /// `keep` of samples in the stream (the hub's history).
    pub fn new(settings: &ClusterSettings, sources: &[SourceSpec], keep: Duration) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(settings.url.0.as_str())?;
        let timeout = (settings.lease / 2).clamp(Duration::from_millis(250), Duration::from_secs(2));
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(settings.lease)
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        let state = Arc::new(State::new(state::instance_name(random()), sources.iter().map(|s| s.name.clone())));
        let place = settings.url.redacted();
        Ok(Self {
            client,
            conn,
            keys: Keys::new(&settings.prefix),
            state,
            lease: settings.lease,
            keep,
            place,
            alerts: None,
        })
    }

    /// The shared book of tickets and login budgets, for [`Auth::with_shared`].
    pub fn book(&self) -> Arc<Book> {
        Arc::new(Book { conn: self.conn.clone(), keys: self.keys.clone(), reachable: self.state.reachable.clone() })
    }

    /// The sessions' part of Redis, for sessions that live `policy` long.
    pub fn sessions(&self, policy: crate::auth::session::SessionPolicy) -> sessions::RedisSessions {
        sessions::RedisSessions {
            client: self.client.clone(),
            conn: self.conn.clone(),
            keys: self.keys.clone(),
            policy,
        }
    }

    /// The shared book of API tokens.
    pub fn tokens(&self) -> Arc<tokens::TokenBook> {
        Arc::new(tokens::TokenBook { conn: self.conn.clone(), keys: self.keys.clone() })
    }

    /// The shared book of second factors.
    pub fn totp(&self) -> Arc<totp::TotpBook> {
        Arc::new(totp::TotpBook { conn: self.conn.clone(), keys: self.keys.clone() })
    }

    /// This instance's view of the cluster.
    pub fn state(&self) -> Arc<State> {
        self.state.clone()
    }

    /// Hands the alert state changes read from the stream to `alerts`, which from the start on
    /// judge a source only while this instance holds its lease ([`transitions`]).
    pub fn with_alerts(mut self, alerts: Alerts) -> Self {
        self.alerts = Some(alerts);
        self
    }
}

/// One instance's part in the cluster: what the coordinator and the deliveries share.
pub struct Node {
    client: redis::Client,
    conn: ConnectionManager,
    keys: Keys,
    /// This instance's view.
    pub state: Arc<State>,
    hub: Arc<Hub>,
    stamper: Arc<Stamper>,
    auth: Arc<Auth>,
    lease: Duration,
    keep: Duration,
    place: String,
    /// Wakes the coordinator early (a delivery saw Redis fail or the epoch change).
    wake: Notify,
    /// Part of every local epoch of this instance.
    random: [u8; 8],
    /// Where the lease holders' alert state changes go.
    alerts: Option<Alerts>,
}
