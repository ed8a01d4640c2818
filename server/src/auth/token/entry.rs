//! A token as the server holds it in memory: its listing, the SHA-256 of its secret, its expiry as
//! a monotonic deadline (set when the token is first loaded), when its use was last written, the
//! day its use was last audited, and whether this process made it and has not seen it in the table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::principal::Handle;
use crate::auth::role::Role;
use crate::store::auth::tokens::TokenRow;

/// Milliseconds in a (UTC) day.
pub(super) const DAY_MS: u64 = 86_400_000;

/// A token as listed (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Its public handle.
    pub handle: Handle,
    /// What its maker called it.
    pub name: String,
    /// Whose it is.
    pub user: Arc<str>,
    /// What it may do.
    pub role: Role,
    /// When it was made (a wall label, ms).
    pub created_ms: u64,
    /// When it was last used, if ever (a wall label, ms; noted at most once a minute).
    pub used_ms: Option<u64>,
    /// When it stops working, if ever (a wall label, ms).
    pub expires_ms: Option<u64>,
}

/// A token in memory: its listing, its hash, its monotonic deadline and its bookkeeping.
pub(super) struct Entry {
    pub(super) token: Token,
    pub(super) secret: [u8; 32],
    pub(super) deadline: Option<Instant>,
    pub(super) noted: Option<Instant>,
    pub(super) day: Option<u64>,
    /// Made by this process at this time, and not seen in the table yet.
    pub(super) unsaved: Option<Instant>,
}

impl Entry {
    pub(super) fn from_row(row: &TokenRow, now: u64) -> Option<Self> {
        let deadline = row.expires_ms.map(|e| Instant::now() + Duration::from_millis(e.saturating_sub(now)));
        Some(Self {
            token: Token {
                handle: Handle(row.id),
                name: row.name.clone(),
                user: Arc::from(row.user.as_str()),
                role: Role::parse(&row.role)?,
                created_ms: row.created_ms,
                used_ms: row.used_ms,
                expires_ms: row.expires_ms,
            },
            secret: row.secret,
            deadline,
            noted: None,
            day: row.used_ms.map(|u| u / DAY_MS),
            unsaved: None,
        })
    }

    pub(super) fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}
