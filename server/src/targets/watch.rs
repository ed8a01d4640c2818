//! The targets file, watched: a [`TargetsWatch`] re-reads the file when it changes and publishes
//! the last good set on a `tokio::sync::watch` channel of [`TargetsState`].
//!
//! It watches the file's *directory* (inotify through `notify`), not the file: editors and
//! configuration tools replace a file by renaming a new one over it, which a watch on the file
//! itself would lose. Events naming the file force a re-read; other events in the directory (a
//! symlink swapped over it, as Kubernetes does) re-read it when its size, time or inode moved.
//! Events are gathered for [`DEBOUNCE`] so that a save in several steps is read once, complete.
//! Every [`POLL`] the file's metadata is also compared, for file systems without inotify (NFS,
//! some container mounts) and for a directory itself replaced.
//!
//! A bad file (unreadable, deleted, invalid) keeps the previous targets and sets
//! [`TargetsState::error`], logged once per distinct error; the next good file clears it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::error::{Location, Problem, TargetsError};
use super::file;
use super::target::Target;
use crate::shutdown::Shutdown;

/// How long events are gathered before the file is read.
pub const DEBOUNCE: Duration = Duration::from_millis(200);
/// How often the file's metadata is compared, inotify or not.
pub const POLL: Duration = Duration::from_secs(5);

/// The targets as last read well, and whether the file is bad now.
#[derive(Debug, Clone)]
pub struct TargetsState {
    /// The last good set, in file order.
    pub targets: Arc<[Target]>,
    /// Why the file on disk is not used now (its [`TargetsError`] text); `None` when it is.
    pub error: Option<Arc<str>>,
    /// Where in the file that error is, when it is at a place (for `/api/health`).
    pub error_at: Option<Location>,
    /// When [`Self::targets`] were read (the first load, or the last change).
    pub loaded: Instant,
    /// How many times the set changed since the start (a re-read that finds the same set is no
    /// change).
    pub changes: u64,
}

/// How a watch runs: [`DEBOUNCE`], [`POLL`] and inotify by default; tests shorten or switch.
#[derive(Debug, Clone, Copy)]
pub struct WatchOptions {
    /// How long events are gathered before a read.
    pub debounce: Duration,
    /// How often the metadata is compared.
    pub poll: Duration,
    /// Whether to use inotify at all (off: the poll alone).
    pub inotify: bool,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self { debounce: DEBOUNCE, poll: POLL, inotify: true }
    }
}

/// A running watch of one targets file. Dropping it does not stop the task: the shutdown does.
pub struct TargetsWatch {
    path: PathBuf,
    state: watch::Receiver<TargetsState>,
    task: JoinHandle<()>,
}

/// What the inotify thread tells the task.
#[derive(Default)]
struct Wake {
    /// An event named the file itself.
    named: AtomicBool,
    notify: Notify,
}

/// What the file looked like: size, time, inode; `None` when it could not be seen.
type Stamp = Option<(u64, Option<SystemTime>, u64)>;

impl TargetsWatch {
    /// Reads the file (a bad file is an error: there is no last good set yet) and starts
    /// watching it until `shutdown`.
    pub async fn start(path: PathBuf, options: WatchOptions, shutdown: Shutdown) -> Result<Self, TargetsError> {
        // Watching first, reading second: a change in between is not lost.
        let wake = Arc::new(Wake::default());
        let watcher = if options.inotify { inotify(&path, &wake) } else { None };
        let stamp = stamp(&path).await;
        let targets = load(&path).await?;
        let first =
            TargetsState { targets: targets.into(), error: None, error_at: None, loaded: Instant::now(), changes: 0 };
        let (tx, state) = watch::channel(first);
        let task = tokio::spawn(run(Task { path: path.clone(), options, tx, wake, stamp }, watcher, shutdown));
        Ok(Self { path, state, task })
    }

    /// The file watched.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A receiver of every new state (new targets, an error set or cleared).
    pub fn subscribe(&self) -> watch::Receiver<TargetsState> {
        self.state.clone()
    }

    /// The state now.
    pub fn state(&self) -> TargetsState {
        self.state.borrow().clone()
    }

    /// Waits for the task to end (after the shutdown).
    pub async fn stopped(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the targets file's watch ended abnormally");
        }
    }
}

/// An inotify watch of the file's directory that wakes the task, or `None` (logged) when the
/// system cannot give one: the poll still runs.
fn inotify(path: &Path, wake: &Arc<Wake>) -> Option<notify::RecommendedWatcher> {
    let name = path.file_name()?.to_owned();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let wake = Arc::clone(wake);
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        // Opening and reading (our own reads among them) change nothing.
        if matches!(event.kind, EventKind::Access(a) if a != notify::event::AccessKind::Close(notify::event::AccessMode::Write))
        {
            return;
        }
        if event.paths.iter().any(|p| p.file_name() == Some(&name)) {
            wake.named.store(true, Ordering::Relaxed);
        }
        wake.notify.notify_one();
    };
    let watched = notify::recommended_watcher(handler).and_then(|mut w| {
        w.watch(&dir, RecursiveMode::NonRecursive)?;
        Ok(w)
    });
    match watched {
        Ok(w) => Some(w),
        Err(e) => {
            let poll = humantime::format_duration(POLL);
            tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the targets file's directory; polling it every {poll}");
            None
        }
    }
}

struct Task {
    path: PathBuf,
    options: WatchOptions,
    tx: watch::Sender<TargetsState>,
    wake: Arc<Wake>,
    stamp: Stamp,
}

async fn run(mut task: Task, watcher: Option<notify::RecommendedWatcher>, mut shutdown: Shutdown) {
    // Kept for the task's life: dropping it ends the inotify watch.
    let _watcher = watcher;
    let mut poll = tokio::time::interval(task.options.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    poll.tick().await;
    let mut due: Option<tokio::time::Instant> = None;
    loop {
        let debounced = async {
            match due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.stopped() => break,
            () = task.wake.notify.notified() => {
                // Gathered from the first event on, not restarted by each: a directory that is
                // never quiet still gets its file read.
                due = due.or_else(|| Some(tokio::time::Instant::now() + task.options.debounce));
            }
            () = debounced => {
                due = None;
                let named = task.wake.named.swap(false, Ordering::Relaxed);
                task.check(named).await;
            }
            _ = poll.tick() => task.check(false).await,
        }
    }
}

impl Task {
    /// Re-reads the file if `force`, or if its metadata moved since the last read.
    async fn check(&mut self, force: bool) {
        let now = stamp(&self.path).await;
        if !force && now == self.stamp {
            return;
        }
        self.stamp = now;
        let loaded = load(&self.path).await;
        self.tx.send_if_modified(|state| apply(state, loaded));
    }
}

/// The state after a read: a new good set replaces the old (or clears the error), a bad file
/// keeps it and sets the error. Whether anything changed.
fn apply(state: &mut TargetsState, loaded: Result<Vec<Target>, TargetsError>) -> bool {
    match loaded {
        Ok(targets) => {
            let same = *state.targets == *targets;
            let was_bad = state.error.take().is_some();
            state.error_at = None;
            if same {
                if was_bad {
                    tracing::info!(targets = targets.len(), "targets file good again (same targets as before)");
                }
                return was_bad;
            }
            let d = super::diff::diff(&state.targets, &targets);
            tracing::info!(
                targets = targets.len(),
                added = d.added.len(),
                removed = d.removed.len(),
                changed = d.changed.len(),
                "targets file read"
            );
            *state = TargetsState {
                targets: targets.into(),
                error: None,
                error_at: None,
                loaded: Instant::now(),
                changes: state.changes + 1,
            };
            true
        }
        Err(e) => {
            let text = e.to_string();
            if state.error.as_deref() == Some(text.as_str()) {
                return false;
            }
            tracing::warn!(error = %text, kept = state.targets.len(), "targets file refused; the last good targets are kept");
            state.error = Some(Arc::from(text));
            state.error_at = e.at;
            true
        }
    }
}

/// The file read and parsed on a blocking thread.
async fn load(path: &Path) -> Result<Vec<Target>, TargetsError> {
    let owned = path.to_owned();
    tokio::task::spawn_blocking(move || file::load(&owned))
        .await
        .unwrap_or_else(|e| Err(TargetsError::file(path, Problem::Unreadable(format!("the read failed: {e}")))))
}

/// The file's size, time and inode (following symlinks), on a blocking thread.
async fn stamp(path: &Path) -> Stamp {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let meta = std::fs::metadata(&path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some((meta.len(), meta.modified().ok(), inode))
    })
    .await
    .ok()
    .flatten()
}
