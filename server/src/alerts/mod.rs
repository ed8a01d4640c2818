//! Alerts: rules that watch the sources' series, evaluated on every sample where the hub accepts
//! it, their states, events, silences and acknowledgements.
//!
//! - [`rules`]: the typed rules ([`Rule`], [`RuleView`]) and the implicit "source down" rule;
//! - [`machine`]: one instance's pure state machine (ok, pending, firing, resolved; `for`,
//!   `keep_firing_for`, hysteresis, peak, holds), the same code for the live path and a replay;
//! - [`cluster`], [`leader`]: with `--redis-url`, only the holder of a source's lease judges its
//!   rules; its changes reach every instance through the shared stream;
//! - [`engine`]: every instance, and which rules a (source, series) feeds, resolved once;
//! - [`feed`]: the hub's tap and status hook, a bounded channel, and the task that evaluates,
//!   writes events and instances through the store's writer and publishes the `alerts` frame;
//!   [`statuses`]: the sources' status changes on their way there, the latest per source;
//! - [`hush`]: silences and acknowledgements (who, until, comment), lifting by themselves;
//! - [`preview`]: `livedash alerts check`, each rule replayed over the history store's past;
//! - [`view`]: instances as the page and the API show them;
//! - [`shared`]: what the handle and the task share ([`Alerts`], its lock, the ways out);
//!   [`handle`]: the handle's requests and `/metrics`; [`silence`]: a silence in force.
//!
//! May import the core (`livedash`), [`crate::live`] (the hub it taps and tells),
//! [`crate::store`] (its writer and reads), [`crate::metrics`] (the families it writes),
//! [`crate::clock`] and [`crate::shutdown`]; nothing from the config, the sources or the router
//! (the config makes [`Rule`]s; `api` takes an [`Alerts`]).

pub mod cluster;
pub mod engine;
pub mod feed;
pub mod handle;
pub mod hush;
pub mod leader;
pub mod machine;
pub mod preview;
pub mod rules;
pub mod shared;
pub mod silence;
pub mod statuses;
pub mod view;

pub use rules::{Rule, RuleView};
pub use shared::{Alerts, AlertsError, EVENTS_IN_MEMORY, Target};
