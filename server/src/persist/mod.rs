//! Between the live path and the history store: at start the hub's history is refilled from the
//! store ([`refill`]: the minutes before a restart, within the hub's byte budget), then the store
//! is a [`Tap`] of the hub: every sample the hub accepts is offered to the store's own queue
//! (bounded in bytes) where it is accepted, never waiting, so that a burst of thousands at once
//! (a cluster instance's backfill) reaches the store whole; a full queue refuses, counted. Whether
//! history is being saved is looked at every second and told to the hub, which tells every page.
//!
//! May import [`crate::live`] (the hub it taps and refills), [`crate::store`], [`crate::clock`]
//! and [`crate::shutdown`].

pub mod refill;

use std::sync::Arc;
use std::time::Duration;

use livedash::StoreStatus;

use crate::live::history::Entry;
use crate::live::hub::Hub;
use crate::live::tap::Tap;
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreConfig};

/// The store as a tap of the hub.
struct Feed(Arc<Store>);

impl Tap for Feed {
    fn accepted(&self, _source: &Arc<str>, entry: &Arc<Entry>) {
        self.0.offer(entry.frame.text.clone());
    }

    fn behind(&self) -> bool {
        self.0.behind()
    }
}

/// Refills `hub` with the last `history` of the store at `config.path`, starts the store's
/// writer and feeds it every sample the hub accepts from now on; reports whether it saves
/// until `shutdown`.
pub fn start(config: StoreConfig, hub: &Arc<Hub>, history: Duration, mut shutdown: Shutdown) -> Arc<Store> {
    let restored = refill::refill(&config.path, hub, history);
    if restored > 0 {
        tracing::info!(samples = restored, "history restored from the store");
    }
    let store = Store::start(config);
    hub.set_store_status(StoreStatus { saving: true, error: None });
    hub.add_tap(Arc::new(Feed(store.clone())));
    let watched = store.clone();
    let hub = hub.clone();
    tokio::spawn(async move {
        let mut check = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                () = shutdown.stopped() => break,
                _ = check.tick() => {
                    let error = watched.failing();
                    hub.set_store_status(StoreStatus { saving: error.is_none(), error });
                }
            }
        }
    });
    store
}

#[cfg(test)]
mod tests;
