//! The fleet's API token for `livedash:` targets (`--fleet-token-file`,
//! `LIVEDASH_FLEET_TOKEN_FILE`, `fleet_token_file`): read once at start-up, sent as
//! `Authorization: Bearer` to every livedash target (credentials in the targets file are refused).

use std::path::Path;
use std::sync::Arc;

/// The largest token file read (an API token is some fifty characters).
const MAX_BYTES: u64 = 4096;

/// The token, kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct FleetToken(Arc<str>);

impl FleetToken {
    /// The token, for the `Authorization` header.
    pub fn secret(&self) -> &Arc<str> {
        &self.0
    }
}

impl std::fmt::Debug for FleetToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FleetToken(..)")
    }
}

/// Reads the token from `path`: one token, surrounding white space (a final newline) ignored.
/// An unreadable, empty, oversized file or one holding more than one word is refused, saying why.
pub fn read(path: &Path) -> Result<FleetToken, String> {
    let size = std::fs::metadata(path).map_err(|e| format!("cannot be read: {e}"))?.len();
    if size > MAX_BYTES {
        return Err(format!("is {size} bytes: a token file holds one token ({MAX_BYTES} bytes at most)"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot be read: {e}"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err("is empty: it must hold the API token (`livedash token create`)".to_owned());
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("holds more than one token, or characters a header cannot carry: give one token".to_owned());
    }
    Ok(FleetToken(Arc::from(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("livedash-fleet-token-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("token");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    #[test]
    fn one_token_is_read_without_its_newline_and_never_shown() {
        let token = read(&file("good", "ldt_abc123\n")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&**token.secret(), "ldt_abc123");
        assert_eq!(format!("{token:?}"), "FleetToken(..)");
    }

    #[test]
    fn an_empty_missing_or_odd_file_is_refused_saying_why() {
        assert!(read(&file("empty", " \n")).is_err_and(|e| e.starts_with("is empty")));
        assert!(read(&file("two", "ldt_a ldt_b\n")).is_err_and(|e| e.contains("one token")));
        assert!(read(Path::new("/nonexistent/livedash-token")).is_err_and(|e| e.starts_with("cannot be read")));
        assert!(read(&file("big", &"x".repeat(5000))).is_err_and(|e| e.contains("5000 bytes")));
    }
}
