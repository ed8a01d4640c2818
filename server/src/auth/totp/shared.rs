//! Second factors across a cluster: every instance keeps its own store, so an enrolment or a
//! removal on one instance is also put in Redis (`P:totp`: each user to `E|secret|confirmed_ms|`
//! `recovery,...` or `R|removed_ms`), each instance reads it every [`super::REFRESH_EVERY`] (a user
//! enrolled on one instance is refused Basic with the password alone on every other within that
//! time), and the two things that must happen once are decided in Redis at the moment: a time step
//! taken ([`SharedTotp::take_step`]: a code used on one instance is refused on all) and a recovery
//! code spent ([`SharedTotp::spend`]). While Redis is unreachable each instance decides alone.
//!
//! Auth only knows this trait; the cluster implements it.

use futures_util::future::BoxFuture;

use crate::auth::shared::Unavailable;
use crate::store::auth::tokens::hex;

/// A user's entry in the shared book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Enrolled: the secret, when (a wall label, ms), the recovery codes' SHA-256 at enrolment.
    Enrolled {
        /// The TOTP secret.
        secret: Vec<u8>,
        /// When it was confirmed.
        confirmed_ms: u64,
        /// The recovery codes made with it.
        recovery: Vec<[u8; 32]>,
    },
    /// Removed at this time (a wall label, ms).
    Removed(u64),
}

/// What the book holds for one user: the entry, the last step taken anywhere, the recovery codes
/// spent anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    /// The user.
    pub user: String,
    /// Enrolled or removed.
    pub entry: Entry,
    /// The last time step taken on any instance.
    pub last_step: u64,
    /// The recovery codes spent on any instance.
    pub spent: Vec<[u8; 32]>,
}

/// The shared book of second factors.
pub trait SharedTotp: Send + Sync {
    /// Every user's entry.
    fn all(&self) -> BoxFuture<'_, Result<Vec<Shared>, Unavailable>>;

    /// Puts `user`'s `entry` in the book.
    fn put(&self, user: String, entry: Entry) -> BoxFuture<'_, Result<(), Unavailable>>;

    /// Takes time step `step` for `user`: true when no instance took it or a later one.
    fn take_step(&self, user: String, step: u64) -> BoxFuture<'_, Result<bool, Unavailable>>;

    /// Spends `user`'s recovery code `code` (its SHA-256): true the first time across the cluster.
    fn spend(&self, user: String, code: [u8; 32]) -> BoxFuture<'_, Result<bool, Unavailable>>;
}

/// `entry` as the book keeps it.
pub fn encode(entry: &Entry) -> String {
    match entry {
        Entry::Enrolled { secret, confirmed_ms, recovery } => {
            let codes: Vec<String> = recovery.iter().map(|c| hex(c)).collect();
            format!("E|{}|{confirmed_ms}|{}", hex(secret), codes.join(","))
        }
        Entry::Removed(at) => format!("R|{at}"),
    }
}

/// The entry kept as `value`; `None` for anything else.
pub fn decode(value: &str) -> Option<Entry> {
    let mut parts = value.split('|');
    match parts.next()? {
        "E" => {
            let secret = unhex(parts.next()?)?;
            let confirmed_ms = parts.next()?.parse().ok()?;
            let codes = parts.next()?;
            let recovery = codes
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| unhex(c).and_then(|v| <[u8; 32]>::try_from(v).ok()))
                .collect::<Option<Vec<_>>>()?;
            Some(Entry::Enrolled { secret, confirmed_ms, recovery })
        }
        "R" => Some(Entry::Removed(parts.next()?.parse().ok()?)),
        _ => None,
    }
}

/// The bytes of lowercase or uppercase `hex`.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_go_through_the_book_and_garbage_does_not() {
        let e = Entry::Enrolled { secret: vec![1, 2, 3], confirmed_ms: 7, recovery: vec![[9; 32], [8; 32]] };
        assert_eq!(decode(&encode(&e)), Some(e));
        assert_eq!(decode(&encode(&Entry::Removed(5))), Some(Entry::Removed(5)));
        for bad in ["", "E|zz|1|", "X|1", "R|x", "E|0102|1|abc"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
