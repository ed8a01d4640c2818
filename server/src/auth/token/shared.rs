//! API tokens across a cluster: every instance keeps its own history store, so a token made by
//! `livedash token create` on one machine (or on the Sessions view of one instance) is also put in
//! Redis, in one hash under the cluster's prefix (`P:tokens`: the handle in hex to the row, hash of
//! the secret only), and a revocation marks the row there. Each instance reads the hash with its
//! store when it misses a token (at most once a second) and every few seconds, so that any
//! instance honours a token made on another and drops a revoked one within seconds. While Redis is
//! unreachable each instance goes on with the tokens it knows (its store and memory).
//!
//! Auth only knows this trait; the cluster implements it.

use futures_util::future::BoxFuture;

use crate::auth::shared::Unavailable;
use crate::store::auth::tokens::{TokenRow, hex};

/// The shared book of tokens.
pub trait SharedTokens: Send + Sync {
    /// Every token in the book (revoked ones too, marked).
    fn all(&self) -> BoxFuture<'_, Result<Vec<TokenRow>, Unavailable>>;

    /// Puts `row` in the book (a new token, or one revoked).
    fn put(&self, row: TokenRow) -> BoxFuture<'_, Result<(), Unavailable>>;
}

/// `row` as the book keeps it: `secret|user|role|created|expires|revoked|name` (hex, decimal ms,
/// `-` for none; the name last, as it may hold `|`).
pub fn encode(row: &TokenRow) -> String {
    let opt = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        hex(&row.secret),
        row.user,
        row.role,
        row.created_ms,
        opt(row.expires_ms),
        opt(row.revoked_ms),
        row.name
    )
}

/// The row of handle `id` (hex) kept as `value`; `None` for anything else.
pub fn decode(id: &str, value: &str) -> Option<TokenRow> {
    let mut parts = value.splitn(7, '|');
    let mut next = || parts.next();
    let secret = unhex::<32>(next()?)?;
    let user = next()?.to_owned();
    let role = next()?.to_owned();
    let created_ms = next()?.parse().ok()?;
    let opt = |s: &str| if s == "-" { Some(None) } else { s.parse().ok().map(Some) };
    let expires_ms = opt(next()?)?;
    let revoked_ms = opt(next()?)?;
    let name = next()?.to_owned();
    Some(TokenRow { id: unhex::<16>(id)?, secret, name, user, role, created_ms, used_ms: None, expires_ms, revoked_ms })
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_through_the_book_and_garbage_does_not() {
        let row = TokenRow {
            id: [1; 16],
            secret: [2; 32],
            name: "a|b".into(),
            user: "ann".into(),
            role: "viewer".into(),
            created_ms: 5,
            used_ms: None,
            expires_ms: Some(9),
            revoked_ms: None,
        };
        assert_eq!(decode(&hex(&row.id), &encode(&row)), Some(row.clone()));
        assert_eq!(decode("zz", &encode(&row)), None);
        assert_eq!(decode(&hex(&row.id), "nonsense"), None);
    }
}
