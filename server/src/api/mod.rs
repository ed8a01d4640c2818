//! The JSON API beside the page (behind authentication like everything but `/healthz`):
//!
//! - [`history`]: `GET /api/history` (a range of one series, JSON or CSV) and `GET /api/series`;
//! - [`alerts`]: `GET /api/alerts`, `GET /api/alerts/events`, `POST /api/alerts/silence` and
//!   `POST /api/alerts/ack` (writes behind the same-origin guard and the role);
//! - [`notify`]: `GET /api/notify`, `GET /api/notify/deliveries` and `POST /api/notify/test`
//!   (the write behind the same guard and role);
//! - [`fleet`]: `GET /api/fleet/history` (one figure of every host, for the one-metric page);
//! - [`audit`]: `GET /audit` (the admin's audit view, drawn by [`crate::ui`]) and `GET /api/audit`.
//!
//! May import [`crate::store`], [`crate::clock`], [`crate::alerts`] (the handle),
//! [`crate::notify`] (the [`crate::notify::Notifier`] handle), the write guards
//! of [`crate::http::origin`] and [`crate::auth::role`], the [`crate::audit`] and the
//! [`crate::auth::Gate`] (who may read it), and [`crate::ui`] (the audit view's drawing); the router
//! mounts it.

pub mod alerts;
pub mod audit;
pub mod fleet;
pub mod history;
pub mod notify;
