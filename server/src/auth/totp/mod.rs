//! The optional second factor: TOTP (RFC 6238, 30 s steps, 6 digits, SHA-1 as authenticator apps
//! expect), enrolled from the page (a QR code drawn as SVG and the secret as text, confirmed with
//! a first code), with ten single-use recovery codes shown once. Codes are throttled like
//! passwords (the same budgets: [`super::attempts`], through [`Gate::check_code`]), compared in
//! constant time and not taken twice within their window (the last step taken is kept). A user
//! with a second factor cannot log in by Basic with the password alone (API tokens still work).
//!
//! The confirmed factors live in memory ([`Totp::enrolled`] is a map lookup), loaded from the
//! store at start and written through to it. An enrolment under way keeps no state on the server:
//! the page's form carries the new secret back with the first code (it is shown on that page
//! anyway), so that the confirmation may reach any instance.
//!
//! - [`code`]: codes, recovery codes, the URI and the QR code;
//! - [`shared`]: the second factors in a cluster's Redis (every instance refuses the password alone
//!   for an enrolled user; a code or a recovery code is taken once across the cluster).
//!
//! Its audit records (enrolled, removed, a recovery code spent) carry the client's address.
//!
//! May import the auth wing's [`super::role`], [`super::principal`] and [`super::token`] (where
//! the store is), the store's rows ([`crate::store::auth::totp`]), [`crate::audit`],
//! [`crate::http::client_ip`] and [`crate::clock`].
//!
//! [`Gate::check_code`]: super::Gate::check_code

pub mod code;
pub mod shared;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::token::Backing;
use crate::audit::{Audit, AuditEvent, AuditKind};
use crate::clock::now_ms;
use crate::http::client_ip::ClientIp;
use crate::store::auth::AuthWrite;
use crate::store::auth::totp::{TotpRow, TotpWrite};

/// Why a code was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// Wrong, reused, or for another window.
    #[error("the code is not right")]
    Wrong,
    /// The user has no second factor (or no enrolment under way).
    #[error("no second factor is enrolled")]
    NotEnrolled,
}

/// An enrolment under way: what the page shows once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The secret in base32, for typing into an app.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The QR code as an SVG element.
    pub svg: String,
}

/// How often a cluster's shared second factors are read.
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// A user's confirmed factor in memory.
struct Factor {
    secret: Vec<u8>,
    confirmed_ms: u64,
    last_step: u64,
    recovery: Vec<[u8; 32]>,
}

/// What a code took.
enum Taken {
    /// This time step.
    Step(u64),
    /// The recovery code of this SHA-256.
    Recovery([u8; 32]),
}

/// The users' second factors.
#[derive(Default)]
pub struct Totp {
    factors: Mutex<HashMap<String, Factor>>,
    backing: Option<Backing>,
    audit: Audit,
    shared: Option<Arc<dyn shared::SharedTotp>>,
}

impl Totp {
    /// The second factors kept in `backing` (in memory only without one), read now (blocking: at
    /// start-up); enrolments and recovery codes told to `audit`.
    pub fn new(backing: Option<Backing>, audit: Audit) -> Self {
        let mut factors = HashMap::new();
        // A store not made yet (a first start) has none: nothing to read, nothing to report.
        if let Some(b) = backing.as_ref().filter(|b| b.path.exists()) {
            let rows = crate::store::db::open_reader(&b.path).and_then(|c| crate::store::auth::totp::load(&c));
            match rows {
                Ok(rows) => {
                    for r in rows {
                        let factor = Factor {
                            secret: r.secret,
                            confirmed_ms: r.confirmed_ms,
                            last_step: r.last_step,
                            recovery: r.recovery,
                        };
                        factors.insert(r.user, factor);
                    }
                }
                Err(e) => tracing::info!(error = %e, "second factors: none read from the store (a new store has none)"),
            }
        }
        Self { factors: Mutex::new(factors), backing, audit, shared: None }
    }

    /// The same, in a cluster whose instances share their second factors through `shared`.
    pub fn with_shared(mut self, shared: Arc<dyn shared::SharedTotp>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Puts `user`'s `entry` in the cluster's book, if there is one (a second at most).
    async fn share(&self, user: &str, entry: shared::Entry) {
        if let Some(book) = &self.shared
            && !matches!(
                tokio::time::timeout(Duration::from_secs(1), book.put(user.to_owned(), entry)).await,
                Ok(Ok(()))
            )
        {
            tracing::warn!(
                "second factors: the cluster's Redis did not take a change; other instances learn it once it answers"
            );
        }
    }

    /// Whether the cluster's book lets this instance take what it just took (a step, a recovery
    /// code): false only when another instance took it first; true without a book or an answer.
    async fn once(&self, user: &str, step: Option<u64>, code: Option<[u8; 32]>) -> bool {
        let Some(book) = &self.shared else { return true };
        let asked = async {
            match (step, code) {
                (Some(step), _) => book.take_step(user.to_owned(), step).await,
                (None, Some(code)) => book.spend(user.to_owned(), code).await,
                (None, None) => Ok(true),
            }
        };
        !matches!(tokio::time::timeout(Duration::from_secs(1), asked).await, Ok(Ok(false)))
    }

    /// Reads the cluster's book into memory (and the store): enrolments and removals made on other
    /// instances, steps taken and recovery codes spent there; factors the book lacks are put in it.
    pub async fn refresh(&self) {
        let Some(book) = &self.shared else { return };
        let Ok(Ok(all)) = tokio::time::timeout(Duration::from_secs(1), book.all()).await else { return };
        let mut missing = Vec::new();
        let mut writes = Vec::new();
        {
            let mut factors = self.factors.lock();
            for remote in &all {
                let local = factors.get_mut(&remote.user);
                match (&remote.entry, local) {
                    (shared::Entry::Removed(at), Some(f)) if f.confirmed_ms <= *at => {
                        factors.remove(&remote.user);
                        writes.push(TotpWrite::Remove { user: remote.user.clone() });
                    }
                    (shared::Entry::Enrolled { secret, confirmed_ms, recovery }, local) => {
                        let fresh = local.as_ref().is_none_or(|f| f.confirmed_ms < *confirmed_ms);
                        if fresh {
                            let recovery: Vec<[u8; 32]> =
                                recovery.iter().filter(|c| !remote.spent.contains(c)).copied().collect();
                            writes.push(TotpWrite::Enrol(TotpRow {
                                user: remote.user.clone(),
                                secret: secret.clone(),
                                confirmed_ms: *confirmed_ms,
                                last_step: remote.last_step,
                                recovery: recovery.clone(),
                            }));
                            let factor = Factor {
                                secret: secret.clone(),
                                confirmed_ms: *confirmed_ms,
                                last_step: remote.last_step,
                                recovery,
                            };
                            factors.insert(remote.user.clone(), factor);
                        } else if let Some(f) = factors.get_mut(&remote.user)
                            && f.confirmed_ms == *confirmed_ms
                        {
                            f.last_step = f.last_step.max(remote.last_step);
                            f.recovery.retain(|c| !remote.spent.contains(c));
                        }
                    }
                    _ => {}
                }
            }
            for (user, f) in factors.iter() {
                if !all.iter().any(|r| &r.user == user) {
                    missing.push((user.clone(), f.secret.clone(), f.confirmed_ms, f.recovery.clone()));
                }
            }
        }
        for w in writes {
            self.keep(w);
        }
        for (user, secret, confirmed_ms, recovery) in missing {
            self.share(&user, shared::Entry::Enrolled { secret, confirmed_ms, recovery }).await;
        }
    }

    /// Reads the cluster's book every [`REFRESH_EVERY`] until `shutdown`.
    pub fn spawn_refresh(self: &Arc<Self>, mut shutdown: crate::shutdown::Shutdown) {
        if self.shared.is_none() {
            return;
        }
        let totp = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(REFRESH_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => totp.refresh().await,
                    () = shutdown.stopped() => break,
                }
            }
        });
    }

    fn keep(&self, write: TotpWrite) {
        if let Some(b) = &self.backing {
            b.store.auth(AuthWrite::Totp(write));
        }
    }

    fn audit(&self, kind: AuditKind, user: &str, client: ClientIp) {
        self.audit.record(AuditEvent::new(kind, Some(user), Some(client.addr)));
    }

    /// Whether `user` has a confirmed second factor.
    pub fn enrolled(&self, user: &str) -> bool {
        self.factors.lock().contains_key(user)
    }

    /// How many unspent recovery codes `user` has left.
    pub fn recovery_left(&self, user: &str) -> usize {
        self.factors.lock().get(user).map_or(0, |f| f.recovery.len())
    }

    /// Checks `code` (six digits, or a recovery code, spent once) for `user`, sent by `client`.
    /// Not throttled by itself: requests go through [`super::Gate::check_code`].
    pub async fn check(&self, user: &str, code: &str, client: ClientIp) -> Result<(), TotpError> {
        match self.take(user, code.trim())? {
            Taken::Step(step) => {
                self.keep(TotpWrite::Step { user: user.to_owned(), step });
                // Taken here; refused if another instance of the cluster took it first.
                if self.once(user, Some(step), None).await { Ok(()) } else { Err(TotpError::Wrong) }
            }
            Taken::Recovery(digest) => {
                self.keep(TotpWrite::RecoveryUsed { user: user.to_owned(), code: digest, used_ms: now_ms() });
                if !self.once(user, None, Some(digest)).await {
                    return Err(TotpError::Wrong);
                }
                self.audit(AuditKind::RecoveryUsed, user, client);
                Ok(())
            }
        }
    }

    /// What `code` takes from `user`'s factor in memory: a time step, or a recovery code.
    fn take(&self, user: &str, code: &str) -> Result<Taken, TotpError> {
        let now_step = code::step_of(now_ms() / 1000);
        let mut factors = self.factors.lock();
        let factor = factors.get_mut(user).ok_or(TotpError::NotEnrolled)?;
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            let step =
                code::matching_step(&factor.secret, &digits, now_step, factor.last_step).ok_or(TotpError::Wrong)?;
            factor.last_step = step;
            return Ok(Taken::Step(step));
        }
        if code.len() > 64 {
            return Err(TotpError::Wrong);
        }
        let digest = code::recovery_digest(code);
        let i = code::find_recovery(&factor.recovery, &digest).ok_or(TotpError::Wrong)?;
        factor.recovery.swap_remove(i);
        Ok(Taken::Recovery(digest))
    }

    /// A new secret for `user` to enrol (nothing is kept until [`Totp::confirm`]).
    pub fn begin(&self, user: &str) -> Enrolment {
        let secret = crate::auth::accounts::random::<{ code::SECRET_LEN }>();
        let uri = code::uri(user, &secret);
        Enrolment { secret: code::base32(&secret), svg: code::qr_svg(&uri).unwrap_or_default(), uri }
    }

    /// The enrolment of the base32 `secret` a page showed, shown again (after a wrong first code);
    /// `None` if it is not a secret of the right length.
    pub fn resume(&self, user: &str, secret: &str) -> Option<Enrolment> {
        let secret = code::from_base32(secret)?;
        let uri = code::uri(user, &secret);
        Some(Enrolment { secret: code::base32(&secret), svg: code::qr_svg(&uri).unwrap_or_default(), uri })
    }

    /// Enrols `user` with the base32 `secret` a page showed, if `first` is a current code of it
    /// (sent by `client`): the ten recovery codes, to show once. Replaces any factor the user had.
    pub async fn confirm(
        &self,
        user: &str,
        secret: &str,
        first: &str,
        client: ClientIp,
    ) -> Result<Vec<String>, TotpError> {
        let secret = code::from_base32(secret).ok_or(TotpError::Wrong)?;
        let digits: String = first.chars().filter(|c| !c.is_whitespace()).collect();
        let now_step = code::step_of(now_ms() / 1000);
        let step = code::matching_step(&secret, &digits, now_step, 0).ok_or(TotpError::Wrong)?;
        let codes = code::new_recovery_codes();
        let recovery: Vec<[u8; 32]> = codes.iter().map(|c| code::recovery_digest(c)).collect();
        let confirmed_ms = now_ms();
        let row = TotpRow {
            user: user.to_owned(),
            secret: secret.clone(),
            confirmed_ms,
            last_step: step,
            recovery: recovery.clone(),
        };
        let factor = Factor { secret: secret.clone(), confirmed_ms, last_step: step, recovery: recovery.clone() };
        self.factors.lock().insert(user.to_owned(), factor);
        self.keep(TotpWrite::Enrol(row));
        self.share(user, shared::Entry::Enrolled { secret, confirmed_ms, recovery }).await;
        self.once(user, Some(step), None).await;
        self.audit(AuditKind::TotpEnrol, user, client);
        Ok(codes)
    }

    /// Removes `user`'s second factor, proven with a current `code` (or a recovery code) sent by
    /// `client`.
    pub async fn remove(&self, user: &str, code: &str, client: ClientIp) -> Result<(), TotpError> {
        self.check(user, code, client).await?;
        self.factors.lock().remove(user);
        self.keep(TotpWrite::Remove { user: user.to_owned() });
        self.share(user, shared::Entry::Removed(now_ms())).await;
        self.audit(AuditKind::TotpRemove, user, client);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: ClientIp = ClientIp {
        addr: std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)),
        group: std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)),
    };

    fn now_code(secret: &str) -> String {
        code::code_at(&code::from_base32(secret).expect("base32"), code::step_of(now_ms() / 1000))
    }

    #[tokio::test]
    async fn enrol_check_once_recover_once_remove() {
        let totp = Totp::default();
        assert_eq!(totp.check("ann", "123456", AT).await, Err(TotpError::NotEnrolled));
        let e = totp.begin("ann");
        assert!(!totp.enrolled("ann"), "nothing kept before the confirmation");
        assert_eq!(totp.confirm("ann", &e.secret, "000000x", AT).await, Err(TotpError::Wrong));
        let codes = totp.confirm("ann", &e.secret, &now_code(&e.secret), AT).await.expect("confirmed");
        assert!(totp.enrolled("ann"));
        // The confirming code's step is taken: the same code again is refused.
        assert_eq!(totp.check("ann", &now_code(&e.secret), AT).await, Err(TotpError::Wrong));
        assert_eq!(totp.check("ann", &codes[0], AT).await, Ok(()));
        assert_eq!(totp.check("ann", &codes[0], AT).await, Err(TotpError::Wrong), "a recovery code works once");
        assert_eq!(totp.recovery_left("ann"), 9);
        assert!(totp.remove("ann", "999999", AT).await.is_err());
        assert_eq!(totp.remove("ann", &codes[1], AT).await, Ok(()));
        assert!(!totp.enrolled("ann"));
        // Every record names the client's address (before: none did).
        let rows = totp.audit.recent(10).await;
        let seen: Vec<(&str, Option<&str>)> = rows.iter().map(|r| (r.kind.as_str(), r.addr.as_deref())).collect();
        let at = Some("192.0.2.7");
        assert_eq!(seen, [("totp_remove", at), ("recovery_used", at), ("recovery_used", at), ("totp_enrol", at)]);
    }
}
