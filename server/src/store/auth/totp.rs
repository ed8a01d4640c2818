//! The `auth_totp` rows (see [`super::schema`]): what the writer does with a [`TotpWrite`],
//! and the reads.

use rusqlite::Transaction;

use crate::store::error::StoreError;

/// A change to the totps' rows.
#[derive(Debug, Clone)]
pub enum TotpWrite {}

/// Applies `w` inside the writer's transaction.
pub fn write(_tx: &Transaction<'_>, w: &TotpWrite) -> Result<(), StoreError> {
    match *w {}
}
