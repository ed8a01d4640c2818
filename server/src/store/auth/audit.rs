//! The `audit` rows (see [`super::schema`]): one per audit record, and the reads of the log.
//! The table keeps the newest [`MAX_ROWS`] records (older ones are deleted as new ones come, a
//! thousand at a time): a flood of refused logins cannot grow the store without bound.

use std::path::Path;

use rusqlite::{Transaction, params};

use crate::store::error::StoreError;

/// The records the table keeps at most (the file under the data directory keeps its own, see
/// the audit wing).
pub const MAX_ROWS: i64 = 200_000;

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

/// Which records to read: the newest `limit` of `kind` by `user` made before `before_ms`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this kind (its word).
    pub kind: Option<String>,
    /// Only this user.
    pub user: Option<String>,
    /// Only those made before this wall label.
    pub before_ms: Option<u64>,
    /// At most this many.
    pub limit: usize,
}

impl AuditQuery {
    /// Whether `row` is one it reads.
    pub fn selects(&self, row: &AuditRow) -> bool {
        self.kind.as_ref().is_none_or(|k| *k == row.kind)
            && self.user.as_ref().is_none_or(|u| Some(u) == row.user.as_ref())
            && self.before_ms.is_none_or(|b| row.ts_ms < b)
    }
}

/// Inserts `row` inside the writer's transaction; every thousandth record, deletes those past
/// the newest [`MAX_ROWS`].
pub fn write(tx: &Transaction<'_>, row: &AuditRow) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO audit (ts_ms, kind, user, addr, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![super::to_i64(row.ts_ms), row.kind, row.user, row.addr, row.detail])?;
    let id = tx.last_insert_rowid();
    if id % 1_000 == 0 && id > MAX_ROWS {
        tx.prepare_cached("DELETE FROM audit WHERE id <= ?1")?.execute([id - MAX_ROWS])?;
    }
    Ok(())
}

/// The newest records `query` selects in the store at `path`, newest first (none when there is
/// no file or no table yet).
pub fn read(path: &Path, query: &AuditQuery) -> Result<Vec<AuditRow>, StoreError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn = crate::store::db::open_reader(path)?;
    let stmt = conn.prepare(
        "SELECT ts_ms, kind, user, addr, detail FROM audit
         WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR user = ?2) AND (?3 IS NULL OR ts_ms < ?3)
         ORDER BY ts_ms DESC, id DESC LIMIT ?4",
    );
    let mut stmt = match stmt {
        Err(e) if e.to_string().contains("no such table") => return Ok(Vec::new()),
        other => other?,
    };
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![query.kind, query.user, query.before_ms.map(super::to_i64), limit], |r| {
            Ok(AuditRow {
                ts_ms: r.get::<_, i64>(0)?.max(0).unsigned_abs(),
                kind: r.get(1)?,
                user: r.get(2)?,
                addr: r.get(3)?,
                detail: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// How many records the store at `path` holds (for tests and checks).
pub fn count(path: &Path) -> Result<u64, StoreError> {
    let conn = crate::store::db::open_reader(path)?;
    let n: i64 = conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?;
    Ok(n.max(0).unsigned_abs())
}
