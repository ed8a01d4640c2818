//! The lock that makes the self-signed certificate's files one unit: an exclusive `flock` on
//! `tls/.lock` in the data directory, held while the files are read to decide, written, renamed
//! and read back. Two processes sharing a data directory (or two renewals in one) then never
//! interleave their renames, which could leave a key that does not match its certificate.
//!
//! A lock rather than a new directory swapped in by one rename: the files keep the paths people
//! pin and point other tools at (`tls/cert.pem`, `tls/key.pem`), and the kernel lets the lock go
//! when its holder dies, so a crash never leaves it held. Its limit: a file system where `flock`
//! is not shared between hosts (some network file systems) does not serialize hosts.

use std::fs;
use std::path::Path;

use super::error::TlsError;

/// Runs `f` while holding the lock of the certificate directory `dir` (made if missing).
pub(super) fn locked<T>(dir: &Path, f: impl FnOnce() -> Result<T, TlsError>) -> Result<T, TlsError> {
    let write_error = |error| TlsError::Write { path: dir.join(".lock"), error };
    fs::create_dir_all(dir).map_err(|error| TlsError::Write { path: dir.to_path_buf(), error })?;
    let file =
        fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(".lock")).map_err(write_error)?;
    file.lock().map_err(write_error)?;
    let result = f();
    // Closing the file lets the lock go as well; unlocking first says so.
    let _ = file.unlock();
    result
}
