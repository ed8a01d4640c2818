//! Where quiet hours and reminders plug into the delivery tasks: each channel's task asks
//! [`Hooks::hold`] before it sends (inside quiet hours its rows are kept `held`, not sent) and
//! calls [`Hooks::pass`] on every pass over its rows (where the digest at the end of quiet hours
//! and the reminders are made, as rows of the outbox: see [`crate::store::outbox::write::insert`],
//! [`crate::store::outbox::write::merge_into`] and [`crate::store::outbox::read::parts`]). A digest
//! row is sent as one message of kind `digest` whose notices are its parts; a reminder row as one
//! of kind `reminder`.
//!
//! Without hooks of their own ([`Plain`]) nothing is held and nothing is reminded of.

use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::channel::Channel;
use crate::store::StoreError;

/// What a channel's task is given on each pass.
pub struct Pass<'a> {
    /// The channel.
    pub channel: &'a Channel,
    /// The store (a connection of the task's own, writable; off the async threads).
    pub conn: &'a Connection,
    /// Now (monotonic), and its wall label (ms).
    pub now: Instant,
    /// Now's wall label (ms).
    pub now_ms: u64,
}

/// The hook points (quiet hours, digests, reminders).
pub trait Hooks: Send + Sync {
    /// Whether `channel` holds its messages now (inside its quiet hours), at wall label `now_ms`.
    fn hold(&self, channel: &Channel, now_ms: u64) -> bool;
    /// Called on every pass of `pass.channel`'s task (blocking context, with its own connection):
    /// may insert reminder and digest rows and merge held ones; returns how soon the task should
    /// pass again for the hook's sake (`None`: only when something else wakes it).
    ///
    /// # Errors
    /// The store failed (logged; the task goes on).
    fn pass(&self, pass: &Pass<'_>) -> Result<Option<Duration>, StoreError>;
}

/// No quiet hours, no reminders: held rows (from an earlier run with quiet hours) are sent as
/// they are.
pub struct Plain;

impl Hooks for Plain {
    fn hold(&self, _channel: &Channel, _now_ms: u64) -> bool {
        false
    }

    fn pass(&self, pass: &Pass<'_>) -> Result<Option<Duration>, StoreError> {
        let held: Vec<i64> = crate::store::outbox::read::open(pass.conn, &pass.channel.name)?
            .into_iter()
            .filter(|r| r.state == "held")
            .map(|r| r.id)
            .collect();
        crate::store::outbox::write::set_open(pass.conn, &held, "pending")?;
        Ok(None)
    }
}
