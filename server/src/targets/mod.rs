//! Targets: the fleet's hosts from a Prometheus `file_sd` file (JSON or YAML), kept up to date
//! while livedash runs. The foundation of the fleet view (issue 24); starting and stopping a
//! source per target is the hub's part, fed by the [`watch::TargetsState`] channel and [`diff`].
//!
//! - [`file`]: reading and checking the file ([`file::load`], [`file::parse`]), its caps;
//!   [`rules`]: what a target string and its group's labels mean; [`read`]: the reader shared by
//!   JSON and YAML that also locates faults; [`target`]: the typed [`Target`];
//!   [`error`]: why a file is refused ([`TargetsError`], naming the file, line and column);
//! - [`watch`]: the file watched (inotify on its directory, and a slow poll), the last good set
//!   kept when a bad one arrives; [`diff`]: what changed between two sets.
//!
//! In a cluster each instance watches its own copy of the file (a file is what configuration
//! tools deploy to every machine alike, and it needs no Redis); the sources' leases then make
//! one fetch per target across the cluster.
//!
//! May import [`crate::shutdown`] only; the config names the file, the hub takes the channel.

pub mod diff;
pub mod error;
pub mod file;
mod read;
pub mod rules;
pub mod target;
pub mod watch;

pub use diff::{Diff, diff};
pub use error::{Location, Problem, TargetsError};
pub use target::{Target, TargetKind};
pub use watch::{TargetsState, TargetsWatch};

#[cfg(test)]
mod file_tests;
#[cfg(test)]
mod watch_tests;
