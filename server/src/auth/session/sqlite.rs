//! Sessions kept in the history store: every change handed to the store's one writer
//! ([`Store::auth`], never waiting), and the live ones read back at start ([`load`]).

use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::keep::Keep;
use super::model::EndReason;
use crate::auth::principal::Handle;
use crate::store::Store;
use crate::store::auth::AuthWrite;
use crate::store::auth::sessions::{self, SessionRow, SessionWrite};

/// The history store as a [`Keep`].
pub struct InStore(pub Arc<Store>);

impl Keep for InStore {
    fn made(&self, row: &SessionRow) -> BoxFuture<'_, ()> {
        // Queued: a restart within the writer's batch loses it, as it does every write.
        self.0.auth(AuthWrite::Session(SessionWrite::Made(row.clone())));
        async {}.boxed()
    }

    fn seen(&self, id: Handle, seen_ms: u64) {
        self.0.auth(AuthWrite::Session(SessionWrite::Seen { id: id.0, seen_ms }));
    }

    fn ended(&self, id: Handle, reason: EndReason, ended_ms: u64) {
        self.0.auth(AuthWrite::Session(SessionWrite::Ended { id: id.0, ended_ms, reason: reason.as_str() }));
    }

    fn find(&self, _id: Handle) -> BoxFuture<'_, Option<SessionRow>> {
        // Every live session of the store was loaded at start, and every later one made here.
        async { None }.boxed()
    }

    fn all(&self) -> BoxFuture<'_, Vec<SessionRow>> {
        // The same: memory has them all.
        async { Vec::new() }.boxed()
    }
}

/// The sessions the store kept that have not ended (none when it cannot be read: logged).
pub fn load(store: &Store) -> Vec<SessionRow> {
    sessions::live(&store.config().path).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "sessions: the kept sessions could not be read; everyone logs in anew");
        Vec::new()
    })
}
