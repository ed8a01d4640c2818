//! [`AuditFile`]: the audit log as JSON lines in `<data-dir>/audit.log`, written by a thread of its
//! own so that a slow or failing disk never holds up a request: records reach it through a bounded
//! queue ([`QUEUE`]); a full queue drops the line (counted), a failed write is logged (once a
//! minute) and the file is opened again for the next line.
//!
//! Rotated by size: past [`Rotation::max_bytes`] (8 MiB) the file becomes `audit.log.1`, the older
//! ones move up to `audit.log.4`, and the oldest is dropped: at most 40 MiB on disk. (A rotation
//! crate would bring a time library and more than these few lines do; tracing-appender rotates by
//! time only.) The size is the file's own, read before each line, so that the lines `livedash
//! token` appends while the server runs count too (and a file that command rotated away is left
//! for the new one). The files are readable by their owner only: they name users and addresses.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use crate::store::auth::audit::AuditRow;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "audit.log";

/// Lines waiting for the disk at most.
pub const QUEUE: usize = 4_096;

/// When the file is rotated and how many old files are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// The size past which the file is rotated.
    pub max_bytes: u64,
    /// Old files kept (`audit.log.1` the newest).
    pub keep: u32,
}

impl Default for Rotation {
    fn default() -> Self {
        Self { max_bytes: 8 << 20, keep: 4 }
    }
}

enum Job {
    Line(String),
    Flush(SyncSender<()>),
}

/// The writer of the audit file (see the module's documentation).
pub struct AuditFile {
    jobs: SyncSender<Job>,
    dropped: Arc<AtomicU64>,
}

impl AuditFile {
    /// Writes to `path` (made, with its directory, when the first line comes), rotated by the
    /// default [`Rotation`].
    pub fn start(path: PathBuf) -> Self {
        Self::with_rotation(path, Rotation::default())
    }

    /// Writes to `path`, rotated by `rotation`.
    pub fn with_rotation(path: PathBuf, rotation: Rotation) -> Self {
        let (jobs, rx) = sync_channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        let spawned =
            std::thread::Builder::new().name("audit-log".into()).spawn(move || run(&path, rotation, &rx, &lost));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the audit log's writer: records are kept in the store only");
        }
        Self { jobs, dropped }
    }

    /// Hands `line` (without its newline) to the writer; never waits.
    pub fn write(&self, line: String) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.jobs.try_send(Job::Line(line)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits (at most `timeout`) until every line handed over before is written; `false` if it
    /// was not (for tests and a clean stop).
    pub fn flush(&self, timeout: Duration) -> bool {
        let (done, wait) = sync_channel(1);
        self.jobs.send(Job::Flush(done)).is_ok() && wait.recv_timeout(timeout).is_ok()
    }

    /// Lines lost: the queue was full, or the disk refused them.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// `row` as one JSON line: `{"time":"2026-12-05T21:00:00.000Z","ts_ms":..,"kind":"login",
/// "user":"admin","addr":"127.0.0.1","detail":{..}}`.
pub fn line(row: &AuditRow) -> String {
    let time = humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_millis(row.ts_ms));
    let detail: serde_json::Value = serde_json::from_str(&row.detail).unwrap_or_default();
    serde_json::json!({
        "time": time.to_string(), "ts_ms": row.ts_ms, "kind": row.kind, "user": row.user, "addr": row.addr,
        "detail": detail,
    })
    .to_string()
}

/// The open file and its size.
struct Open {
    file: File,
    size: u64,
}

fn run(path: &Path, rotation: Rotation, jobs: &Receiver<Job>, dropped: &AtomicU64) {
    let mut open: Option<Open> = None;
    let mut last_warning: Option<Instant> = None;
    while let Ok(job) = jobs.recv() {
        let line = match job {
            Job::Line(line) => line,
            Job::Flush(done) => {
                let _ = done.try_send(());
                continue;
            }
        };
        if let Err(e) = append(path, rotation, &mut open, &line) {
            open = None;
            dropped.fetch_add(1, Ordering::Relaxed);
            if last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                last_warning = Some(Instant::now());
                tracing::warn!(path = %path.display(), error = %e, "cannot write the audit log (records still go to the store)");
            }
        }
    }
}

fn append(path: &Path, rotation: Rotation, open: &mut Option<Open>, line: &str) -> std::io::Result<()> {
    let bytes = line.len() as u64 + 1;
    // `livedash token` appends to the same file while the server runs (and may rotate it): the
    // size that decides is the file's at `path` now, and a file moved away is left for the new one.
    if let Some(o) = open.as_mut() {
        match size_at(path, &o.file) {
            Some(size) => o.size = size,
            None => *open = None,
        }
    }
    let mut o = match open.take() {
        Some(o) => o,
        None => open_file(path)?,
    };
    if o.size > 0 && o.size + bytes > rotation.max_bytes {
        drop(o);
        rotate(path, rotation.keep)?;
        o = open_file(path)?;
    }
    let o = open.insert(o);
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    o.file.write_all(&buf)?;
    o.size += bytes;
    Ok(())
}

/// The size of the file at `path` if it is still `file` (not renamed away by another process's
/// rotation, not removed); `None` otherwise.
fn size_at(path: &Path, file: &File) -> Option<u64> {
    let there = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let ours = file.metadata().ok()?;
        if (ours.dev(), ours.ino()) != (there.dev(), there.ino()) {
            return None;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Some(there.len())
}

fn open_file(path: &Path) -> std::io::Result<Open> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    let size = file.metadata()?.len();
    Ok(Open { file, size })
}

/// `path.N` for the `n`th old file.
pub fn old(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn rotate(path: &Path, keep: u32) -> std::io::Result<()> {
    if keep == 0 {
        return std::fs::remove_file(path);
    }
    for n in (1..keep).rev() {
        match std::fs::rename(old(path, n), old(path, n + 1)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::rename(path, old(path, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("livedash-audit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn lines_rotate_by_size_and_the_oldest_file_goes() {
        let dir = dir("rotate");
        let path = dir.join(FILE_NAME);
        let file = AuditFile::with_rotation(path.clone(), Rotation { max_bytes: 100, keep: 2 });
        for i in 0..10 {
            file.write(format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(30)));
        }
        assert!(file.flush(Duration::from_secs(10)));
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        // 47-byte lines, two to a file: 8 and 9 in the file, 6 and 7 in .1, 4 and 5 in .2.
        assert!(read(&path).starts_with("{\"n\":8,") && read(&path).lines().count() == 2, "{}", read(&path));
        assert!(read(&old(&path, 1)).starts_with("{\"n\":6,"));
        assert!(read(&old(&path, 2)).starts_with("{\"n\":4,"));
        assert!(!old(&path, 3).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0), 0o600);
        }
        assert_eq!(file.dropped(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lines_another_process_appends_count_toward_the_rotation() {
        let dir = dir("shared");
        let path = dir.join(FILE_NAME);
        let file = AuditFile::with_rotation(path.clone(), Rotation { max_bytes: 100, keep: 2 });
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        file.write("{\"n\":1}".to_owned());
        assert!(file.flush(Duration::from_secs(10)));
        // `livedash token create` appends its record while the server runs.
        let cli = format!("{{\"by\":\"cli\",\"pad\":\"{}\"}}\n", "x".repeat(80));
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(cli.as_bytes()))
            .expect("append as the command does");
        file.write("{\"n\":2}".to_owned());
        assert!(file.flush(Duration::from_secs(10)));
        // Before: the writer counted its own 9 bytes only and wrote past 100 without rotating.
        assert_eq!(read(&path), "{\"n\":2}\n", "rotated before the line that would pass the size");
        assert_eq!(read(&old(&path, 1)), format!("{{\"n\":1}}\n{cli}"));

        // The command rotated the file itself: the writer goes on in the new one.
        std::fs::rename(&path, old(&path, 1)).expect("rotate as the command does");
        std::fs::write(&path, "{\"by\":\"cli\"}\n").expect("a new file");
        file.write("{\"n\":3}".to_owned());
        assert!(file.flush(Duration::from_secs(10)));
        assert_eq!(read(&path), "{\"by\":\"cli\"}\n{\"n\":3}\n");
        assert_eq!(read(&old(&path, 1)), "{\"n\":2}\n", "nothing written to the file moved away");
        assert_eq!(file.dropped(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_disk_that_refuses_loses_lines_counted_and_never_waits() {
        // A "directory" that is a file: nothing can be made under it.
        let dir = dir("refuse");
        std::fs::create_dir_all(&dir).expect("dir");
        let blocker = dir.join("not-a-dir");
        std::fs::write(&blocker, b"").expect("file");
        let file = AuditFile::start(blocker.join(FILE_NAME));
        for i in 0..3 {
            file.write(format!("{{\"n\":{i}}}"));
        }
        assert!(file.flush(Duration::from_secs(10)));
        assert_eq!(file.dropped(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
