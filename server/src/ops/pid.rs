//! The PID file: the server writes its process ID to `$RUNTIME_DIRECTORY/livedash.pid` when systemd
//! gives it a runtime directory, else to `<data dir>/livedash.pid`, once it listens, and removes it
//! when it stops cleanly; `livedash users` reads it to send the server SIGHUP.

use std::path::{Path, PathBuf};

use super::replace::{ReplaceError, replace};

/// The PID file's name.
pub const PID_FILE: &str = "livedash.pid";

/// Where systemd's `RuntimeDirectory=` puts it, if anywhere.
fn runtime_dir() -> Option<PathBuf> {
    let dirs = std::env::var_os("RUNTIME_DIRECTORY")?;
    // Several `RuntimeDirectory=` names come as a `:`-separated list: the first is ours.
    let first = dirs.to_string_lossy().split(':').next().unwrap_or_default().to_owned();
    (!first.is_empty()).then(|| PathBuf::from(first))
}

/// Where a server with the data directory `data_dir` (and this process's environment) keeps it.
pub fn path(data_dir: &Path) -> PathBuf {
    runtime_dir().unwrap_or_else(|| data_dir.to_owned()).join(PID_FILE)
}

/// Where a command looks for a running server's PID file, in order: the runtime directory (when
/// the command itself runs under systemd), the data directory, and the package's runtime
/// directory `/run/livedash`.
pub fn candidates(data_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = runtime_dir().map(|d| d.join(PID_FILE)).into_iter().collect();
    out.push(data_dir.join(PID_FILE));
    out.push(Path::new("/run/livedash").join(PID_FILE));
    out.dedup();
    out
}

/// The process ID a PID file holds, if it holds one.
pub fn read(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok().filter(|&pid| pid > 1)
}

/// The server's PID file, removed by [`PidFile::remove`].
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    pid: u32,
}

impl PidFile {
    /// Writes this process's ID (the directory made if missing).
    pub fn write(data_dir: &Path) -> Result<Self, ReplaceError> {
        let path = path(data_dir);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let pid = std::process::id();
        replace(&path, &format!("{pid}\n"))?;
        Ok(Self { path, pid })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes it, unless another process has written its own ID there since.
    pub fn remove(self) {
        if read(&self.path) == Some(self.pid) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
