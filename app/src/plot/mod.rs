//! Geometry shared by sparklines and charts.
//!
//! - [`thin`]: a history thinned to a few points per pixel column, and where a line breaks.
//! - [`geometry`]: time and value onto a box, SVG paths for lines and bands, value ticks.
//! - [`time`]: clock-aligned time ticks, dates and times in the browser's time zone.

pub mod geometry;
pub mod thin;
pub mod time;

pub use geometry::*;
pub use thin::*;
pub use time::*;
