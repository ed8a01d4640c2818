//! Telling a running server to re-read its users file after `livedash users` changed it: through
//! systemd (`systemctl reload livedash`, whose `ExecReload` sends SIGHUP) when systemd runs and the
//! unit is active, else SIGHUP to the process in the PID file ([`super::pid`]) once it is known to
//! be a livedash, else a note that the server must be told by hand. Returns that note: the change
//! itself is made, so a server that could not be told is a warning, not a failure.

use std::path::Path;
use std::process::{Command, Stdio};

use super::pid;

/// The unit the package installs.
const UNIT: &str = "livedash";

/// Tells the server of the data directory `data_dir`; returns what was done, for standard error.
pub fn tell(data_dir: &Path) -> String {
    if Path::new("/run/systemd/system").exists()
        && succeeds(Command::new("systemctl").args(["is-active", "--quiet", UNIT]))
    {
        return match Command::new("systemctl").args(["reload", UNIT]).status() {
            Ok(s) if s.success() => format!("the server reloaded (systemctl reload {UNIT})"),
            Ok(s) => format!("warning: `systemctl reload {UNIT}` failed ({s}); the server still has the old accounts"),
            Err(e) => format!("warning: cannot run systemctl ({e}); run `systemctl reload {UNIT}`"),
        };
    }
    let mut stale = Vec::new();
    for file in pid::candidates(data_dir) {
        let Some(pid) = pid::read(&file) else { continue };
        if !is_livedash(pid) {
            stale.push(format!("{} names process {pid}, which is not a running livedash", file.display()));
            continue;
        }
        // SIGHUP through the `kill` program: the tree has no signal API (a crate such as nix or
        // libc would be a dependency for this one call, and calling libc directly is unsafe code,
        // which the workspace forbids).
        return match Command::new("kill").args(["-HUP", &pid.to_string()]).stderr(Stdio::piped()).output() {
            Ok(out) if out.status.success() => {
                format!("the server reloaded (SIGHUP to process {pid} from {})", file.display())
            }
            Ok(out) => format!(
                "warning: SIGHUP to process {pid} failed ({}); reload the server yourself",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => format!("warning: cannot run kill ({e}); send the server SIGHUP yourself"),
        };
    }
    let why = if stale.is_empty() { "no running server found".to_owned() } else { stale.join("; ") };
    format!(
        "note: {why}: a running server must be told (`systemctl reload {UNIT}` or SIGHUP), or it reads the file at \
         its next start"
    )
}

/// Whether the process `pid` exists and is a livedash (its command name as the kernel keeps it).
fn is_livedash(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|name| name.trim_end().starts_with("livedash"))
}

/// Whether `command` runs and exits 0.
fn succeeds(command: &mut Command) -> bool {
    command.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}
