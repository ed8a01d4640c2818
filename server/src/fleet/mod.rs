//! The fleet wing: what the fleet overview needs from each host, whatever kind of source it is,
//! and the targets file's hosts running as hub sources:
//!
//! - [`figures`]: the host figures' definitions, and the figures of a livedash `local` sample
//!   (this machine, or another livedash read over its WebSocket);
//! - [`node`]: [`NodeFigures`], the figures of a node_exporter host from its scrapes (rates of
//!   the counters between two scrapes);
//! - [`directory`]: which sources are hosts of the fleet, with their names and tags;
//! - [`names`]: a host's source name and fetch offset (a stable hash of the target);
//! - [`fetch`]: fetching many hosts well (one client, spread offsets, timeouts, a cap in flight);
//! - [`hosts`]: the reconciler that follows the targets file, and [`hosts_health`], what
//!   `/api/health` says of the file;
//! - [`summary`] (with [`rows`]): the board that keeps a row per host from what the hub accepts
//!   and makes the overview's `fleet` frames and the one-metric page's `points` frames.
//!
//! The row and status types the browser shares ([`livedash::fleet`]) live in the core crate.
//! May import the core crate, `prometheus-parse`, [`crate::live`] (the hub and stamper the hosts
//! run in, its taps, the summary channel), [`crate::sources`] (the fetch and delivery types),
//! [`crate::targets`], [`crate::metrics`], [`crate::clock`] and [`crate::shutdown`]; none of those
//! imports this wing, and nothing here imports the config, the router or the cluster (which plugs
//! in through [`hosts::Placement`]).

pub mod directory;
pub mod fetch;
pub mod figures;
pub mod hosts;
pub mod hosts_health;
pub mod names;
pub mod node;
pub mod rows;
pub mod summary;

pub use directory::{Directory, HostEntry, HostKind};
pub use figures::{HostFigures, local_figures, local_figures_json};
pub use node::{FiguresError, NodeFigures};

#[cfg(test)]
mod hosts_tests;
#[cfg(test)]
mod summary_tests;
#[cfg(test)]
mod tests;
