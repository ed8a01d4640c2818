//! The JSON API beside the page (behind authentication like everything but `/healthz`):
//!
//! - [`history`]: `GET /api/history` (a range of one series, JSON or CSV) and `GET /api/series`.
//!
//! May import [`crate::store`] and [`crate::clock`]; the router mounts it.

pub mod history;
