//! The preview of alert rules (`livedash alerts check`): each rule replayed over the history
//! store's past, to tell before saving it how often it would have fired and for how long.
//!
//! - [`check`]: the rules over the store, into a report;
//! - [`history`]: one series over the range, at the finest tier the store holds for each part;
//! - [`replay`]: one rule over one series, through the alerts' own state machine;
//! - [`table`]: what a replay found, and the table printed.
//!
//! May import [`crate::store`] (read only: the store is opened read-only, a running server may
//! be writing it), the rest of [`crate::alerts`] (the rules and their state machine) and the core
//! (`livedash`).

pub mod check;
pub mod history;
pub mod replay;
pub mod table;

use crate::store::StoreError;
use crate::store::read::ReadError;

/// Why the preview could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The store could not be opened or listed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A series could not be read.
    #[error("history store: {0}")]
    Read(#[from] ReadError),
}
