//! The fleet wing: what the fleet overview needs from each host, whatever kind of source it is.
//! This round it holds pure, tested parts that the hub and the targets wiring use:
//!
//! - [`figures`]: the host figures' definitions, and the figures of a livedash `local` sample
//!   (this machine, or another livedash read over its WebSocket);
//! - [`node`]: [`NodeFigures`], the figures of a node_exporter host from its scrapes (rates of
//!   the counters between two scrapes);
//! - [`directory`]: which sources are hosts of the fleet, with their names and tags;
//! - [`summary`] (with [`rows`]): the board that keeps a row per host from what the hub accepts
//!   and makes the overview's `fleet` frames and the one-metric page's `points` frames.
//!
//! The row and status types the browser shares ([`livedash::fleet`]) live in the core crate.
//! May import the core crate and `prometheus-parse`; the board also the live wing (the hub's
//! tap, its alerts, the summary channel), [`crate::clock`] and [`crate::shutdown`]; nothing of
//! the sources or the config, and the live wing imports nothing of this one.

pub mod directory;
pub mod figures;
pub mod node;
pub mod rows;
pub mod summary;

pub use directory::{Directory, HostEntry, HostKind};
pub use figures::{HostFigures, local_figures, local_figures_json};
pub use node::{FiguresError, NodeFigures};

#[cfg(test)]
mod summary_tests;
#[cfg(test)]
mod tests;
