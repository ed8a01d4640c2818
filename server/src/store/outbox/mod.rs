//! The notifications' outbox (schema 5): one row per (event, channel), written in the SAME
//! transaction as the alert event it tells of ([`write::for_event`], called by
//! [`super::alerts::write`]), before anything is sent; the delivery tasks then read the rows back,
//! note each try and its answer, and close them ([`write`], [`read`]).
//!
//! The table (`notify_outbox`) is made by the step to version 5 ([`super::migrate`]).
//!
//! A row is an alert's firing or resolution (`kind = 'alert'`), a reminder, or a digest (quiet
//! hours: the rows it sums up point at it through `parent` and are `merged`). Its `key` is the
//! stable id receivers de-duplicate by ([`stable_id`]): the same on every instance of a cluster, on
//! every retry and on the fallback channel. States: `pending`, `held`, then one of `sent`,
//! `failed`, `moved`, `sent_elsewhere`, `merged`, `silenced` (the notify wing's `DeliveryState`).
//!
//! Times: `created_ms`, `next_ms`, `done_ms`, `ts_ms` are wall labels only; how long a delivery
//! has waited is `waited_ms`, the sum of its back-offs as measured on the monotonic clock, so a
//! wall clock that jumps never makes one give up early or wait forever.
//!
//! May import the core (`livedash`) and the store's own modules; nothing from the notify wing
//! (which imports this).

pub mod id;
pub mod read;
pub mod write;

pub use id::stable_id;
pub use read::Row;
pub use write::{NewRow, Outgoing};

#[cfg(test)]
mod tests;
