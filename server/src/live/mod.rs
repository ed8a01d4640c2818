//! The live path, from a stamped sample to every browser:
//!
//! - [`stamp`]: this instance's samples get their global `seq` and receive time;
//! - [`hub`]: accepts stamped samples, keeps them ([`history`]) and fans their frames out
//!   ([`outgoing`], framed once for the wire by [`wire`]); holds each source's status;
//! - [`tap`]: what else is told of every accepted sample (the history store's queue);
//! - [`start`]: what a new socket is sent first (`hello` or resume); [`epoch`]: which `since` a
//!   resume may start from;
//! - [`subscription`]: what a socket subscribed to (`?sub=`) and the filter its frames pass;
//!   [`summary`]: the channel of the fleet's summary frames, apart from the samples;
//! - [`ws`]: the `/ws` endpoint, from admission to the socket's last frame.
//!
//! May import the core (`livedash`), [`crate::clock`], [`crate::shutdown`], [`crate::auth`] (the
//! socket's credentials) and [`crate::http`] (client facts, connection slots, the upgraded
//! stream); nothing from `sources`, `config`, the
//! router or the UI.

pub mod epoch;
pub mod history;
pub mod hub;
pub mod outgoing;
pub mod stamp;
pub mod start;
pub mod subscription;
pub mod summary;
pub mod tap;
pub mod wire;
pub mod ws;

#[cfg(test)]
mod join_tests;
#[cfg(test)]
mod tests;
