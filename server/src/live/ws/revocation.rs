//! What ends an open socket's right to its data, and from when it holds: from admission.
//!
//! Before the credential (a ticket, an API token, Basic, the session cookie) is checked,
//! [`Marks::take`] subscribes to the accounts' changes and to the sessions' ends, and holds the
//! accounts in force. A check that passes while those accounts are still the ones in force (the
//! same allocation: a reload always makes a new one) was made against them, so the user's password
//! version in them is the version verified: a ticket's, a session's or Basic's alike. A check that
//! a reload overtook has no version known to be verified, and its socket counts as revoked: it
//! closes at once, and the client reconnects against the new accounts. Simpler than carrying each
//! credential's own version out of every check, and sound for all of them.
//!
//! From then on a socket is revoked when its user's version differs from the one verified (a
//! password change) or the user is gone (a removal: a version of none is never the one
//! verified), when its session is no longer live (logout, revocation, expiry, a password
//! change, on any instance), and when its API token is no longer in force (revoked, here, by the
//! command or on another instance, or expired). The pump asks before the hello and right after it, whatever the
//! receivers say, and after every change they show: marked at admission, they show a change made
//! during the admission or the hello at once; between two frames it looks at them without
//! waiting ([`Probe`]), so that a reader that keeps frames queued cannot keep them unread.

use std::sync::Arc;

use tokio::sync::watch;

use crate::auth::principal::Handle;
use crate::auth::session::Sessions;
use crate::auth::token::Tokens;
use crate::auth::{Auth, Users};

/// What is taken before the credential is checked.
pub struct Marks {
    accounts: watch::Receiver<u64>,
    ended: watch::Receiver<u64>,
    tokens_ended: watch::Receiver<u64>,
    /// The accounts in force when the marks were taken.
    before: Arc<Users>,
}

/// An admitted socket's standing: whose it is, the password version verified, its session.
pub struct Standing {
    /// Who it is.
    pub user: Arc<str>,
    /// The session it belongs to (it closes when that ends), if it was opened by one.
    pub session: Option<Handle>,
    /// The API token it was opened with (it closes when that is revoked or expires), if any.
    pub token: Option<Handle>,
    /// The password version the credential was verified against; `None` when a reload overtook
    /// the check (then it is not known, and the socket is revoked).
    verified: Option<[u8; 32]>,
}

/// The receivers a socket waits on, marked when the credential was about to be checked.
pub struct Notices {
    /// Moves when the accounts are replaced.
    pub accounts: watch::Receiver<u64>,
    /// Moves when sessions end (for a socket of a session) or tokens leave (of a token); `None`
    /// for a socket of neither.
    pub ended: Option<watch::Receiver<u64>>,
}

/// A look at the receivers that needs no waiting (an atomic load each), for the pump's path that
/// sends frame after frame: a reader slower than the frames keeps one always ready, and the
/// pump's waits on the receivers are then never polled.
pub struct Probe {
    accounts: watch::Receiver<u64>,
    ended: Option<watch::Receiver<u64>>,
}

/// Why a socket lost its right to its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// Its user was removed or changed password since the credential was verified.
    Credentials,
    /// Its session ended.
    Session,
    /// Its API token was revoked or expired.
    Token,
}

impl Marks {
    /// The marks, taken before any credential is checked: the subscriptions first, then the
    /// accounts (a reload after them is seen by the subscription).
    pub fn take(auth: &Auth, sessions: &Sessions, tokens: &Tokens) -> Self {
        let (accounts, ended, tokens_ended) = (auth.changes(), sessions.ended(), tokens.ended());
        Self { accounts, ended, tokens_ended, before: auth.users() }
    }

    /// The standing of a socket whose credential, checked since the marks were taken, named
    /// `user` (and `session`, or `token`).
    pub fn admit(
        self,
        auth: &Auth,
        user: Arc<str>,
        session: Option<Handle>,
        token: Option<Handle>,
    ) -> (Standing, Notices) {
        let unchanged = Arc::ptr_eq(&self.before, &auth.users());
        let verified = if unchanged { self.before.version_of(&user) } else { None };
        let ended = match (session, token) {
            (Some(_), _) => Some(self.ended),
            (None, Some(_)) => Some(self.tokens_ended),
            (None, None) => None,
        };
        (Standing { user, session, token, verified }, Notices { accounts: self.accounts, ended })
    }
}

impl Notices {
    /// A [`Probe`] of these receivers, marked where they are.
    pub fn probe(&self) -> Probe {
        Probe { accounts: self.accounts.clone(), ended: self.ended.clone() }
    }
}

impl Probe {
    /// Whether the accounts changed or sessions ended since the last look (the first: since
    /// the admission).
    pub fn moved(&mut self) -> bool {
        let accounts = looked(&mut self.accounts);
        let ended = self.ended.as_mut().is_some_and(looked);
        accounts || ended
    }
}

/// Whether `receiver` moved since it was last marked; marks it.
fn looked(receiver: &mut watch::Receiver<u64>) -> bool {
    let moved = receiver.has_changed().unwrap_or(false);
    if moved {
        receiver.borrow_and_update();
    }
    moved
}

impl Standing {
    /// Whether the socket has lost its right to its data, and why.
    pub fn revoked(&self, auth: &Auth, sessions: &Sessions, tokens: &Tokens) -> Option<Revoked> {
        if credentials_revoked(self.verified, auth.user_version(&self.user)) {
            return Some(Revoked::Credentials);
        }
        if self.session.is_some_and(|h| !sessions.is_live(h)) {
            return Some(Revoked::Session);
        }
        self.token.is_some_and(|h| !tokens.is_live(h)).then_some(Revoked::Token)
    }
}

/// The rule: revoked unless the version verified is known and is still the user's (a removed
/// user's, none, never is).
fn credentials_revoked(verified: Option<[u8; 32]>, current: Option<[u8; 32]>) -> bool {
    verified.is_none() || current != verified
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use axum::http::{HeaderMap, HeaderValue};
    use base64::Engine;

    use super::*;
    use crate::auth::role::Role;
    use crate::auth::session::{EndReason, NewSession, SessionPolicy};
    use crate::auth::{AuthError, LoginLimits};
    use crate::http::client_ip::ClientIp;

    fn auth(user: &str, password: &str) -> Arc<Auth> {
        Arc::new(Auth::new(Users::single(user, password), LoginLimits::default()))
    }

    fn basic(user_pass: &str) -> HeaderMap {
        let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_pass));
        HeaderMap::from_iter([(axum::http::header::AUTHORIZATION, HeaderValue::from_str(&value).expect("ascii"))])
    }

    /// A client (0.0.0.0: a request that came through no connection).
    fn client() -> ClientIp {
        ClientIp::of(&axum::http::Request::new(()).into_parts().0)
    }

    #[test]
    fn a_missing_user_is_revoked() {
        let (v, w) = ([1; 32], [2; 32]);
        assert!(!credentials_revoked(Some(v), Some(v)), "the version verified, still the user's");
        assert!(credentials_revoked(Some(v), Some(w)), "a password change");
        assert!(credentials_revoked(Some(v), None), "the user removed");
        // Before: a baseline of none (taken after the removal) equalled none for ever.
        assert!(credentials_revoked(None, None), "nothing verified and no user");
        assert!(credentials_revoked(None, Some(v)), "nothing verified");
    }

    #[tokio::test]
    async fn a_change_after_the_marks_is_seen_and_revokes_password_changes_and_removals() {
        let sessions = Sessions::new(SessionPolicy::default());
        let tokens = Tokens::default();
        for replacement in [Users::single("admin", "new"), Users::single("someone-else", "pw")] {
            let auth = auth("admin", "pw");
            let marks = Marks::take(&auth, &sessions, &tokens);
            let (standing, mut notices) = marks.admit(&auth, Arc::from("admin"), None, None);
            let mut probe = notices.probe();
            assert!(!probe.moved());
            assert_eq!(standing.revoked(&auth, &sessions, &tokens), None);
            assert!(notices.ended.is_none(), "a socket of no session does not wait on the sessions");
            // Made before the pump runs: the receiver was marked at admission and shows it.
            auth.replace_users(replacement);
            assert!(notices.accounts.has_changed().expect("open"));
            assert!(probe.moved(), "the probe sees it too");
            assert!(!probe.moved(), "once");
            assert_eq!(standing.revoked(&auth, &sessions, &tokens), Some(Revoked::Credentials));
            notices.accounts.borrow_and_update();
        }
    }

    #[tokio::test]
    async fn a_reload_that_overtakes_the_check_leaves_no_version_verified() {
        let (auth, sessions) = (auth("admin", "pw"), Sessions::new(SessionPolicy::default()));
        let tokens = Tokens::default();
        let marks = Marks::take(&auth, &sessions, &tokens);
        // The same password hashed again: a new version, as a reload of a rewritten file gives.
        auth.replace_users(Users::single("admin", "pw"));
        let (standing, _) = marks.admit(&auth, Arc::from("admin"), None, None);
        assert_eq!(standing.revoked(&auth, &sessions, &tokens), Some(Revoked::Credentials));
    }

    #[tokio::test]
    async fn a_session_socket_is_revoked_once_its_session_ends() {
        let (auth, sessions) = (auth("admin", "pw"), Sessions::new(SessionPolicy::default()));
        let tokens = Tokens::default();
        let version = auth.user_version("admin").expect("a user");
        let (_, session) = sessions.create(NewSession::admin("admin", version)).await;
        let marks = Marks::take(&auth, &sessions, &tokens);
        let (standing, notices) = marks.admit(&auth, Arc::from("admin"), Some(session.handle), None);
        assert_eq!(standing.revoked(&auth, &sessions, &tokens), None);
        sessions.end(session.handle, EndReason::Logout).await;
        assert!(notices.ended.expect("a session's socket waits on the ends").has_changed().expect("open"));
        assert_eq!(standing.revoked(&auth, &sessions, &tokens), Some(Revoked::Session));
    }

    #[tokio::test]
    async fn a_token_socket_is_revoked_once_its_token_is() {
        let (auth, sessions, tokens) =
            (auth("admin", "pw"), Sessions::new(SessionPolicy::default()), Tokens::default());
        let (_, kept) = tokens.create("admin", Role::Viewer, "kept", None).await;
        let (_, token) = tokens.create("admin", Role::Viewer, "wall", None).await;
        let marks = Marks::take(&auth, &sessions, &tokens);
        let (standing, notices) = marks.admit(&auth, Arc::from("admin"), None, Some(token.handle));
        let (other, _) =
            Marks::take(&auth, &sessions, &tokens).admit(&auth, Arc::from("admin"), None, Some(kept.handle));
        assert_eq!(standing.revoked(&auth, &sessions, &tokens), None);
        tokens.revoke(token.handle).await;
        // Before: a token's socket waited on no notice and was never asked about its token.
        assert!(notices.ended.expect("a token's socket waits on the tokens' ends").has_changed().expect("open"));
        assert_eq!(standing.revoked(&auth, &sessions, &tokens), Some(Revoked::Token));
        assert_eq!(other.revoked(&auth, &sessions, &tokens), None, "another token's socket stays");
    }

    #[tokio::test]
    async fn a_check_sharing_a_verification_begun_before_a_reload_is_refused() {
        let auth = auth("admin", "old");
        let new = Users::single("admin", "new");
        let first = {
            let auth = auth.clone();
            tokio::spawn(async move { auth.check_basic(&basic("admin:old"), client()).await })
        };
        // The first request's hash is running (against the old accounts) when they are replaced.
        while auth.stats.verifications.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        auth.replace_users(new);
        let sessions = Sessions::new(SessionPolicy::default());
        let tokens = Tokens::default();
        let marks = Marks::take(&auth, &sessions, &tokens);
        // Before: this check shared the first one's verification and let the old password in, and
        // the socket's baseline was the new version.
        assert_eq!(auth.check_basic(&basic("admin:old"), client()).await, Err(AuthError::Invalid));
        assert_eq!(auth.stats.verifications.load(Ordering::Relaxed), 1, "it did share the verification");
        let _ = first.await.expect("the first request");
        let (standing, _) = marks.admit(&auth, Arc::from("admin"), None, None);
        assert_eq!(standing.revoked(&auth, &sessions, &tokens), None, "the accounts did not change since the marks");
    }
}
