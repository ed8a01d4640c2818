//! The targets file's state as `/api/health` tells it: `{"path", "hosts", "changes", "error",
//! "line", "column"}` (`error`, `line` and `column` null while the file is good). Written by the
//! fleet's reconciler, read by the health handler; cheap to clone (shared).

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;

use crate::targets::{TargetsError, TargetsState};

/// What `/api/health` says of the targets file.
#[derive(Debug, Clone, Serialize)]
pub struct TargetsReport {
    /// The file.
    pub path: PathBuf,
    /// How many hosts run (the last good set).
    pub hosts: usize,
    /// How many times the set changed since the start.
    pub changes: u64,
    /// Why the file on disk is not used now (the last good set runs on).
    pub error: Option<Arc<str>>,
    /// The error's line, when it is at a place.
    pub line: Option<usize>,
    /// And its column, when the parser gives one.
    pub column: Option<usize>,
}

/// The targets file's state, shared.
#[derive(Debug, Clone)]
pub struct TargetsHealth(Arc<Mutex<TargetsReport>>);

impl TargetsHealth {
    /// The file at `path`, with `hosts` running from it at start.
    pub fn new(path: PathBuf, hosts: usize) -> Self {
        Self(Arc::new(Mutex::new(TargetsReport { path, hosts, changes: 0, error: None, line: None, column: None })))
    }

    /// The watch's state after it was applied, with `hosts` running.
    pub fn update(&self, state: &TargetsState, hosts: usize) {
        let mut report = self.0.lock();
        report.hosts = hosts;
        report.changes = state.changes;
        report.error.clone_from(&state.error);
        report.line = state.error_at.map(|at| at.line);
        report.column = state.error_at.and_then(|at| at.column);
    }

    /// The file could not be used at all (`hosts` run on from before).
    pub fn refused(&self, error: &TargetsError, hosts: usize) {
        let mut report = self.0.lock();
        report.hosts = hosts;
        report.error = Some(Arc::from(error.to_string()));
        report.line = error.at.map(|at| at.line);
        report.column = error.at.and_then(|at| at.column);
    }

    /// What it says now.
    pub fn report(&self) -> TargetsReport {
        self.0.lock().clone()
    }
}
