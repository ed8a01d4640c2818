//! Single-use WebSocket tickets: `base64url(expiry ‖ nonce ‖ version ‖ user) . base64url(HMAC)`
//! (see [`super::credentials::Ticket`]), bound to its user and that user's password (a password
//! change or removal voids it), valid for [`TICKET_TTL`], redeemable once. The book remembers
//! redeemed nonces until their tickets expire; in a cluster, tickets signed with the shared key
//! are redeemed in the shared book ([`super::shared`]) and noted here too.
//!
//! A ticket issued to a page of a session carries that session's handle (after its user's name
//! and a NUL, which no user name holds): the socket it opens belongs to the session, is refused
//! once the session has ended, and closes when it ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::credentials::{NONCE_LEN, Ticket, VERSION_LEN};
use super::principal::Handle;
use crate::clock::millis;

/// How long a WebSocket ticket stays valid.
pub const TICKET_TTL: Duration = Duration::from_secs(30);

/// What became of a ticket, to explain a socket that never opened. Nothing is redeemed by asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketState {
    /// Valid and not yet used: the socket request never reached the server with it.
    Unused,
    /// Used: the socket request reached the server and passed the ticket check.
    Redeemed,
    /// Not valid (any more), or not this user's.
    Refused,
}

/// The part of a user's password version a ticket carries.
pub type Version = [u8; VERSION_LEN];

/// A redeemed ticket: its user, and its session when it was issued to a session's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    /// Whom it was issued to.
    pub user: Arc<str>,
    /// The session it was issued for, if any.
    pub session: Option<Handle>,
}

/// The user and session a ticket's subject names (`user`, or `user\0HANDLE` for a session's).
pub(super) fn subject(text: &str) -> (&str, Option<Handle>) {
    match text.split_once('\0') {
        // Only this server writes subjects (they are signed): a handle that does not parse is
        // none that can be live.
        Some((user, handle)) => (user, Some(Handle::parse(handle).unwrap_or(Handle([0; 16])))),
        None => (text, None),
    }
}

/// How often the book forgets expired tickets: at most once a second, so that redeeming stays
/// constant time in a burst (10,000 sockets opening at once swept 10,000 growing maps, about 50
/// million entries, under the book's lock).
const SWEEP_EVERY_MS: u64 = 1000;

/// The redeemed tickets.
#[derive(Default)]
pub struct TicketBook {
    redeemed: Mutex<Redeemed>,
}

/// Redeemed nonces and their tickets' expiry, and when expired ones are next forgotten.
#[derive(Default)]
struct Redeemed {
    nonces: HashMap<[u8; NONCE_LEN], u64>,
    next_sweep: u64,
}

impl TicketBook {
    /// A fresh ticket for `user` at password `version`, signed with `key`, issued at `now` (ms).
    pub fn issue(key: &[u8], user: &str, version: [u8; VERSION_LEN], now: u64, nonce: [u8; NONCE_LEN]) -> String {
        Ticket { expiry_ms: now + millis(TICKET_TTL), nonce, version, user: user.to_owned() }.encode(key)
    }

    /// A `ticket` signed with `key`, unexpired, whose user still has the password it was issued
    /// under (`current` tells a user's password version); nothing is redeemed.
    pub fn check(key: &[u8], ticket: &str, now: u64, current: impl Fn(&str) -> Option<Version>) -> Option<Ticket> {
        Ticket::decode(key, ticket).filter(|t| now < t.expiry_ms && current(subject(&t.user).0) == Some(t.version))
    }

    /// Redeems `ticket` in this book: true the first time.
    pub fn take(&self, ticket: &Ticket, now: u64) -> bool {
        let mut redeemed = self.redeemed.lock();
        // Forget tickets that expired: they fail the expiry check anyway. This bounds the map
        // to the tickets issued within one TTL and a second.
        if now >= redeemed.next_sweep {
            redeemed.nonces.retain(|_, exp| *exp > now);
            redeemed.next_sweep = now + SWEEP_EVERY_MS;
        }
        redeemed.nonces.insert(ticket.nonce, ticket.expiry_ms).is_none()
    }

    /// The state of `ticket`, signed with one of `keys`, as far as `user` may know it (a ticket
    /// redeemed on another instance reads as unused here).
    pub fn state(
        &self,
        keys: &[&[u8]],
        ticket: &str,
        user: &str,
        now: u64,
        current: impl Fn(&str) -> Option<Version>,
    ) -> TicketState {
        let Some(ticket) =
            keys.iter().find_map(|key| Ticket::decode(key, ticket)).filter(|t| subject(&t.user).0 == user)
        else {
            return TicketState::Refused;
        };
        if self.redeemed.lock().nonces.contains_key(&ticket.nonce) {
            TicketState::Redeemed
        } else if now >= ticket.expiry_ms || current(subject(&ticket.user).0) != Some(ticket.version) {
            TicketState::Refused
        } else {
            TicketState::Unused
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_book_forgets_expired_tickets_at_most_once_a_second_and_redeems_each_once() {
        let book = TicketBook::default();
        let ticket = |nonce: u8, expiry_ms| Ticket {
            expiry_ms,
            nonce: [nonce; NONCE_LEN],
            version: [0; VERSION_LEN],
            user: "admin".to_owned(),
        };
        assert!(book.take(&ticket(1, 1_500), 1_000));
        assert!(!book.take(&ticket(1, 1_500), 1_200), "once only");
        assert!(book.take(&ticket(2, 9_000), 1_600));
        assert_eq!(book.redeemed.lock().nonces.len(), 2, "no sweep within a second of the last");
        assert!(book.take(&ticket(3, 9_000), 2_000));
        assert_eq!(book.redeemed.lock().nonces.len(), 2, "the expired one is forgotten a second later");
        assert!(!book.take(&ticket(2, 9_000), 2_100), "an unexpired one is kept");
    }
}
