//! The `auth_token` rows (see [`super::schema`]): what the writer does with a [`TokenWrite`],
//! and the reads. Written by the server's writer and, for `livedash token create|revoke`, by the
//! command itself on a connection of its own (SQLite serialises the two; WAL keeps readers going).

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::to_i64;
use crate::store::error::StoreError;

/// A token as kept: `id` is its public handle, `secret` the SHA-256 of the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// The public handle (16 bytes).
    pub id: [u8; 16],
    /// SHA-256 of the token.
    pub secret: [u8; 32],
    /// What its maker called it.
    pub name: String,
    /// Whose it is.
    pub user: String,
    /// `viewer` or `admin`.
    pub role: String,
    /// When it was made (a wall label, ms).
    pub created_ms: u64,
    /// When it was last used (a wall label, ms).
    pub used_ms: Option<u64>,
    /// When it stops working (a wall label, ms).
    pub expires_ms: Option<u64>,
    /// When it was revoked (a wall label, ms).
    pub revoked_ms: Option<u64>,
}

/// A change to the tokens' rows.
#[derive(Debug, Clone)]
pub enum TokenWrite {
    /// A token made.
    Create(TokenRow),
    /// Token `id` used at `used_ms`.
    Used {
        /// Its handle.
        id: [u8; 16],
        /// When (a wall label, ms).
        used_ms: u64,
    },
    /// Token `id` revoked at `revoked_ms`.
    Revoke {
        /// Its handle.
        id: [u8; 16],
        /// When (a wall label, ms).
        revoked_ms: u64,
    },
}

/// Applies `w` inside the writer's transaction.
pub fn write(tx: &Transaction<'_>, w: &TokenWrite) -> Result<(), StoreError> {
    match w {
        TokenWrite::Create(row) => insert(tx, row),
        TokenWrite::Used { id, used_ms } => {
            tx.prepare_cached("UPDATE auth_token SET used_ms = max(coalesce(used_ms, 0), ?2) WHERE id = ?1")?
                .execute(params![id.as_slice(), to_i64(*used_ms)])?;
            Ok(())
        }
        TokenWrite::Revoke { id, revoked_ms } => revoke(tx, *id, *revoked_ms).map(|_| ()),
    }
}

/// Inserts `row` (the writer's transaction, or the command's connection).
pub fn insert(conn: &Connection, row: &TokenRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO auth_token (id, secret, name, user, role, created_ms, used_ms, expires_ms, revoked_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        row.id.as_slice(),
        row.secret.as_slice(),
        row.name,
        row.user,
        row.role,
        to_i64(row.created_ms),
        row.used_ms.map(to_i64),
        row.expires_ms.map(to_i64),
        row.revoked_ms.map(to_i64),
    ])?;
    Ok(())
}

/// Marks token `id` revoked at `at` unless it already is; whether a live token was revoked.
pub fn revoke(conn: &Connection, id: [u8; 16], at: u64) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("UPDATE auth_token SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL")?
        .execute(params![id.as_slice(), to_i64(at)])?;
    Ok(n > 0)
}

const COLUMNS: &str = "id, secret, name, user, role, created_ms, used_ms, expires_ms, revoked_ms";

fn fixed<const N: usize>(v: Vec<u8>, i: usize) -> rusqlite::Result<[u8; N]> {
    let len = v.len();
    v.try_into()
        .map_err(|_| rusqlite::Error::InvalidColumnType(i, format!("blob of {len} bytes"), rusqlite::types::Type::Blob))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    let blob = |i: usize| -> rusqlite::Result<Vec<u8>> { r.get(i) };
    let time = |i: usize| -> rusqlite::Result<Option<u64>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(|v| u64::try_from(v).unwrap_or(0)))
    };
    Ok(TokenRow {
        id: fixed(blob(0)?, 0)?,
        secret: fixed(blob(1)?, 1)?,
        name: r.get(2)?,
        user: r.get(3)?,
        role: r.get(4)?,
        created_ms: time(5)?.unwrap_or(0),
        used_ms: time(6)?,
        expires_ms: time(7)?,
        revoked_ms: time(8)?,
    })
}

/// Every token not revoked, oldest first (expired ones too: the list shows them).
pub fn live(conn: &Connection) -> Result<Vec<TokenRow>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM auth_token WHERE revoked_ms IS NULL ORDER BY created_ms"))?;
    let rows = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The token whose handle starts with `prefix` (hex, at least 8 digits), if exactly one does.
pub fn by_id_prefix(conn: &Connection, prefix: &str) -> Result<Option<TokenRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM auth_token"))?;
    let mut found: Vec<TokenRow> = stmt
        .query_map([], row)?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|t| hex(&t.id).starts_with(&prefix.to_ascii_lowercase()))
        .collect();
    Ok(if found.len() == 1 { found.pop() } else { None })
}

/// The token whose SHA-256 is `secret`, revoked or not.
pub fn by_secret(conn: &Connection, secret: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM auth_token WHERE secret = ?1"))?
        .query_row([secret.as_slice()], row)
        .optional()?)
}

/// `bytes` as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
