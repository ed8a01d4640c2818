//! Notifications: each firing and resolved alert told to the people who must act, exactly once,
//! even while a receiver or livedash itself is down.
//!
//! - [`message`]: what a notification says ([`Notice`], [`Message`]) and how a send ended
//!   ([`Answer`], [`SendError`]);
//! - [`channel`]: the configured channels (`[[notify]]`: webhook, Slack, Discord, Mattermost,
//!   ntfy, e-mail), each turning a [`Message`] into its receiver's format and sending it;
//! - [`quiet`]: quiet hours (`quiet = "22:00-07:00"`, local time);
//! - [`claim`]: in a cluster, the lease holder claims each delivery with its fencing token before
//!   sending it ([`Claims`], implemented by the cluster wing);
//! - [`delivery`]: the outbox's rows as the page and the API show them;
//! - [`handle`]: the [`Notifier`], the handle the API and the page take, and its `/metrics`;
//! - [`start`]: the notifications started; [`worker`]: one delivery task per channel;
//!   [`deliver`]: one try of one message (claim, send, the outcome kept); [`backoff`]: how long
//!   between tries; [`compose`]: outbox rows into notices and messages;
//! - [`hooks`]: where quiet hours (held rows, a digest at their end) and reminders plug in.
//!
//! The outbox is in the history store: a row per (event, channel) is written with the event, in
//! the same transaction, before anything is sent; the delivery tasks read it back from there.
//!
//! May import the core (`livedash`), [`crate::alerts`] (the instances, for reminders and the
//! page), [`crate::store`] (the outbox and the history for a resolved message's peak),
//! [`crate::metrics`], [`crate::clock`] and [`crate::shutdown`]; nothing from the config, the
//! router or the cluster wing (the config makes [`channel::Channel`]s; the cluster implements
//! [`Claims`]).

pub mod backoff;
pub mod channel;
pub mod claim;
pub mod compose;
pub mod deliver;
pub mod delivery;
pub mod handle;
pub mod hooks;
pub mod message;
pub mod quiet;
pub mod start;
pub mod worker;

pub use channel::Channel;
pub use claim::{Claimed, Claims};
pub use delivery::{ChannelState, Delivery, DeliveryState};
pub use handle::{Notifier, NotifyError};
pub use message::{Answer, Kind, Message, Notice, SendError, Status};
pub use start::start;

#[cfg(test)]
mod tests;
