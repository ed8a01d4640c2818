//! The login's tables (schema 6): sessions ([`sessions`]), API tokens ([`tokens`]), second factors
//! and their recovery codes ([`totp`]), and the audit log ([`audit`]). Written by the store's one
//! writer ([`write`], a transaction per batch, like the alerts'); read on reader connections by the
//! auth wing at start and when it misses, and by the views.
//!
//! Only hashes of secrets are kept: a session's cookie, a token, a recovery code are stored as
//! SHA-256 of the secret; a TOTP secret is kept as it must be (it is needed to check a code).
//!
//! May import the core (`livedash`) and the store's own modules; nothing from the auth wing (which
//! imports this), so the rows here are plain data.

pub mod audit;
pub mod schema;
pub mod sessions;
pub mod tokens;
pub mod totp;

use rusqlite::Connection;

use super::error::StoreError;

/// One change to the login's tables, handed to the writer ([`super::handle::Store::auth`]).
#[derive(Debug, Clone)]
pub enum AuthWrite {
    /// A session made, seen, ended.
    Session(sessions::SessionWrite),
    /// A token made, used, revoked.
    Token(tokens::TokenWrite),
    /// A second factor enrolled, removed, a code or recovery code spent.
    Totp(totp::TotpWrite),
    /// An audit record.
    Audit(audit::AuditRow),
}

/// Writes `writes` in one transaction.
pub fn write(conn: &Connection, writes: &[AuthWrite]) -> Result<(), StoreError> {
    if writes.is_empty() {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    for w in writes {
        match w {
            AuthWrite::Session(w) => sessions::write(&tx, w)?,
            AuthWrite::Token(w) => tokens::write(&tx, w)?,
            AuthWrite::Totp(w) => totp::write(&tx, w)?,
            AuthWrite::Audit(row) => audit::write(&tx, row)?,
        }
    }
    tx.commit()?;
    Ok(())
}

/// A `u64` wall label as SQLite's integer.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
