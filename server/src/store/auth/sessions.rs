//! The `auth_session` rows (see [`super::schema`]): what the writer does with a [`SessionWrite`],
//! and the reads.

use rusqlite::Transaction;

use crate::store::error::StoreError;

/// A change to the sessions' rows.
#[derive(Debug, Clone)]
pub enum SessionWrite {}

/// Applies `w` inside the writer's transaction.
pub fn write(_tx: &Transaction<'_>, w: &SessionWrite) -> Result<(), StoreError> {
    match *w {}
}
