//! The WebSocket tickets as [`Auth`] issues and redeems them (the tickets themselves and the book
//! of redeemed ones are in [`super::ticket`]): bound to the user's password, signed with the
//! cluster's key when the shared book is reachable, and carrying the session of a session's page.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::accounts::{Auth, random, short};
use super::credentials::{NONCE_LEN, VERSION_LEN};
use super::error::AuthError;
use super::principal::Handle;
use super::shared::Unavailable;
use super::ticket::{Redemption, TicketBook, TicketState, subject};
use crate::clock::now_ms;

impl Auth {
    /// A fresh ticket for `user`.
    pub fn issue_ticket(&self, user: &str) -> String {
        self.issue_ticket_at(user, None, now_ms())
    }

    /// A fresh ticket for the page of `user`'s session `session`.
    pub fn issue_session_ticket(&self, user: &str, session: Handle) -> String {
        self.issue_ticket_at(user, Some(session), now_ms())
    }

    pub(super) fn issue_ticket_at(&self, user: &str, session: Option<Handle>, now: u64) -> String {
        let version = self.users().version_of(user).map_or([0; VERSION_LEN], short);
        let key = match &self.shared {
            Some((book, key)) if book.reachable() => key,
            _ => &self.key,
        };
        let subject = match session {
            Some(handle) => format!("{user}\0{}", handle.hex()),
            None => user.to_owned(),
        };
        TicketBook::issue(key, &subject, version, now, random::<NONCE_LEN>())
    }

    /// The user (and session) of a valid, unexpired, not yet redeemed ticket whose user still has
    /// the password it was issued under; redeems it. A ticket signed with the cluster's key is
    /// redeemed in the shared book (refused while that is unreachable: it may have been redeemed
    /// elsewhere); one signed with this instance's own key, here. A refusal is counted as a
    /// failed login.
    pub async fn redeem_ticket(&self, ticket: &str) -> Result<Redemption, AuthError> {
        self.redeem_ticket_at(ticket, now_ms()).await
    }

    pub(super) async fn redeem_ticket_at(&self, ticket: &str, now: u64) -> Result<Redemption, AuthError> {
        let users = self.users();
        let current = |u: &str| users.version_of(u).map(short);
        let redeemed = if let Some(t) = TicketBook::check(&self.key, ticket, now, current) {
            self.tickets.take(&t).then_some(t.user)
        } else if let Some((book, key)) = &self.shared
            && let Some(t) = TicketBook::check(key, ticket, now, current)
        {
            match book.redeem(t.nonce, t.expiry_ms, super::ticket::TICKET_TTL).await {
                Ok(true) => {
                    self.tickets.take(&t);
                    Some(t.user)
                }
                Ok(false) => None,
                Err(Unavailable) => {
                    tracing::warn!("websocket ticket refused: the shared ticket book (Redis) is unreachable");
                    None
                }
            }
        } else {
            None
        };
        match redeemed {
            Some(text) => {
                let (user, session) = subject(&text);
                Ok(Redemption { user: Arc::from(user), session })
            }
            None => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                Err(AuthError::Invalid)
            }
        }
    }

    /// The state of `ticket`, as far as `user` may know it.
    pub fn ticket_state(&self, ticket: &str, user: &str) -> TicketState {
        let users = self.users();
        let keys: Vec<&[u8]> =
            std::iter::once(&self.key[..]).chain(self.shared.as_ref().map(|(_, k)| &k[..])).collect();
        self.tickets.state(&keys, ticket, user, now_ms(), |u| users.version_of(u).map(short))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LoginLimits, Users};
    use super::*;

    fn auth() -> Auth {
        Auth::new(Users::single("admin", "pw"), LoginLimits::default())
    }

    #[tokio::test]
    async fn tickets_work_once_for_their_user() {
        let auth = auth();
        let t = auth.issue_ticket("admin");
        assert_eq!(auth.redeem_ticket(&t).await.map(|r| r.user.to_string()).as_deref(), Ok("admin"));
        assert_eq!(auth.redeem_ticket(&t).await, Err(AuthError::Invalid), "replay");
        let changed = auth.issue_ticket("admin");
        auth.replace_users(Users::single("admin", "a new password"));
        assert_eq!(auth.redeem_ticket(&changed).await, Err(AuthError::Invalid), "minted before a password change");
        let gone = auth.issue_ticket("admin");
        auth.replace_users(Users::single("someone-else", "pw"));
        assert_eq!(auth.redeem_ticket(&gone).await, Err(AuthError::Invalid), "user removed");
    }

    #[tokio::test]
    async fn a_ticket_state_is_told_without_redeeming_it_and_only_to_its_user() {
        let auth = auth();
        let t = auth.issue_ticket("admin");
        assert_eq!(auth.ticket_state(&t, "admin"), TicketState::Unused);
        assert_eq!(auth.ticket_state(&t, "admin"), TicketState::Unused, "asking redeems nothing");
        assert_eq!(auth.ticket_state(&t, "mallory"), TicketState::Refused);
        assert_eq!(auth.redeem_ticket(&t).await.map(|r| r.user.to_string()).as_deref(), Ok("admin"));
        assert_eq!(auth.ticket_state(&t, "admin"), TicketState::Redeemed);
        assert_eq!(auth.ticket_state("garbage", "admin"), TicketState::Refused);
        let old = auth.issue_ticket_at("admin", None, 1_000);
        assert_eq!(auth.ticket_state(&old, "admin"), TicketState::Refused, "expired");
    }

    #[tokio::test]
    async fn expired_tampered_truncated_and_foreign_tickets_fail() {
        let auth = auth();
        let t = auth.issue_ticket_at("admin", None, 1_000);
        assert_eq!(auth.redeem_ticket_at(&t, 1_000 + 30_000).await, Err(AuthError::Invalid), "expired");

        let t = auth.issue_ticket("admin");
        let mut tampered = t.clone().into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert_eq!(auth.redeem_ticket(&tampered).await, Err(AuthError::Invalid), "tampered");
        assert_eq!(auth.redeem_ticket(&t[..t.len() - 2]).await, Err(AuthError::Invalid), "truncated");
        for garbage in ["", ".", "abc", "a.b", "%%%.%%%", "....."] {
            assert_eq!(auth.redeem_ticket(garbage).await, Err(AuthError::Invalid), "{garbage:?}");
        }
        let other = Auth::new(Users::single("admin", "pw"), LoginLimits::default());
        assert_eq!(other.redeem_ticket(&auth.issue_ticket("admin")).await, Err(AuthError::Invalid), "other key");
        assert_eq!(
            auth.redeem_ticket(&t).await.map(|r| r.user.to_string()).as_deref(),
            Ok("admin"),
            "the original still works once"
        );
        assert_eq!(auth.stats.failures.load(std::sync::atomic::Ordering::Relaxed), 9, "each refusal counted");
    }

    #[tokio::test]
    async fn a_session_ticket_names_its_session_and_its_user_alone() {
        let auth = auth();
        let session = Handle::of(b"a session's secret");
        let t = auth.issue_session_ticket("admin", session);
        assert_eq!(auth.ticket_state(&t, "admin"), TicketState::Unused, "its user is admin, not the subject");
        let redeemed = auth.redeem_ticket(&t).await.expect("valid");
        assert_eq!((&*redeemed.user, redeemed.session), ("admin", Some(session)));
        let plain = auth.redeem_ticket(&auth.issue_ticket("admin")).await.expect("valid");
        assert_eq!(plain.session, None);
    }
}
