//! What the instances of a cluster share about authentication, through a store outside the
//! process (Redis, see `crate::cluster`): the book of redeemed tickets, so that a ticket is
//! redeemed once across all of them, and the login budgets, so that an attacker cannot multiply
//! a budget by the number of instances. Auth only knows this trait; the cluster implements it.
//!
//! When the store is unreachable each instance falls back on its own: tickets it signs with its
//! own key (which no other instance accepts) and budgets of its own.

use std::time::Duration;

use futures_util::future::BoxFuture;

use super::credentials::NONCE_LEN;

/// How much longer than its lifetime a redeemed nonce is remembered: room for the clocks
/// (Redis's own stepping back, an instance's lagging) to disagree without reopening a replay.
pub const SKEW_MARGIN: Duration = Duration::from_secs(60);

/// The shared store could not be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

/// One budget to take an attempt from: its subject's key (see
/// [`super::throttle::Throttle::budgets`]) and how many attempts a minute it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// The subject, e.g. `g|10.0.0.1` or `u|admin`.
    pub key: String,
    /// Attempts per minute.
    pub per_minute: u32,
}

/// A spent budget: which of those asked for (its index), and how long it is spent for.
pub type Spent = (usize, Duration);

/// The shared book of tickets and budgets.
pub trait SharedAuth: Send + Sync {
    /// Whether the store is reachable now (tickets issued while it is not are local ones).
    fn reachable(&self) -> bool;

    /// Redeems the single-use `nonce` of a ticket (or pending login) that lives `lifetime` and
    /// expires at `expiry_ms` (wall clock of its issuer): true the first time across every
    /// instance, false ever after, and false once it has expired by the store's own clock (not
    /// the redeeming instance's, which may lag or step) or was issued before the store's book
    /// began (the store lost what was redeemed before). The nonce is kept for its lifetime and
    /// [`SKEW_MARGIN`] more.
    fn redeem(
        &self,
        nonce: [u8; NONCE_LEN],
        expiry_ms: u64,
        lifetime: Duration,
    ) -> BoxFuture<'_, Result<bool, Unavailable>>;

    /// Takes one attempt from each budget in order, stopping at the first that is spent (which
    /// is then told to every instance, see [`super::Auth::block_from_peer`]).
    fn spend(&self, budgets: Vec<Budget>) -> BoxFuture<'_, Result<Option<Spent>, Unavailable>>;

    /// Gives back what [`SharedAuth::spend`] took for an attempt whose password was right: a
    /// user's first login on each instance (each verifies it once) is not a guess, and must not
    /// use up the budgets as the instances grow in number.
    fn refund(&self, budgets: Vec<Budget>) -> BoxFuture<'_, ()>;
}

/// The key shared tickets and device cookies are signed with, derived from the cluster's secret for
/// one `purpose`, so that neither can stand for the other.
pub fn derive_key(secret: &[u8], purpose: &str) -> [u8; 32] {
    super::credentials::mac(secret, &[b"livedash cluster key\0", purpose.as_bytes()])
}
