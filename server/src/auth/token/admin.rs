//! `livedash token create|list|revoke`: the command's own reads and writes on the store file, on a
//! connection of its own (a running server's writer and this command take turns; SQLite's busy
//! timeout makes each wait for the other). Each change goes with its audit row in one
//! transaction. A running server finds a new token on its first use and drops a revoked one
//! within [`super::REFRESH_EVERY`].

use std::path::Path;
use std::time::Duration;

use crate::auth::role::Role;
use crate::store::auth::audit::AuditRow;
use crate::store::auth::tokens::{self, TokenRow};
use crate::store::error::StoreError;

/// Why the command did nothing.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The store could not be opened, read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The user is not in the accounts.
    #[error("no user {0:?} in the accounts (the users file, or `admin` without one)")]
    UnknownUser(String),
    /// A token may not do more than its user.
    #[error("{user:?} is a {role}: a token of theirs cannot be an admin")]
    RoleAboveUser {
        /// The user.
        user: String,
        /// Their role.
        role: &'static str,
    },
    /// No token, or more than one, has a handle starting so.
    #[error("no single token has an ID starting with {0:?} (see `livedash token list`)")]
    NoSuchToken(String),
    /// The name is too long or has control characters.
    #[error("--name: at most 100 characters, no control characters")]
    BadName,
}

fn audit(kind: &str, row: &TokenRow, now_ms: u64) -> AuditRow {
    let detail = serde_json::json!({ "token": tokens::hex(&row.id), "name": row.name, "role": row.role, "by": "cli" });
    AuditRow {
        ts_ms: now_ms,
        kind: kind.to_owned(),
        user: Some(row.user.clone()),
        addr: None,
        detail: detail.to_string(),
    }
}

/// Makes a token of `user` (whose role is `user_role`, `None` when there is no such user) with
/// `role` (the user's when not given), called `name`, for `expires` if given, in the store at
/// `path`: the secret (to print once) and its row.
pub fn create(
    path: &Path,
    user: &str,
    user_role: Option<Role>,
    role: Option<Role>,
    name: &str,
    expires: Option<Duration>,
) -> Result<(String, TokenRow), AdminError> {
    let user_role = user_role.ok_or_else(|| AdminError::UnknownUser(user.to_owned()))?;
    let role = role.unwrap_or(user_role);
    if role > user_role {
        return Err(AdminError::RoleAboveUser { user: user.to_owned(), role: user_role.as_str() });
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AdminError::BadName);
    }
    let now = crate::clock::now_ms();
    let (secret, row) = super::mint(user, role, name, expires, now);
    let conn = crate::store::db::open_writer(path)?;
    let tx = conn.unchecked_transaction().map_err(StoreError::from)?;
    tokens::insert(&tx, &row)?;
    crate::store::auth::audit::write(&tx, &audit("token_create", &row, now))?;
    tx.commit().map_err(StoreError::from)?;
    Ok((secret, row))
}

/// The tokens not revoked in the store at `path`, oldest first.
pub fn list(path: &Path) -> Result<Vec<TokenRow>, AdminError> {
    let conn = crate::store::db::open_writer(path)?;
    Ok(tokens::live(&conn)?)
}

/// Revokes the token whose ID (handle, hex) starts with `id` (8 digits at least) in the store at
/// `path`; the row revoked.
pub fn revoke(path: &Path, id: &str) -> Result<TokenRow, AdminError> {
    if id.len() < 8 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AdminError::NoSuchToken(id.to_owned()));
    }
    let conn = crate::store::db::open_writer(path)?;
    let tx = conn.unchecked_transaction().map_err(StoreError::from)?;
    let row = tokens::by_id_prefix(&tx, id)?.ok_or_else(|| AdminError::NoSuchToken(id.to_owned()))?;
    let now = crate::clock::now_ms();
    if !tokens::revoke(&tx, row.id, now)? {
        return Err(AdminError::NoSuchToken(id.to_owned()));
    }
    crate::store::auth::audit::write(&tx, &audit("token_revoke", &row, now))?;
    tx.commit().map_err(StoreError::from)?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_list_revoke_in_a_store_file() {
        let dir = std::env::temp_dir().join(format!("livedash-token-admin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("history.db");
        assert!(matches!(create(&path, "ann", None, None, "x", None), Err(AdminError::UnknownUser(_))));
        assert!(matches!(
            create(&path, "ann", Some(Role::Viewer), Some(Role::Admin), "x", None),
            Err(AdminError::RoleAboveUser { .. })
        ));
        let (secret, row) = create(&path, "ann", Some(Role::Admin), Some(Role::Viewer), "wall", None).expect("create");
        assert!(secret.starts_with(super::super::PREFIX));
        assert_eq!(row.role, "viewer");
        let listed = list(&path).expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].secret, super::super::secret_digest(&secret), "only the hash is kept");
        let hex = tokens::hex(&row.id);
        assert!(matches!(revoke(&path, "0"), Err(AdminError::NoSuchToken(_))));
        assert_eq!(revoke(&path, &hex[..8]).expect("revoke").id, row.id);
        assert!(list(&path).expect("list").is_empty());
        assert!(matches!(revoke(&path, &hex), Err(AdminError::NoSuchToken(_))), "once");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
