//! The `auth_token` rows (see [`super::schema`]): what the writer does with a [`TokenWrite`],
//! and the reads.

use rusqlite::Transaction;

use crate::store::error::StoreError;

/// A change to the tokens' rows.
#[derive(Debug, Clone)]
pub enum TokenWrite {}

/// Applies `w` inside the writer's transaction.
pub fn write(_tx: &Transaction<'_>, w: &TokenWrite) -> Result<(), StoreError> {
    match *w {}
}
