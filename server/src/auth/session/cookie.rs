//! The session cookie: its name (`__Host-livedash_session` when served over TLS, where the
//! `__Host-` prefix makes the browser refuse it without `Secure`, `Path=/` and no `Domain`;
//! `livedash_session` on plain HTTP, which browsers allow only on loopback for such cookies'
//! purposes), its attributes (`HttpOnly`, `Secure` where TLS, `SameSite=Lax`, `Path=/`), and
//! reading it back from a request.

use std::time::Duration;

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

/// The cookie's name over TLS.
pub const NAME_TLS: &str = "__Host-livedash_session";
/// The cookie's name over plain HTTP.
pub const NAME_PLAIN: &str = "livedash_session";

/// The cookie's name when served with or without TLS.
pub fn name(tls: bool) -> &'static str {
    if tls { NAME_TLS } else { NAME_PLAIN }
}

/// A `Set-Cookie` value giving the browser `secret`; `max_age` makes it outlive the browser's
/// session ("remember this device"), else it goes when the browser closes.
pub fn set(secret: &str, tls: bool, max_age: Option<Duration>) -> Option<HeaderValue> {
    let secure = if tls { "; Secure" } else { "" };
    let age = max_age.map(|a| format!("; Max-Age={}", a.as_secs())).unwrap_or_default();
    HeaderValue::from_str(&format!("{}={secret}; Path=/; HttpOnly; SameSite=Lax{secure}{age}", name(tls))).ok()
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear(tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{}=; Path=/; HttpOnly; SameSite=Lax{secure}; Max-Age=0", name(tls)))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session secret the request's cookies hold, if any (the last one of the name wins nothing:
/// the first is taken, as the most specific path comes first).
pub fn read(headers: &HeaderMap, tls: bool) -> Option<String> {
    let wanted = name(tls);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == wanted && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_has_its_flags_and_is_read_back() {
        let tls = set("abc", true, None).expect("ascii");
        assert_eq!(tls, "__Host-livedash_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure");
        let plain = set("abc", false, Some(Duration::from_secs(60))).expect("ascii");
        assert_eq!(plain, "livedash_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; livedash_session=xyz; b=2"));
        assert_eq!(read(&headers, false).as_deref(), Some("xyz"));
        assert_eq!(read(&headers, true), None, "the TLS name only over TLS");
        assert!(clear(false).to_str().expect("ascii").contains("Max-Age=0"));
    }
}
