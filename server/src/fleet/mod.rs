//! The fleet wing: what the fleet overview needs from each host, whatever kind of source it is.
//! This round it holds pure, tested parts that the hub and the targets wiring use:
//!
//! - [`figures`]: the host figures' definitions, and the figures of a livedash `local` sample
//!   (this machine, or another livedash read over its WebSocket);
//! - [`node`]: [`NodeFigures`], the figures of a node_exporter host from its scrapes (rates of
//!   the counters between two scrapes);
//! - [`directory`]: which sources are hosts of the fleet, with their names and tags;
//! - [`remote`]: [`RemoteHost`], another livedash read over its WebSocket (the `livedash:`
//!   target kind), its `local` source's figures sample by sample.
//!
//! The row and status types the browser shares ([`livedash::fleet`]) live in the core crate.
//! May import the core crate and `prometheus-parse` (and, for [`remote`], the WebSocket and TLS
//! clients); nothing else of the server (no hub, no sources, no config), so any wing may use it.

pub mod directory;
pub mod figures;
pub mod node;
pub mod remote;

pub use directory::{Directory, HostEntry, HostKind};
pub use figures::{HostFigures, local_figures, local_figures_json};
pub use node::{FiguresError, NodeFigures};
pub use remote::{RemoteHost, RemoteOptions};

#[cfg(test)]
mod tests;
