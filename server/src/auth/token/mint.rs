//! A new token: 32 random bytes after [`super::PREFIX`], in URL-safe base64 (a token fits a URL
//! and a Basic password as it is), and the row that keeps only its hash.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;

use crate::auth::principal::Handle;
use crate::auth::role::Role;
use crate::store::auth::tokens::TokenRow;

/// What every token starts with, so that a token is told from a password at a glance (and by
/// secret scanners).
pub const PREFIX: &str = "ldt_";

/// SHA-256 of a token, as the store keeps it.
pub fn secret_digest(secret: &str) -> [u8; 32] {
    sha2::Sha256::digest(secret.as_bytes()).into()
}

/// A new token of `user` with `role`, called `name`, made at `now_ms` (a wall label) and ending
/// `expires` later if given: its secret (to show once) and its row.
pub fn mint(user: &str, role: Role, name: &str, expires: Option<Duration>, now_ms: u64) -> (String, TokenRow) {
    let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(crate::auth::accounts::random::<32>()));
    let row = TokenRow {
        id: Handle::of(secret.as_bytes()).0,
        secret: secret_digest(&secret),
        name: name.to_owned(),
        user: user.to_owned(),
        role: role.as_str().to_owned(),
        created_ms: now_ms,
        used_ms: None,
        expires_ms: expires.map(|e| now_ms.saturating_add(crate::clock::millis(e))),
        revoked_ms: None,
    };
    (secret, row)
}
