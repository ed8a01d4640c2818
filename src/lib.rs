//! livedash core: what the server and the browser agree on, with no framework in sight.
//!
//! - [`account`]: what the server-rendered login form and Sessions view show.
//! - [`alerts`]: alert instances, their states and events, and the `alerts` frame.
//! - [`query`]: a value percent-encoded for a URL's query.
//! - [`fleet`]: a host's figures and status, and the fleet overview's row.
//! - [`summary`]: the fleet's summary streams on the wire (`fleet`, `points`).
//! - [`protocol`]: the versioned JSON frames sent over the WebSocket (`hello`, `sample`, `status`).
//! - [`hello`]: a `hello` put together from sample frames already serialized (the server's side).
//! - [`history`]: the bounded ring of recent samples that feeds first paint, `hello` and resume.
//! - [`flatten`]: turning any JSON value into named numeric series (`load.0`, `net.rx_bps`).
//! - [`series`]: how a series is labelled, what unit it has and how its value is shown.
//! - [`settings`]: per-series settings from the configuration (label, unit, thresholds, ...).
//!
//! Everything here compiles for the server and for `wasm32-unknown-unknown`, and is tested with
//! plain `cargo test`.

pub mod account;
pub mod alerts;
pub mod flatten;
pub mod fleet;
pub mod hello;
pub mod history;
pub mod protocol;
pub mod query;
mod read;
pub mod series;
pub mod settings;
pub mod summary;

pub use flatten::flatten;
pub use hello::{PageStates, hello_json};
pub use history::Ring;
pub use protocol::{
    ClusterStatus, Frame, FrameError, Hello, PROTOCOL_VERSION, Sample, SourceState, SourceStatus, StoreStatus, raw_json,
};
