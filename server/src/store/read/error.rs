//! Why a read gave no answer: the store failed, or its client went away.

use crate::store::error::StoreError;

/// Why a read gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Its client went away.
    #[error("the read was cancelled: its client went away")]
    Cancelled,
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<ReadError> for StoreError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Store(e) => e,
            ReadError::Cancelled => Self::Closed,
        }
    }
}
