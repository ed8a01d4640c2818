//! What keeps a read in bounds while it runs: a [`Watch`] (the flag its client's request sets
//! when it goes, checked between chunks, by SQLite's progress handler within a statement and while
//! waiting for a lock; and the damaged chunks it skipped), and a [`Permit`], one of the few reads
//! the store serves at once.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;

use super::error::ReadError;
use crate::store::state::Shared;

/// SQLite virtual machine steps between two looks at the flag within a statement.
const PROGRESS_STEPS: i32 = 10_000;
/// How long a read waits for a lock (a writer's checkpoint, another process), in steps of
/// [`LOCK_STEP`].
const LOCK_WAITS: i32 = 500;
const LOCK_STEP: Duration = Duration::from_millis(10);

/// A read's cancellation flag and what it skipped.
#[derive(Default)]
pub struct Watch {
    cancelled: Arc<AtomicBool>,
    skipped: Cell<u64>,
    /// Called before each chunk (tests: something happening in the middle of a read).
    #[cfg(test)]
    pub on_chunk: std::cell::RefCell<Option<Box<dyn FnMut() + Send>>>,
}

impl Watch {
    /// A watch on `cancelled`, which the read's owner sets when its answer is no longer wanted.
    pub fn new(cancelled: Arc<AtomicBool>) -> Self {
        Self { cancelled, ..Self::default() }
    }

    /// Makes `conn` stop a statement, or a wait for a lock, once the flag is set (the statement
    /// then fails with an interrupt, which the read reports as [`ReadError::Cancelled`]).
    pub fn guard(&self, conn: &mut Connection) -> Result<(), ReadError> {
        let flag = self.cancelled.clone();
        conn.progress_handler(PROGRESS_STEPS, Some(move || flag.load(Ordering::Relaxed)))?;
        let flag = self.cancelled.clone();
        conn.busy_handler(Some(move |waits: i32| {
            if flag.load(Ordering::Relaxed) || waits >= LOCK_WAITS {
                return false;
            }
            std::thread::sleep(LOCK_STEP);
            true
        }))?;
        Ok(())
    }

    /// Between two chunks: `Err(Cancelled)` once the flag is set.
    pub fn check(&self) -> Result<(), ReadError> {
        #[cfg(test)]
        if let Some(hook) = self.on_chunk.borrow_mut().as_mut() {
            hook();
        }
        if self.is_cancelled() { Err(ReadError::Cancelled) } else { Ok(()) }
    }

    /// Whether the flag is set.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// A damaged chunk was skipped.
    pub fn skip(&self) {
        self.skipped.set(self.skipped.get() + 1);
    }

    /// How many damaged chunks were skipped.
    pub fn skipped(&self) -> u64 {
        self.skipped.get()
    }
}

/// One of the reads the store serves at once (at most `--store-max-reads`); given back when
/// dropped.
#[derive(Debug)]
pub struct Permit {
    shared: Arc<Shared>,
}

impl Permit {
    /// A permit if fewer than `max` reads are running, else `None`.
    pub fn try_take(shared: &Arc<Shared>, max: usize) -> Option<Self> {
        let taken =
            shared.reads_running.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1));
        taken.is_ok().then(|| Self { shared: shared.clone() })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.shared.reads_running.fetch_sub(1, Ordering::AcqRel);
    }
}
