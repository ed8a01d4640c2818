//! The `auth_session` rows (see [`super::schema`]): what the writer does with a [`SessionWrite`],
//! and the read of the live sessions at start ([`live`]).

use std::path::Path;

use rusqlite::{Connection, Transaction};

use super::to_i64;
use crate::store::db;
use crate::store::error::StoreError;

/// A session as kept: plain data (the auth wing turns it into its own type). `secret` is SHA-256
/// of the cookie's value; `id` is its first 16 bytes (the public handle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The public handle.
    pub id: [u8; 16],
    /// SHA-256 of the cookie's value.
    pub secret: [u8; 32],
    /// Who.
    pub user: String,
    /// Their role at login (`viewer` or `admin`).
    pub role: String,
    /// Made with "remember this device".
    pub remember: bool,
    /// The user's password version at login.
    pub version: [u8; 32],
    /// The `User-Agent` it was made with.
    pub device: String,
    /// The address it was made from.
    pub addr: String,
    /// When it was made (a wall label, ms).
    pub created_ms: u64,
    /// When it was last noted as used (a wall label, ms).
    pub seen_ms: u64,
}

/// A change to the sessions' rows.
#[derive(Debug, Clone)]
pub enum SessionWrite {
    /// A session made at login.
    Made(SessionRow),
    /// A session used at `seen_ms` (written at most once a minute per session).
    Seen {
        /// Its handle.
        id: [u8; 16],
        /// When (a wall label, ms).
        seen_ms: u64,
    },
    /// A session ended, for `reason` (`logout`, `revoked`, `password_changed`, `expired`).
    Ended {
        /// Its handle.
        id: [u8; 16],
        /// When (a wall label, ms).
        ended_ms: u64,
        /// Why.
        reason: &'static str,
    },
}

/// Applies `w` inside the writer's transaction.
pub fn write(tx: &Transaction<'_>, w: &SessionWrite) -> Result<(), StoreError> {
    match w {
        SessionWrite::Made(r) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO auth_session (id, secret, user, role, remember, version, device, addr,
                 created_ms, seen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(rusqlite::params![
                &r.id[..],
                &r.secret[..],
                r.user,
                r.role,
                r.remember,
                &r.version[..],
                r.device,
                r.addr,
                to_i64(r.created_ms),
                to_i64(r.seen_ms)
            ])?;
        }
        SessionWrite::Seen { id, seen_ms } => {
            tx.prepare_cached("UPDATE auth_session SET seen_ms = max(seen_ms, ?2) WHERE id = ?1")?
                .execute(rusqlite::params![&id[..], to_i64(*seen_ms)])?;
        }
        SessionWrite::Ended { id, ended_ms, reason } => {
            tx.prepare_cached(
                "UPDATE auth_session SET ended_ms = ?2, end_reason = ?3 WHERE id = ?1 AND ended_ms IS NULL",
            )?
            .execute(rusqlite::params![&id[..], to_i64(*ended_ms), reason])?;
        }
    }
    Ok(())
}

/// The sessions that have not ended, oldest first (an absent file or table: none).
pub fn live(path: &Path) -> Result<Vec<SessionRow>, StoreError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn = db::open_reader(path)?;
    read_live(&conn)
}

fn read_live(conn: &Connection) -> Result<Vec<SessionRow>, StoreError> {
    let stmt = conn.prepare(
        "SELECT id, secret, user, role, remember, version, device, addr, created_ms, seen_ms FROM auth_session
         WHERE ended_ms IS NULL ORDER BY created_ms",
    );
    let mut stmt = match stmt {
        Err(e) if e.to_string().contains("no such table") => return Ok(Vec::new()),
        other => other?,
    };
    let blob = |v: Vec<u8>| v;
    let rows = stmt
        .query_map([], |r| {
            let (id, secret, version) = (blob(r.get(0)?), blob(r.get(1)?), blob(r.get(5)?));
            Ok((id, secret, version, r.get(2)?, r.get(3)?, r.get(4)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
        })?
        .collect::<Result<Vec<(Vec<u8>, Vec<u8>, Vec<u8>, String, String, bool, String, String, i64, i64)>, _>>()?;
    // A row whose blobs are not of their length is not one this code wrote: skipped.
    Ok(rows
        .into_iter()
        .filter_map(|(id, secret, version, user, role, remember, device, addr, created, seen)| {
            Some(SessionRow {
                id: id.try_into().ok()?,
                secret: secret.try_into().ok()?,
                user,
                role,
                remember,
                version: version.try_into().ok()?,
                device,
                addr,
                created_ms: created.max(0).unsigned_abs(),
                seen_ms: seen.max(0).unsigned_abs(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::auth::{AuthWrite, write as write_all};

    fn row(id: u8, created_ms: u64) -> SessionRow {
        SessionRow {
            id: [id; 16],
            secret: [id; 32],
            user: "admin".to_owned(),
            role: "admin".to_owned(),
            remember: id.is_multiple_of(2),
            version: [9; 32],
            device: "Firefox on Linux".to_owned(),
            addr: "10.0.0.1".to_owned(),
            created_ms,
            seen_ms: created_ms,
        }
    }

    #[test]
    fn made_seen_and_ended_sessions_read_back_as_the_live_ones() {
        let (config, conn) = crate::store::temp_store("auth-sessions");
        let writes = [
            AuthWrite::Session(SessionWrite::Made(row(1, 1_000))),
            AuthWrite::Session(SessionWrite::Made(row(2, 2_000))),
            AuthWrite::Session(SessionWrite::Seen { id: [1; 16], seen_ms: 5_000 }),
            AuthWrite::Session(SessionWrite::Seen { id: [1; 16], seen_ms: 4_000 }),
            AuthWrite::Session(SessionWrite::Ended { id: [2; 16], ended_ms: 6_000, reason: "logout" }),
        ];
        write_all(&conn, &writes).expect("written");
        let live = live(&config.path).expect("read");
        assert_eq!(
            live,
            vec![SessionRow { seen_ms: 5_000, ..row(1, 1_000) }],
            "the later use kept, the ended one gone"
        );
        let reason: String = conn
            .query_row("SELECT end_reason FROM auth_session WHERE id = ?1", [&[2u8; 16][..]], |r| r.get(0))
            .expect("row");
        assert_eq!(reason, "logout");
    }
}
