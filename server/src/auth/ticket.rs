//! Single-use WebSocket tickets: `base64url(expiry ‖ nonce ‖ version ‖ user) . base64url(HMAC)`
//! (see [`super::credentials::Ticket`]), bound to its user and that user's password (a password
//! change or removal voids it), valid for [`TICKET_TTL`], redeemable once. The book remembers
//! redeemed nonces for the lifetime and a margin by the monotonic clock; in a cluster, tickets signed with the shared key
//! are redeemed in the shared book ([`super::shared`]) and noted here too.
//!
//! A ticket issued to a page of a session carries that session's handle (after its user's name
//! and a NUL, which no user name holds): the socket it opens belongs to the session, is refused
//! once the session has ended, and closes when it ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// How long the book remembers a redeemed nonce, by the monotonic clock: the ticket's lifetime and
/// the margin, whatever the wall clock does meanwhile (a clock that steps ahead, then back, would
/// otherwise have the book forget a nonce whose ticket then looks valid again).
const REMEMBER: Duration = Duration::from_secs(TICKET_TTL.as_secs() + super::shared::SKEW_MARGIN.as_secs());

/// The redeemed tickets.
#[derive(Default)]
pub struct TicketBook {
    redeemed: Mutex<Redeemed>,
}

/// Redeemed nonces and when (monotonic) each is forgotten, and when forgotten ones are next swept.
#[derive(Default)]
struct Redeemed {
    nonces: HashMap<[u8; NONCE_LEN], Instant>,
    next_sweep: Option<Instant>,
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

    /// Redeems `ticket` in this book: true the first time (within [`REMEMBER`] of it, by the
    /// monotonic clock: long after the ticket expired by any clock that has not stepped back).
    pub fn take(&self, ticket: &Ticket) -> bool {
        self.take_at(ticket, Instant::now())
    }

    fn take_at(&self, ticket: &Ticket, now: Instant) -> bool {
        let mut redeemed = self.redeemed.lock();
        // Forget what was redeemed long enough ago. This bounds the map to the tickets redeemed
        // within REMEMBER and a second.
        if redeemed.next_sweep.is_none_or(|at| now >= at) {
            redeemed.nonces.retain(|_, forget| *forget > now);
            redeemed.next_sweep = Some(now + SWEEP_EVERY);
        }
        match redeemed.nonces.entry(ticket.nonce) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(now + REMEMBER);
                true
            }
        }
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
    fn the_book_remembers_a_nonce_by_the_monotonic_clock_and_sweeps_at_most_once_a_second() {
        let book = TicketBook::default();
        let ticket = |nonce: u8| Ticket {
            expiry_ms: 1_500,
            nonce: [nonce; NONCE_LEN],
            version: [0; VERSION_LEN],
            user: "admin".to_owned(),
        };
        let t0 = Instant::now();
        assert!(book.take_at(&ticket(1), t0));
        assert!(!book.take_at(&ticket(1), t0 + Duration::from_millis(200)), "once only");
        assert!(book.take_at(&ticket(2), t0 + REMEMBER - Duration::from_millis(100)));
        assert!(!book.take_at(&ticket(1), t0 + REMEMBER - Duration::from_millis(50)), "kept for REMEMBER");
        assert!(book.take_at(&ticket(3), t0 + REMEMBER + Duration::from_millis(500)));
        assert_eq!(book.redeemed.lock().nonces.len(), 3, "no sweep within a second of the last");
        assert!(book.take_at(&ticket(4), t0 + REMEMBER + Duration::from_millis(1000)));
        assert_eq!(book.redeemed.lock().nonces.len(), 3, "the first is forgotten after REMEMBER");
        assert!(!book.take_at(&ticket(2), t0 + REMEMBER + Duration::from_millis(1100)), "the second is kept");
    }
}
