//! The fleet pages: the overview (`/fleet`, [`page`]) and one figure across every host
//! (`/fleet/metric`, [`metric`]).
//!
//! - [`table`]: the rows the page holds, kept in line with the `fleet` frames;
//! - [`view`]: columns, order (worst first by default), the filter box, grouping by a tag (pure);
//! - [`settings`]: the person's order, filter and grouping, remembered in a cookie;
//! - [`format`]: how a row's cells are written, [`rows`]: a table body's markup (pure);
//! - [`page`]: the overview's components; [`metric`]: the one-metric page.
//!
//! May import the core's wire types, [`crate::live`], [`crate::plot`], [`crate::chart::range`] and
//! the page's shared parts (clock, route, theme, the connection badge).

pub mod format;
pub mod metric;
pub mod page;
pub mod rows;
pub mod settings;
pub mod table;
pub mod view;

pub use metric::MetricPage;
pub use page::FleetPage;
