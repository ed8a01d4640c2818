//! The dashboard's parts.
//!
//! - [`dashboard`]: the page below `<body>`: top bar, connection badge and problem line, and either
//!   the cards or the chart the URL asks for.
//! - [`summary`]: how many series are in warning and critical, and the announcement of a crossing.
//! - [`panels`]: one panel per source, and the panel of pinned cards.
//! - [`cards`]: one card per series (or group): label, value, sparkline, pin and hide.
//!
//! Everything is derived from the [`crate::model::Model`] signal through memos, so a sample
//! re-renders only the text and paths that changed, and the server and the browser render the same
//! HTML.

pub mod cards;
pub mod dashboard;
pub mod panels;
pub mod summary;

pub use dashboard::{ConnectionBadge, Dashboard};
