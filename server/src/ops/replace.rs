//! Replacing a file's content so that a reader (the server re-reading on SIGHUP) sees either the
//! old file or the new one, never a half-written one: a new file in the same directory (mode 0600,
//! the owner and group of the file it replaces), written, synced to disk, renamed over the old
//! one, and the directory synced so that the rename survives a crash. A symbolic link is followed:
//! the file it points to is replaced, the link stays. [`locked`] serializes the commands that
//! change one file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why the file could not be replaced.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {what}: {source}", path.display())]
pub struct ReplaceError {
    /// The file.
    pub path: PathBuf,
    /// The step that failed.
    pub what: &'static str,
    /// What the system said.
    pub source: io::Error,
}

/// The directory `path` is in: its parent, or `.` for a bare file name (whose parent is empty).
pub fn dir_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Runs `f` (a read, an edit and a [`replace`] of `path`) holding an exclusive `flock` on the
/// directory of `path`, so that two commands changing one file at once each see the other's
/// change instead of one undoing it. The directory rather than the file: the file is replaced,
/// and a lock on the old one would not hold back a process that opens the new one; nor a lock
/// file beside it, which would be left behind. The kernel lets go if the holder dies.
pub fn locked<T, E: From<ReplaceError>>(path: &Path, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let dir = dir_of(path);
    let fail = |source| ReplaceError { path: path.to_owned(), what: "locking its directory", source };
    let handle = File::open(dir).map_err(fail)?;
    handle.lock().map_err(fail)?;
    let result = f();
    let _ = handle.unlock();
    result
}

/// Replaces the content of `path` (made when missing) with `text`.
pub fn replace(path: &Path, text: &str) -> Result<(), ReplaceError> {
    let fail = |what: &'static str| move |source: io::Error| ReplaceError { path: path.to_owned(), what, source };
    // The file a link points to is the one to replace.
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).map_err(fail("following the link"))?,
        _ => path.to_owned(),
    };
    let dir = dir_of(&target).to_owned();
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = write_new(&temp, &target, text);
    let renamed = written.and_then(|()| fs::rename(&temp, &target).map_err(fail("renaming the new file over it")));
    if renamed.is_err() {
        let _ = fs::remove_file(&temp);
    }
    renamed?;
    // The rename itself on disk (a directory can be opened and synced on Unix).
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes `text` into the new file `temp`, mode 0600 and owned like `target` if that exists.
fn write_new(temp: &Path, target: &Path, text: &str) -> Result<(), ReplaceError> {
    let fail = |what: &'static str| move |source: io::Error| ReplaceError { path: target.to_owned(), what, source };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = fs::remove_file(temp); // a leftover of a run that was killed
    let mut file = options.open(temp).map_err(fail("creating a new file beside it"))?;
    #[cfg(unix)]
    if let Ok(old) = fs::metadata(target) {
        use std::os::unix::fs::MetadataExt;
        let new = file.metadata().map_err(fail("reading the new file's owner"))?;
        if (new.uid(), new.gid()) != (old.uid(), old.gid()) {
            std::os::unix::fs::fchown(&file, Some(old.uid()), Some(old.gid()))
                .map_err(fail("giving the new file the old one's owner and group"))?;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600)).map_err(fail("setting mode 0600"))?;
    }
    file.write_all(text.as_bytes()).map_err(fail("writing"))?;
    file.sync_all().map_err(fail("syncing to disk"))
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    #[test]
    fn replaces_in_place_with_mode_0600_through_a_link() {
        let dir = std::env::temp_dir().join(format!("livedash-replace-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("users");
        fs::write(&file, "old\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        replace(&link, "new\n").unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "new\n");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
        // Made when missing; no temporary file left.
        replace(&dir.join("fresh"), "x").unwrap();
        let mut names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["fresh", "link", "users"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
