//! The `audit` rows (see [`super::schema`]): one per audit record, and the reads of the log.

use rusqlite::Transaction;

use crate::store::error::StoreError;

/// One audit record as kept: `detail` is a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    /// When (a wall label, ms).
    pub ts_ms: u64,
    /// What happened (`login`, `login_failed`, ...).
    pub kind: String,
    /// Who, when known.
    pub user: Option<String>,
    /// From which address, when known.
    pub addr: Option<String>,
    /// The rest, as a JSON object.
    pub detail: String,
}

/// Inserts `row` inside the writer's transaction.
pub fn write(tx: &Transaction<'_>, row: &AuditRow) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO audit (ts_ms, kind, user, addr, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(rusqlite::params![super::to_i64(row.ts_ms), row.kind, row.user, row.addr, row.detail])?;
    Ok(())
}
