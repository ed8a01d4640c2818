//! A pending login: the password was right and the user has a second factor, so the browser
//! carries, from the first step to the second, `base64url(payload) . base64url(HMAC)` in a hidden
//! field. The payload says who, "remember this device", where to go next, the user's password
//! version (a password change voids it), how many codes were tried, a random nonce and an expiry
//! five minutes on. It is signed with a key every instance of a cluster derives from the shared
//! secret, so the second step may land on another instance than the first (round robin), and it
//! is taken once: its nonce is redeemed in the cluster's shared book (or, alone, in this
//! instance's), and a wrong code hands out a new one. The expiry is a wall-clock time (instances
//! share no other clock), as the WebSocket tickets' is.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use subtle::ConstantTimeEq;

use crate::auth::credentials::mac;
use crate::auth::shared::SharedAuth;
use crate::clock::now_ms;

/// How long the second step may wait.
pub const PENDING_TTL: Duration = Duration::from_secs(300);
/// How many codes one login may try before the password is asked again.
pub const MAX_TRIES: u8 = 5;

const NONCE: usize = 16;
const VERSION: usize = 8;

/// A login waiting for its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// Who.
    pub user: String,
    /// "Remember this device".
    pub remember: bool,
    /// Where to go after (already checked).
    pub next: String,
    /// Codes tried so far.
    pub tries: u8,
    version: [u8; VERSION],
    expiry_ms: u64,
    nonce: [u8; NONCE],
}

/// Signs and redeems pending logins.
pub struct Pending {
    key: [u8; 32],
    shared: Option<Arc<dyn SharedAuth>>,
    spent: Mutex<HashMap<[u8; NONCE], u64>>,
}

impl Pending {
    /// Pending logins signed with `key`, redeemed in `shared` when in a cluster.
    pub fn new(key: [u8; 32], shared: Option<Arc<dyn SharedAuth>>) -> Self {
        Self { key, shared, spent: Mutex::default() }
    }

    /// A pending login of `user` (at password `version`), to be carried by the browser.
    pub fn issue(&self, user: &str, version: [u8; 32], remember: bool, next: &str, tries: u8) -> String {
        let mut short = [0; VERSION];
        short.copy_from_slice(&version[..VERSION]);
        let login = PendingLogin {
            user: user.to_owned(),
            remember,
            next: next.to_owned(),
            tries,
            version: short,
            expiry_ms: now_ms().saturating_add(crate::clock::millis(PENDING_TTL)),
            nonce: crate::auth::accounts::random(),
        };
        let payload = encode(&login);
        let tag = mac(&self.key, &[b"livedash pending login\0", &payload]);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The pending login `text` is, if it is signed, unexpired, its user's password has not changed
    /// since (`current` tells a user's password version) and it was not taken before; takes it.
    pub async fn take(&self, text: &str, current: impl Fn(&str) -> Option<[u8; 32]>) -> Option<PendingLogin> {
        let (payload, tag) = text.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let want = mac(&self.key, &[b"livedash pending login\0", &payload]);
        if !bool::from(want.as_slice().ct_eq(&tag)) {
            return None;
        }
        let login = decode(&payload)?;
        let now = now_ms();
        if now >= login.expiry_ms || current(&login.user).map(|v| v[..VERSION] == login.version) != Some(true) {
            return None;
        }
        let fresh = match &self.shared {
            Some(book) => book.redeem(login.nonce, login.expiry_ms, PENDING_TTL).await.unwrap_or(false),
            None => {
                let mut spent = self.spent.lock();
                spent.retain(|_, expiry| *expiry > now);
                spent.insert(login.nonce, login.expiry_ms).is_none()
            }
        };
        fresh.then_some(login)
    }
}

fn encode(p: &PendingLogin) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + p.user.len() + p.next.len());
    out.extend_from_slice(&p.expiry_ms.to_be_bytes());
    out.extend_from_slice(&p.nonce);
    out.extend_from_slice(&p.version);
    out.push(u8::from(p.remember));
    out.push(p.tries);
    let user_len = u16::try_from(p.user.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&user_len.to_be_bytes());
    out.extend_from_slice(&p.user.as_bytes()[..usize::from(user_len)]);
    out.extend_from_slice(p.next.as_bytes());
    out
}

fn decode(b: &[u8]) -> Option<PendingLogin> {
    let expiry_ms = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
    let nonce: [u8; NONCE] = b.get(8..8 + NONCE)?.try_into().ok()?;
    let at = 8 + NONCE;
    let version: [u8; VERSION] = b.get(at..at + VERSION)?.try_into().ok()?;
    let at = at + VERSION;
    let remember = *b.get(at)? == 1;
    let tries = *b.get(at + 1)?;
    let user_len = usize::from(u16::from_be_bytes(b.get(at + 2..at + 4)?.try_into().ok()?));
    let user = String::from_utf8(b.get(at + 4..at + 4 + user_len)?.to_vec()).ok()?;
    let next = String::from_utf8(b.get(at + 4 + user_len..)?.to_vec()).ok()?;
    Some(PendingLogin { user, remember, next, tries, version, expiry_ms, nonce })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::shared::{Budget, Spent, Unavailable};
    use futures_util::future::BoxFuture;

    #[tokio::test]
    async fn a_pending_login_is_taken_once_and_only_as_signed() {
        let pending = Pending::new([7; 32], None);
        let version = [1; 32];
        let text = pending.issue("admin", version, true, "/chart/x", 2);
        let other = Pending::new([8; 32], None);
        assert_eq!(other.take(&text, |_| Some(version)).await, None, "another key");
        assert_eq!(pending.take(&text, |_| Some([2; 32])).await, None, "the password changed");
        let got = pending.take(&text, |_| Some(version)).await.expect("taken");
        assert_eq!((got.user.as_str(), got.remember, got.next.as_str(), got.tries), ("admin", true, "/chart/x", 2));
        assert_eq!(pending.take(&text, |_| Some(version)).await, None, "taken once");
        let mut forged = text.clone();
        forged.replace_range(..4, "AAAA");
        assert_eq!(pending.take(&forged, |_| Some(version)).await, None);
        for junk in ["", ".", "x.y", "....", "é.é"] {
            assert_eq!(pending.take(junk, |_| Some(version)).await, None, "{junk:?}");
        }
    }

    /// A cluster's shared book, in memory.
    #[derive(Default)]
    struct Book(Mutex<std::collections::HashSet<[u8; NONCE]>>);

    impl SharedAuth for Book {
        fn reachable(&self) -> bool {
            true
        }
        fn redeem(&self, nonce: [u8; NONCE], _: u64, _: Duration) -> BoxFuture<'_, Result<bool, Unavailable>> {
            Box::pin(async move { Ok(self.0.lock().insert(nonce)) })
        }
        fn spend(&self, _: Vec<Budget>) -> BoxFuture<'_, Result<Option<Spent>, Unavailable>> {
            Box::pin(async { Ok(None) })
        }
        fn refund(&self, _: Vec<Budget>) -> BoxFuture<'_, ()> {
            Box::pin(async {})
        }
    }

    #[tokio::test]
    async fn a_pending_login_made_on_one_instance_is_taken_once_on_any() {
        let book: Arc<dyn SharedAuth> = Arc::new(Book::default());
        let (a, b) = (Pending::new([3; 32], Some(book.clone())), Pending::new([3; 32], Some(book)));
        let version = [9; 32];
        let text = a.issue("admin", version, false, "/", 0);
        assert!(b.take(&text, |_| Some(version)).await.is_some(), "the code step reached the other instance");
        assert_eq!(a.take(&text, |_| Some(version)).await, None, "and is spent on both");
        assert_eq!(b.take(&text, |_| Some(version)).await, None);
    }
}
