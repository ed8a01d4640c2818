//! The audit log: every login, failed login, throttle, logout, revocation, token use (the first
//! of a day), silence, acknowledgement and role refusal, as one JSON line in a log file under
//! `--data-dir` (rotated by size: [`file`]) and as a row of the history store; read back by the
//! admin's audit view and by "last login: time, place".
//!
//! [`Audit::record`] never waits: the line goes to the file's own thread through a bounded queue
//! (full: the line is dropped and counted, never a request held up by a slow or failing disk), the
//! row to the store's writer. What a stranger can make happen (failed logins, throttles, role
//! refusals) is bounded per address and kind by [`guard`], which says how many it let pass
//! unrecorded. The newest records are also kept in memory ([`MEMORY`]): the views read them when
//! there is no store, and beside the store's rows for what its writer has not written yet.
//!
//! May import the store ([`crate::store`]) and [`crate::clock`]; nothing from the auth wing (which
//! imports this): what happened arrives as plain [`AuditEvent`]s.

pub mod file;
pub mod guard;
mod kind;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

pub use kind::AuditKind;

use crate::store::Store;
use crate::store::auth::audit::{AuditQuery, AuditRow};

/// How many records are kept in memory.
pub const MEMORY: usize = 1_000;

/// The longest user name recorded (a guesser may send a megabyte of one); longer ones are cut.
pub const MAX_USER: usize = 128;

/// One thing to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// What.
    pub kind: AuditKind,
    /// Who (the user acting, or the name tried).
    pub user: Option<String>,
    /// From where.
    pub addr: Option<IpAddr>,
    /// The rest (the session's device, the rule silenced, the reason...), a JSON object.
    pub detail: serde_json::Map<String, serde_json::Value>,
}

impl AuditEvent {
    /// `kind` by `user` from `addr`, with no detail yet.
    pub fn new(kind: AuditKind, user: Option<&str>, addr: Option<IpAddr>) -> Self {
        Self { kind, user: user.map(str::to_owned), addr, detail: serde_json::Map::new() }
    }

    /// With `key` set to `value` in its detail.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.detail.insert(key.to_owned(), value.into());
        self
    }
}

/// Where audit records go. `Default` keeps them in memory only (and in the server's log).
#[derive(Clone, Default)]
pub struct Audit {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    file: Option<file::AuditFile>,
    store: Option<Arc<Store>>,
    memory: Mutex<VecDeque<AuditRow>>,
    guard: Mutex<guard::Guard>,
    /// Records not recorded by the guard.
    suppressed: AtomicU64,
}

impl Audit {
    /// Records to `<data_dir>/audit.log` (rotated, see [`file`]) and, when there is one, to
    /// `store`.
    pub fn new(data_dir: &Path, store: Option<Arc<Store>>) -> Self {
        Self::with_rotation(data_dir, store, file::Rotation::default())
    }

    /// [`Audit::new`] with the file rotated by `rotation`.
    pub fn with_rotation(data_dir: &Path, store: Option<Arc<Store>>, rotation: file::Rotation) -> Self {
        let file = file::AuditFile::with_rotation(data_dir.join(file::FILE_NAME), rotation);
        Self { inner: Arc::new(Inner { file: Some(file), store, ..Inner::default() }) }
    }

    /// Waits (at most `timeout`) until what was recorded before is in the file and the store;
    /// blocking (for tests and a clean stop).
    pub fn flush(&self, timeout: std::time::Duration) -> bool {
        let file = self.inner.file.as_ref().is_none_or(|f| f.flush(timeout));
        if let Some(store) = &self.inner.store {
            store.flush();
        }
        file
    }

    /// Records `event`; never waits (the file and the store are written behind).
    pub fn record(&self, event: AuditEvent) {
        self.record_at(event, crate::clock::now_ms());
    }

    /// [`Audit::record`] with its wall label `ts_ms` given.
    // Takes the event: it is moved into the row.
    #[allow(clippy::needless_pass_by_value)]
    pub fn record_at(&self, mut event: AuditEvent, ts_ms: u64) {
        let passed = self.inner.guard.lock().pass(event.kind, event.addr, std::time::Instant::now());
        let Some(unrecorded) = passed else {
            self.inner.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if unrecorded > 0 {
            event.detail.insert("unrecorded_before".into(), unrecorded.into());
        }
        let user = event.user.map(|u| cut(&u));
        tracing::info!(kind = event.kind.as_str(), user = ?user, addr = ?event.addr, "audit");
        let row = AuditRow {
            ts_ms,
            kind: event.kind.as_str().to_owned(),
            user,
            addr: event.addr.map(|a| a.to_string()),
            detail: serde_json::Value::Object(event.detail).to_string(),
        };
        if let Some(file) = &self.inner.file {
            file.write(file::line(&row));
        }
        if let Some(store) = &self.inner.store {
            store.auth(crate::store::auth::AuthWrite::Audit(row.clone()));
        }
        let mut memory = self.inner.memory.lock();
        if memory.len() >= MEMORY {
            memory.pop_front();
        }
        memory.push_back(row);
    }

    /// How many records the flood guard kept out, and how many lines the file's queue dropped.
    pub fn unrecorded(&self) -> (u64, u64) {
        let dropped = self.inner.file.as_ref().map_or(0, file::AuditFile::dropped);
        (self.inner.suppressed.load(Ordering::Relaxed), dropped)
    }

    /// The newest `limit` records, newest first (the admin's audit view).
    pub async fn recent(&self, limit: usize) -> Vec<AuditRow> {
        self.query(AuditQuery { limit, ..AuditQuery::default() }).await
    }

    /// `user`'s login before the one made at `before_ms` (a wall label): when and from where, for
    /// "last login: time, place".
    pub async fn last_login(&self, user: &str, before_ms: u64) -> Option<AuditRow> {
        let query = AuditQuery {
            kind: Some(AuditKind::Login.as_str().to_owned()),
            user: Some(user.to_owned()),
            before_ms: Some(before_ms),
            limit: 1,
        };
        self.query(query).await.into_iter().next()
    }

    /// The newest records that `query` selects, newest first: the store's (read off the async
    /// threads) with the newest kept in memory that its writer may not have written yet.
    pub async fn query(&self, query: AuditQuery) -> Vec<AuditRow> {
        let mut rows: Vec<AuditRow> =
            self.inner.memory.lock().iter().rev().filter(|r| query.selects(r)).cloned().collect();
        rows.truncate(query.limit);
        if let Some(store) = &self.inner.store {
            let (path, q) = (store.config().path.clone(), query.clone());
            match tokio::task::spawn_blocking(move || crate::store::auth::audit::read(&path, &q)).await {
                Ok(Ok(stored)) => rows = merge(rows, stored, query.limit),
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot read the audit log from the store"),
                Err(e) => tracing::warn!(error = %e, "the audit log's read stopped"),
            }
        }
        rows
    }
}

/// `a` and `b` (each newest first) as one list without the records in both, newest first, at
/// most `limit` long.
fn merge(a: Vec<AuditRow>, b: Vec<AuditRow>, limit: usize) -> Vec<AuditRow> {
    let key = |r: &AuditRow| (r.ts_ms, r.kind.clone(), r.user.clone(), r.addr.clone(), r.detail.clone());
    let mut all: Vec<AuditRow> = b;
    for row in a {
        if !all.iter().any(|s| key(s) == key(&row)) {
            all.push(row);
        }
    }
    all.sort_by_key(|r| std::cmp::Reverse(r.ts_ms));
    all.truncate(limit);
    all
}

/// `user` cut to [`MAX_USER`] characters.
fn cut(user: &str) -> String {
    user.chars().take(MAX_USER).collect()
}

#[cfg(test)]
mod tests;
