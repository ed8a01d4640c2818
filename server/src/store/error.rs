//! What can go wrong with the store: the file cannot be opened (start-up stops, naming it), or a
//! read or write failed (the live stream goes on; the page and `/healthz` say history is not
//! being saved).

use std::path::PathBuf;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or made.
    #[error("the history store {0} could not be opened: {1}")]
    Open(PathBuf, String),
    /// SQLite refused a statement (a full or read-only disk, a corrupt file, ...).
    #[error("the history store failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file's schema is not one this livedash can use.
    #[error("the history store's schema: {0}")]
    Schema(String),
    /// A chunk did not decode.
    #[error("a stored chunk is damaged: {0}")]
    Chunk(String),
    /// The writer is gone (the server is stopping).
    #[error("the history store is closed")]
    Closed,
}
