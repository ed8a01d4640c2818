//! API tokens for scripts and wall screens: `livedash token create --user NAME [--role viewer]
//! [--expires 90d]` prints one once; only its SHA-256 is kept (the store's `auth_token`). A token
//! is presented as `Authorization: Bearer TOKEN`, as the password of Basic credentials naming
//! its user, and on a kiosk URL; it carries its own role, never above its user's; it is listed
//! (name, created, last used, expiry) and revoked from the Sessions view and the CLI.
//!
//! The tokens live in memory for the requests' path, loaded from the store at start. The command
//! writes the store file while the server runs; the server finds such a token when it misses
//! one, by reading the table again, at most once a second whatever the number of unknown tokens
//! presented (a miss waits for the next read: [`Tokens::check`]), and picks up revocations made by the command within
//! [`REFRESH_EVERY`]. Expiry is a wall date turned into a monotonic deadline when the token is
//! first loaded: a wall clock that jumps afterwards neither ends nor extends it. `used_ms` is
//! written at most once a minute; the first use of a (UTC) day is audited (`token_use`).
//!
//! - [`mint`]: a new secret and its row (shared with the command, [`admin`]);
//! - [`admin`]: the command's reads and writes on the store file;
//! - [`shared`]: the tokens in a cluster's Redis, so that every instance knows every token.
//!
//! May import the auth wing's [`super::role`] and [`super::principal`], the store's rows
//! ([`crate::store::auth::tokens`]), [`crate::audit`] and [`crate::clock`].

pub mod admin;
mod entry;
mod mint;
pub mod shared;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use subtle::ConstantTimeEq;

pub use entry::Token;
use entry::{DAY_MS, Entry};
pub use mint::{PREFIX, mint, secret_digest};

use super::principal::Handle;
use super::role::Role;
use crate::audit::{Audit, AuditEvent, AuditKind};
use crate::clock::now_ms;
use crate::store::Store;
use crate::store::auth::AuthWrite;
use crate::store::auth::tokens::{TokenRow, TokenWrite};

/// The least time between two reads of the table for a token not known: however many unknown
/// tokens arrive, the table is read at most once per gap, and a token made a moment ago waits at
/// most this long to be found.
pub const MISS_GAP: Duration = Duration::from_secs(1);
/// How often the table is read again for the command's revocations and new tokens.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);
/// How often a token's `used_ms` is written at most.
const NOTE_EVERY: Duration = Duration::from_secs(60);

/// Where tokens are kept: the store's writer and its file (read on connections of their own).
#[derive(Clone)]
pub struct Backing {
    /// The writer.
    pub store: Arc<Store>,
    /// The file.
    pub path: PathBuf,
}

/// The tokens in force.
#[derive(Default)]
pub struct Tokens {
    live: RwLock<HashMap<Handle, Entry>>,
    backing: Option<Backing>,
    audit: Audit,
    /// In a cluster: the shared book.
    shared: Option<Arc<dyn shared::SharedTokens>>,
    /// When the table was last read (monotonic); one read at a time.
    read: tokio::sync::Mutex<Option<Instant>>,
    /// Moves whenever tokens leave memory (revoked here, by the command or on another instance),
    /// so that their open sockets close.
    ended: tokio::sync::watch::Sender<u64>,
}

impl Tokens {
    /// Tokens kept in `backing` (in memory only without one), their uses told to `audit`. Reads
    /// the table once now (blocking: at start-up).
    pub fn new(backing: Option<Backing>, audit: Audit) -> Self {
        let tokens = Self {
            live: RwLock::default(),
            backing,
            audit,
            shared: None,
            read: tokio::sync::Mutex::new(None),
            ended: Default::default(),
        };
        // A store not made yet (a first start) has none: nothing to read, nothing to report.
        if let Some(b) = tokens.backing.as_ref().filter(|b| b.path.exists()) {
            match read_rows(&b.path) {
                Ok(rows) => tokens.replace(&rows, true, &[]),
                Err(e) => tracing::info!(error = %e, "API tokens: none read from the store (a new store has none)"),
            }
        }
        tokens
    }

    /// The same, in a cluster whose instances share their tokens through `shared` (read on a miss
    /// and with every refresh, besides the store).
    pub fn with_shared(mut self, shared: Arc<dyn shared::SharedTokens>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Puts `row` in the cluster's book, if there is one (a second at most: the token works here
    /// whatever Redis says).
    async fn share(&self, row: TokenRow) {
        if let Some(shared) = &self.shared
            && !matches!(tokio::time::timeout(Duration::from_secs(1), shared.put(row)).await, Ok(Ok(())))
        {
            tracing::warn!(
                "API tokens: the cluster's Redis did not take a token change; other instances learn it from it only once it answers"
            );
        }
    }

    /// A new token of `user` with `role`, called `name`, for `expires` if given: its secret
    /// (shown once) and the token.
    pub async fn create(&self, user: &str, role: Role, name: &str, expires: Option<Duration>) -> (String, Token) {
        let now = now_ms();
        let (secret, row) = mint(user, role, name, expires, now);
        let entry = Entry::from_row(&row, now);
        if let Some(b) = &self.backing {
            b.store.auth(AuthWrite::Token(TokenWrite::Create(row.clone())));
        }
        self.share(row).await;
        let mut token = None;
        if let Some(mut entry) = entry {
            entry.unsaved = Some(Instant::now());
            token = Some(entry.token.clone());
            self.live.write().insert(entry.token.handle, entry);
        }
        let token = token.unwrap_or_else(|| Token {
            handle: Handle::of(secret.as_bytes()),
            name: name.to_owned(),
            user: Arc::from(user),
            role,
            created_ms: now,
            used_ms: None,
            expires_ms: None,
        });
        (secret, token)
    }

    /// The live token `secret` is, noted as used; `None` for an unknown, revoked or expired one.
    /// A token not in memory is looked for in the store, at most once per [`MISS_GAP`].
    pub async fn check(&self, secret: &str) -> Option<Token> {
        if !secret.starts_with(PREFIX) || secret.len() > 128 {
            return None;
        }
        let digest = secret_digest(secret);
        let handle = Handle::of(secret.as_bytes());
        if let Some(found) = self.take(handle, &digest) {
            return found;
        }
        let asked = Instant::now();
        self.refresh(Some(asked)).await;
        self.take(handle, &digest).flatten()
    }

    /// `Some(answer)` when the token is in memory (`Some(None)`: it is, but expired), `None` when
    /// it is not known.
    fn take(&self, handle: Handle, digest: &[u8; 32]) -> Option<Option<Token>> {
        let mut live = self.live.write();
        let entry = live.get_mut(&handle)?;
        if !bool::from(entry.secret.ct_eq(digest)) {
            return None;
        }
        if entry.expired() {
            return Some(None);
        }
        let now = now_ms();
        if entry.noted.is_none_or(|n| n.elapsed() >= NOTE_EVERY) {
            entry.noted = Some(Instant::now());
            entry.token.used_ms = Some(now);
            if let Some(b) = &self.backing {
                b.store.auth(AuthWrite::Token(TokenWrite::Used { id: handle.0, used_ms: now }));
            }
        }
        if entry.day != Some(now / DAY_MS) {
            entry.day = Some(now / DAY_MS);
            let mut detail = serde_json::Map::new();
            detail.insert("token".into(), entry.token.handle.hex().into());
            detail.insert("name".into(), entry.token.name.clone().into());
            self.audit.record(AuditEvent {
                kind: AuditKind::TokenUse,
                user: Some(entry.token.user.to_string()),
                addr: None,
                detail,
            });
        }
        Some(Some(entry.token.clone()))
    }

    /// Reads the table again, unless it was read after `asked` (a read that started after the
    /// caller missed answers it too); waits first until [`MISS_GAP`] has passed since the last
    /// read; `None` reads it at once (the periodic refresh). Tokens revoked in the table leave memory; new ones
    /// join; those known keep their deadline and bookkeeping.
    pub async fn refresh(&self, asked: Option<Instant>) {
        if self.backing.is_none() && self.shared.is_none() {
            return;
        }
        let mut last = self.read.lock().await;
        if let (Some(asked), Some(before)) = (asked, *last) {
            if before >= asked {
                return;
            }
            // One read at most per gap: the misses meanwhile wait for it (holding the lock), and
            // every miss that arrived before a read is answered by it.
            if let Some(wait) = MISS_GAP.checked_sub(before.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        *last = Some(Instant::now());
        // Whether `rows` are all the tokens in force (else those known and not revoked stay).
        let mut complete = true;
        let mut rows = Vec::new();
        if let Some(backing) = self.backing.clone() {
            match tokio::task::spawn_blocking(move || read_rows(&backing.path)).await {
                Ok(Ok(read)) => rows = read,
                // A store the writer has not made yet, or a disk that fails: what is known stays.
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "API tokens: cannot read the store");
                    complete = false;
                }
                Err(_) => complete = false,
            }
        }
        let mut revoked = Vec::new();
        if let Some(shared) = &self.shared {
            match tokio::time::timeout(Duration::from_secs(2), shared.all()).await {
                Ok(Ok(book)) => {
                    for row in book {
                        let known = rows.iter().position(|r| r.id == row.id);
                        match (row.revoked_ms, known) {
                            (Some(at), known) => {
                                if let Some(i) = known {
                                    rows.swap_remove(i);
                                    if let Some(b) = &self.backing {
                                        b.store
                                            .auth(AuthWrite::Token(TokenWrite::Revoke { id: row.id, revoked_ms: at }));
                                    }
                                }
                                revoked.push(row.id);
                            }
                            (None, None) => rows.push(row),
                            (None, Some(_)) => {}
                        }
                    }
                }
                // Unreachable: what this instance knows stays in force.
                _ => complete = false,
            }
        }
        self.replace(&rows, complete, &revoked);
    }

    /// The tokens in memory become those of `rows` (see [`Tokens::refresh`]), and, when `rows` are
    /// not `complete`, those known before that are not `revoked`.
    fn replace(&self, rows: &[TokenRow], complete: bool, revoked: &[[u8; 16]]) {
        let now = now_ms();
        let mut live = self.live.write();
        let mut next = HashMap::with_capacity(rows.len());
        for row in rows {
            let handle = Handle(row.id);
            match live.remove(&handle) {
                Some(mut entry) => {
                    entry.unsaved = None;
                    next.insert(handle, entry);
                }
                None => {
                    if let Some(entry) = Entry::from_row(row, now) {
                        next.insert(handle, entry);
                    }
                }
            }
        }
        // Made by this process but not yet written by the writer: kept for a while.
        let mut gone = false;
        for (handle, entry) in live.drain() {
            let kept = !complete && !revoked.contains(&handle.0);
            if kept || entry.unsaved.is_some_and(|u| u.elapsed() < Duration::from_secs(30)) {
                next.insert(handle, entry);
            } else {
                gone = true;
            }
        }
        *live = next;
        drop(live);
        if gone {
            self.ended.send_modify(|n| *n += 1);
        }
    }

    /// Reads the table again every [`REFRESH_EVERY`] until `shutdown`.
    pub fn spawn_refresh(self: &Arc<Self>, mut shutdown: crate::shutdown::Shutdown) {
        if self.backing.is_none() && self.shared.is_none() {
            return;
        }
        let tokens = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval_at(tokio::time::Instant::now() + REFRESH_EVERY, REFRESH_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => tokens.refresh(None).await,
                    () = shutdown.stopped() => break,
                }
            }
        });
    }

    /// Revokes the token `handle`; the one revoked, if it was live.
    pub async fn revoke(&self, handle: Handle) -> Option<Token> {
        let entry = self.live.write().remove(&handle)?;
        self.ended.send_modify(|n| *n += 1);
        let now = now_ms();
        if let Some(b) = &self.backing {
            b.store.auth(AuthWrite::Token(TokenWrite::Revoke { id: handle.0, revoked_ms: now }));
        }
        let t = &entry.token;
        self.share(TokenRow {
            id: handle.0,
            secret: entry.secret,
            name: t.name.clone(),
            user: t.user.to_string(),
            role: t.role.as_str().to_owned(),
            created_ms: t.created_ms,
            used_ms: t.used_ms,
            expires_ms: t.expires_ms,
            revoked_ms: Some(now),
        })
        .await;
        Some(entry.token)
    }

    /// The live tokens (expired ones too, until revoked), of `user` only or of everyone, newest
    /// first.
    pub async fn list(&self, user: Option<&str>) -> Vec<Token> {
        let mut all: Vec<Token> = self
            .live
            .read()
            .values()
            .filter(|e| user.is_none_or(|u| &*e.token.user == u))
            .map(|e| e.token.clone())
            .collect();
        all.sort_by_key(|t| std::cmp::Reverse(t.created_ms));
        all
    }

    /// Whether the token `handle` is in force: known, not revoked and not past its expiry (an open
    /// socket of a token no longer in force closes).
    pub fn is_live(&self, handle: Handle) -> bool {
        self.live.read().get(&handle).is_some_and(|e| !e.expired())
    }

    /// Moves whenever tokens leave memory (revoked here, by the command, or on another instance).
    pub fn ended(&self) -> tokio::sync::watch::Receiver<u64> {
        self.ended.subscribe()
    }

    /// Whether the token `handle` has passed its expiry (for the views).
    pub fn is_expired(&self, handle: Handle) -> bool {
        self.live.read().get(&handle).is_some_and(Entry::expired)
    }
}

/// The tokens not revoked in the store file at `path`.
fn read_rows(path: &std::path::Path) -> Result<Vec<TokenRow>, crate::store::StoreError> {
    let conn = crate::store::db::open_reader(path)?;
    crate::store::auth::tokens::live(&conn)
}

#[cfg(test)]
mod tests;
