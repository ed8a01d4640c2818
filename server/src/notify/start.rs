//! Starting the notifications: the alerts are told the channels (each event is then written with
//! its outbox rows), and a delivery task per channel starts, resuming what a previous run left
//! pending.

use std::sync::Arc;

use super::channel::Channel;
use super::handle::Notifier;
use super::hooks::Hooks;
use super::worker;
use crate::alerts::Alerts;
use crate::shutdown::Shutdown;
use crate::store::Store;

/// Starts the notifications through `channels`: `alerts` hands each event's outbox rows to
/// `store` from now on, and each channel's task delivers them (links under `base`, the public URL
/// or the listen address: `http://host:port[/path]`), with `hooks` for quiet hours and reminders,
/// until `shutdown`. Without a store nothing is delivered (the outbox is the store); tests still
/// go.
pub fn start(
    channels: &[Arc<Channel>],
    store: Option<&Arc<Store>>,
    alerts: &Alerts,
    base: &str,
    hooks: &Arc<dyn Hooks>,
    shutdown: &Shutdown,
) -> Notifier {
    let notifier = Notifier::with_store(channels.to_vec(), store.map(|s| s.config().path.clone()));
    let Some(store) = store else {
        if !channels.is_empty() {
            tracing::warn!("notify: no history store: alerts are not notified (the outbox is kept in the store)");
        }
        return notifier;
    };
    alerts.notify_through(channels.iter().map(|c| c.name.clone()).collect());
    let base: Arc<str> = Arc::from(base.trim_end_matches('/'));
    for index in 0..channels.len() {
        let watch = (store.shared.outbox.subscribe(), shutdown.clone());
        worker::spawn(&notifier, index, store.config().path.clone(), hooks.clone(), base.clone(), watch);
    }
    notifier
}
