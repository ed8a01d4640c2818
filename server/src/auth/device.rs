//! Device cookies, after OWASP's design against account lock-out: a browser that logged in gets a
//! signed cookie (`livedash_device`: HttpOnly, Secure over TLS, SameSite=Lax: it is no credential,
//! and a link from another site must carry it) bound to the user and that user's current password. Presenting a valid one puts the client on a budget of its
//! own ([`super::throttle::Who::Device`]), so an attack on the user from elsewhere never locks
//! out the browsers the user already logged in from. The cookie proves nothing by itself: the
//! password is still checked on every request.
//!
//! The signing key is kept in the data directory (`device.key`, 0600) so that cookies outlive a
//! restart; where it cannot be written, a key for this process's life is used instead.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

use super::credentials::{NONCE_LEN, Ticket};
use super::ticket::Version;
use crate::clock::millis;

/// The cookie's name.
pub const COOKIE_NAME: &str = "livedash_device";
/// How long a device cookie is good for.
pub const DEVICE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// How device cookies are made: the key they are signed with and the cookie's attributes.
#[derive(Clone)]
pub struct Devices {
    key: [u8; 32],
    /// Sent only over HTTPS (the server serves TLS, or its public URL is https).
    pub secure: bool,
    /// The path the cookie is for (the base path of `--public-url`, or `/`).
    pub path: String,
}

impl Devices {
    /// Cookies signed with `key`.
    pub fn new(key: [u8; 32], secure: bool, path: &str) -> Self {
        let path = if path.is_empty() { "/".to_owned() } else { format!("{}/", path.trim_end_matches('/')) };
        Self { key, secure, path }
    }

    /// The nonce of a valid, unexpired device cookie in `headers` for `user` at password `version`.
    pub fn read(&self, headers: &HeaderMap, user: &str, version: Option<Version>, now: u64) -> Option<[u8; NONCE_LEN]> {
        let version = version?;
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
            .filter_map(|value| Ticket::decode(&self.key, value))
            .find(|t| t.user == user && t.version == version && now < t.expiry_ms)
            .map(|t| t.nonce)
    }

    /// A `Set-Cookie` value giving this browser a device cookie for `user` at password `version`.
    pub fn issue(&self, user: &str, version: Version, now: u64, nonce: [u8; NONCE_LEN]) -> Option<HeaderValue> {
        let pass = Ticket { expiry_ms: now + millis(DEVICE_TTL), nonce, version, user: user.to_owned() };
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{COOKIE_NAME}={}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
            pass.encode(&self.key),
            self.path,
            DEVICE_TTL.as_secs()
        );
        HeaderValue::from_str(&cookie).ok()
    }
}

/// The device-cookie key kept at `path`, made (0600) when there is none; `Err` when it can be
/// neither read nor made.
pub fn load_or_create_key(path: &Path, fresh: [u8; 32]) -> io::Result<[u8; 32]> {
    match fs::read(path) {
        Ok(bytes) => {
            crate::permissions::warn_if_readable_by_others(path);
            bytes.try_into().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not a 32-byte key"))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(path)?;
            file.write_all(&fresh)?;
            file.sync_all()?;
            Ok(fresh)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(value).expect("ascii"));
        h
    }

    #[test]
    fn a_device_cookie_is_good_for_its_user_and_password_only() {
        let devices = Devices::new([1; 32], true, "/dash");
        let set = devices.issue("admin", [2; 8], 1_000, [3; NONCE_LEN]).expect("a header");
        let set = set.to_str().expect("ascii");
        assert!(set.contains("; Path=/dash/; Max-Age=2592000; HttpOnly; SameSite=Lax; Secure"), "{set}");
        let pair = set.split(';').next().expect("name=value");
        let headers = with_cookie(&format!("theme=dark; {pair}"));
        assert_eq!(devices.read(&headers, "admin", Some([2; 8]), 2_000), Some([3; NONCE_LEN]));
        assert_eq!(devices.read(&headers, "admin", Some([9; 8]), 2_000), None, "the password changed");
        assert_eq!(devices.read(&headers, "admin", None, 2_000), None, "the user is gone");
        assert_eq!(devices.read(&headers, "bob", Some([2; 8]), 2_000), None, "another user");
        assert_eq!(devices.read(&headers, "admin", Some([2; 8]), 1_000 + millis(DEVICE_TTL)), None, "expired");
        let other_key = Devices::new([4; 32], true, "/");
        assert_eq!(other_key.read(&headers, "admin", Some([2; 8]), 2_000), None, "signed with another key");
        assert_eq!(devices.read(&with_cookie("livedash_device=garbage"), "admin", Some([2; 8]), 0), None);
        assert!(
            !Devices::new([1; 32], false, "")
                .issue("a", [0; 8], 0, [0; NONCE_LEN])
                .expect("header")
                .to_str()
                .expect("ascii")
                .contains("Secure")
        );
    }

    #[test]
    fn the_key_is_made_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("livedash-device-key-{}", std::process::id()));
        let path = dir.join("device.key");
        let _ = fs::remove_dir_all(&dir);
        let first = load_or_create_key(&path, [5; 32]).expect("made");
        assert_eq!(load_or_create_key(&path, [6; 32]).expect("read"), first, "kept across restarts");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).expect("file").permissions().mode() & 0o777, 0o600);
        }
        fs::write(&path, b"short").expect("write");
        assert!(load_or_create_key(&path, [6; 32]).is_err());
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
