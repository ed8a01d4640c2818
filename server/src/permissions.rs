//! Secret files (TLS keys, the device-cookie key) should be readable by their owner alone: a
//! warning names the file and the fix when others can read one.

use std::path::Path;

/// Warns when others than the owner can read the secret file at `path`.
pub fn warn_if_readable_by_others(path: &Path) {
    if readable_by_others(path) {
        tracing::warn!(path = %path.display(), "a secret file is readable by others than its owner; run `chmod 600` on it");
    }
}

/// Whether group or others may read `path` (false where that cannot be told).
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o044 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_file_others_can_read_is_told_apart() {
        let path = std::env::temp_dir().join(format!("livedash-perm-{}", std::process::id()));
        std::fs::write(&path, b"secret").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(!readable_by_others(&path));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        assert!(readable_by_others(&path));
        std::fs::remove_file(&path).expect("remove");
    }
}
