//! The `auth_totp` and `auth_recovery` rows (see [`super::schema`]): what the writer does with a
//! [`TotpWrite`], and the read at start.

use rusqlite::{Connection, Transaction, params};

use super::to_i64;
use crate::store::error::StoreError;

/// A user's confirmed second factor as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRow {
    /// Whose.
    pub user: String,
    /// The TOTP secret (raw bytes: it is needed to check a code).
    pub secret: Vec<u8>,
    /// When it was confirmed (a wall label, ms).
    pub confirmed_ms: u64,
    /// The last time step a code was taken for (a code is not taken twice).
    pub last_step: u64,
    /// SHA-256 of each recovery code not spent yet.
    pub recovery: Vec<[u8; 32]>,
}

/// A change to the second factors' rows.
#[derive(Debug, Clone)]
pub enum TotpWrite {
    /// A second factor confirmed (replacing any before it, with its recovery codes).
    Enrol(TotpRow),
    /// A code for `step` taken.
    Step {
        /// Whose.
        user: String,
        /// The step.
        step: u64,
    },
    /// A recovery code spent.
    RecoveryUsed {
        /// Whose.
        user: String,
        /// SHA-256 of the code.
        code: [u8; 32],
        /// When (a wall label, ms).
        used_ms: u64,
    },
    /// The second factor removed, with its recovery codes.
    Remove {
        /// Whose.
        user: String,
    },
}

/// Applies `w` inside the writer's transaction.
pub fn write(tx: &Transaction<'_>, w: &TotpWrite) -> Result<(), StoreError> {
    match w {
        TotpWrite::Enrol(row) => {
            remove(tx, &row.user)?;
            tx.prepare_cached("INSERT INTO auth_totp (user, secret, confirmed_ms, last_step) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![row.user, row.secret, to_i64(row.confirmed_ms), to_i64(row.last_step)])?;
            let mut insert = tx.prepare_cached("INSERT OR IGNORE INTO auth_recovery (user, code) VALUES (?1, ?2)")?;
            for code in &row.recovery {
                insert.execute(params![row.user, code.as_slice()])?;
            }
        }
        TotpWrite::Step { user, step } => {
            tx.prepare_cached("UPDATE auth_totp SET last_step = max(last_step, ?2) WHERE user = ?1")?
                .execute(params![user, to_i64(*step)])?;
        }
        TotpWrite::RecoveryUsed { user, code, used_ms } => {
            tx.prepare_cached("UPDATE auth_recovery SET used_ms = ?3 WHERE user = ?1 AND code = ?2")?
                .execute(params![user, code.as_slice(), to_i64(*used_ms)])?;
        }
        TotpWrite::Remove { user } => remove(tx, user)?,
    }
    Ok(())
}

fn remove(tx: &Transaction<'_>, user: &str) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM auth_totp WHERE user = ?1")?.execute([user])?;
    tx.prepare_cached("DELETE FROM auth_recovery WHERE user = ?1")?.execute([user])?;
    Ok(())
}

/// Every confirmed second factor with its unspent recovery codes.
pub fn load(conn: &Connection) -> Result<Vec<TotpRow>, StoreError> {
    let mut rows: Vec<TotpRow> = conn
        .prepare("SELECT user, secret, confirmed_ms, last_step FROM auth_totp WHERE confirmed_ms IS NOT NULL")?
        .query_map([], |r| {
            Ok(TotpRow {
                user: r.get(0)?,
                secret: r.get(1)?,
                confirmed_ms: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                last_step: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                recovery: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut codes = conn.prepare("SELECT user, code FROM auth_recovery WHERE used_ms IS NULL")?;
    let codes = codes.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
    for code in codes {
        let (user, code) = code?;
        if let (Some(row), Ok(code)) = (rows.iter_mut().find(|r| r.user == user), <[u8; 32]>::try_from(code)) {
            row.recovery.push(code);
        }
    }
    Ok(rows)
}
