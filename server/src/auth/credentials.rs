//! What clients present, parsed: `Authorization: Basic` values, and the signed passes the server
//! hands out (WebSocket tickets and device cookies, both a [`Ticket`]).
//!
//! Nothing here knows about HTTP frameworks (only `base64`, `hmac` and `sha2`), so the fuzz
//! target in `fuzz/` compiles this very file on its own and throws arbitrary bytes at it.
//! Every function returns `None` for anything malformed and never panics.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest `Authorization` value or ticket considered at all (a real one is far shorter).
pub const MAX_LEN: usize = 4096;
/// Random bytes that make each ticket unique.
pub const NONCE_LEN: usize = 16;
/// The bytes of the password version a ticket is bound to.
pub const VERSION_LEN: usize = 8;

/// `Basic <base64(user:password)>` → `(user, password)`. The scheme is case-insensitive; the
/// user name must not be empty; the password may contain `:`.
pub fn parse_basic(value: &[u8]) -> Option<(String, String)> {
    if value.len() > MAX_LEN {
        return None;
    }
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let encoded = encoded.trim();
    if encoded.is_empty() {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    if user.is_empty() {
        return None;
    }
    Some((user.to_owned(), password.to_owned()))
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length: this cannot fail.
    let Ok(mut m) = HmacSha256::new_from_slice(key) else { return [0; 32] };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// What an authentic ticket (or device cookie) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Milliseconds since the Unix epoch after which it is void.
    pub expiry_ms: u64,
    /// Makes it unique, so that it can be redeemed once (or budgeted on its own).
    pub nonce: [u8; NONCE_LEN],
    /// The password it was issued under (the start of the user's password version): a changed
    /// password voids it.
    pub version: [u8; VERSION_LEN],
    /// Whom it was issued to.
    pub user: String,
}

impl Ticket {
    /// `base64url(expiry ‖ nonce ‖ version ‖ user) . base64url(HMAC-SHA256(key, payload))`.
    pub fn encode(&self, key: &[u8]) -> String {
        let mut payload = Vec::with_capacity(8 + NONCE_LEN + VERSION_LEN + self.user.len());
        payload.extend_from_slice(&self.expiry_ms.to_be_bytes());
        payload.extend_from_slice(&self.nonce);
        payload.extend_from_slice(&self.version);
        payload.extend_from_slice(self.user.as_bytes());
        let tag = mac(key, &[&payload]);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The claims of a ticket made by [`Ticket::encode`] with the same key; `None` when it is
    /// malformed or its MAC does not match (checked in constant time before anything is read).
    pub fn decode(key: &[u8], ticket: &str) -> Option<Self> {
        if ticket.len() > MAX_LEN {
            return None;
        }
        let (payload, tag) = ticket.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut check = HmacSha256::new_from_slice(key).ok()?;
        check.update(&payload);
        check.verify_slice(&tag).ok()?;
        let (expiry, rest) = payload.split_first_chunk::<8>()?;
        let (nonce, rest) = rest.split_first_chunk::<NONCE_LEN>()?;
        let (version, user) = rest.split_first_chunk::<VERSION_LEN>()?;
        let user = std::str::from_utf8(user).ok()?;
        Some(Self { expiry_ms: u64::from_be_bytes(*expiry), nonce: *nonce, version: *version, user: user.to_owned() })
    }
}

/// Authorization values that must all be refused, for the tests here and in `auth`.
#[cfg(test)]
pub(crate) fn malformed_basic_examples() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        &b"Basic"[..],
        b"Basic ",
        b"",
        b"Bearer abc",
        b"Basic !!!notbase64",
        b"Basic YWRtaW4=",          // "admin": no colon
        b"Basic OnB3",              // ":pw": empty user name
        b"Basic /w==",              // 0xFF: not UTF-8 once decoded
        b"Basic \xff\xfe",          // raw non-UTF-8 bytes in the header
        b"basic YWRtaW46cHc= junk", // trailing garbage
    ]
    .iter()
    .map(|b| b.to_vec())
    .collect();
    v.push(format!("Basic {}", "A".repeat(64 * 1024)).into_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_values() {
        assert_eq!(parse_basic(b"Basic YWRtaW46cHc="), Some(("admin".into(), "pw".into())));
        assert_eq!(parse_basic(b"bAsIc YWRtaW46cHc="), Some(("admin".into(), "pw".into())));
        assert_eq!(parse_basic(b"Basic YTpiOmM="), Some(("a".into(), "b:c".into())), "colon in the password");
        for bad in malformed_basic_examples() {
            assert_eq!(parse_basic(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tickets_round_trip_and_reject_other_keys_and_edits() {
        let t = Ticket { expiry_ms: 123, nonce: [7; NONCE_LEN], version: [3; VERSION_LEN], user: "ålice".into() };
        let s = t.encode(b"key");
        assert_eq!(Ticket::decode(b"key", &s), Some(t));
        assert_eq!(Ticket::decode(b"other", &s), None);
        assert_eq!(Ticket::decode(b"key", &s[1..]), None);
        assert_eq!(Ticket::decode(b"key", &s.replace('.', "")), None);
        for garbage in ["", ".", "abc", "a.b", "%%%.%%%", "....."] {
            assert_eq!(Ticket::decode(b"key", garbage), None, "{garbage:?}");
        }
    }
}
