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
//! - [`code`]: codes, recovery codes, the URI and the QR code.
//!
//! May import the auth wing's [`super::role`], [`super::principal`] and [`super::token`] (where
//! the store is), the store's rows ([`crate::store::auth::totp`]), [`crate::audit`] and
//! [`crate::clock`].
//!
//! [`Gate::check_code`]: super::Gate::check_code

pub mod code;

use std::collections::HashMap;

use parking_lot::Mutex;

use super::token::Backing;
use crate::audit::{Audit, AuditEvent, AuditKind};
use crate::clock::now_ms;
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

/// A user's confirmed factor in memory.
struct Factor {
    secret: Vec<u8>,
    last_step: u64,
    recovery: Vec<[u8; 32]>,
}

/// The users' second factors.
#[derive(Default)]
pub struct Totp {
    factors: Mutex<HashMap<String, Factor>>,
    backing: Option<Backing>,
    audit: Audit,
}

impl Totp {
    /// The second factors kept in `backing` (in memory only without one), read now (blocking: at
    /// start-up); enrolments and recovery codes told to `audit`.
    pub fn new(backing: Option<Backing>, audit: Audit) -> Self {
        let mut factors = HashMap::new();
        if let Some(b) = &backing {
            let rows = crate::store::db::open_reader(&b.path).and_then(|c| crate::store::auth::totp::load(&c));
            match rows {
                Ok(rows) => {
                    for r in rows {
                        factors
                            .insert(r.user, Factor { secret: r.secret, last_step: r.last_step, recovery: r.recovery });
                    }
                }
                Err(e) => tracing::info!(error = %e, "second factors: none read from the store (a new store has none)"),
            }
        }
        Self { factors: Mutex::new(factors), backing, audit }
    }

    fn keep(&self, write: TotpWrite) {
        if let Some(b) = &self.backing {
            b.store.auth(AuthWrite::Totp(write));
        }
    }

    fn audit(&self, kind: AuditKind, user: &str) {
        self.audit.record(AuditEvent { kind, user: Some(user.to_owned()), addr: None, detail: serde_json::Map::new() });
    }

    /// Whether `user` has a confirmed second factor.
    pub fn enrolled(&self, user: &str) -> bool {
        self.factors.lock().contains_key(user)
    }

    /// How many unspent recovery codes `user` has left.
    pub fn recovery_left(&self, user: &str) -> usize {
        self.factors.lock().get(user).map_or(0, |f| f.recovery.len())
    }

    /// Checks `code` (six digits, or a recovery code, spent once) for `user`. Not throttled by
    /// itself: requests go through [`super::Gate::check_code`].
    pub async fn check(&self, user: &str, code: &str) -> Result<(), TotpError> {
        let code = code.trim();
        let now_step = code::step_of(now_ms() / 1000);
        let mut factors = self.factors.lock();
        let factor = factors.get_mut(user).ok_or(TotpError::NotEnrolled)?;
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            let step =
                code::matching_step(&factor.secret, &digits, now_step, factor.last_step).ok_or(TotpError::Wrong)?;
            factor.last_step = step;
            drop(factors);
            self.keep(TotpWrite::Step { user: user.to_owned(), step });
            return Ok(());
        }
        if code.len() > 64 {
            return Err(TotpError::Wrong);
        }
        let digest = code::recovery_digest(code);
        let i = code::find_recovery(&factor.recovery, &digest).ok_or(TotpError::Wrong)?;
        factor.recovery.swap_remove(i);
        drop(factors);
        self.keep(TotpWrite::RecoveryUsed { user: user.to_owned(), code: digest, used_ms: now_ms() });
        self.audit(AuditKind::RecoveryUsed, user);
        Ok(())
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

    /// Enrols `user` with the base32 `secret` a page showed, if `first` is a current code of it:
    /// the ten recovery codes, to show once. Replaces any factor the user had.
    pub fn confirm(&self, user: &str, secret: &str, first: &str) -> Result<Vec<String>, TotpError> {
        let secret = code::from_base32(secret).ok_or(TotpError::Wrong)?;
        let digits: String = first.chars().filter(|c| !c.is_whitespace()).collect();
        let now_step = code::step_of(now_ms() / 1000);
        let step = code::matching_step(&secret, &digits, now_step, 0).ok_or(TotpError::Wrong)?;
        let codes = code::new_recovery_codes();
        let recovery: Vec<[u8; 32]> = codes.iter().map(|c| code::recovery_digest(c)).collect();
        let row = TotpRow {
            user: user.to_owned(),
            secret: secret.clone(),
            confirmed_ms: now_ms(),
            last_step: step,
            recovery: recovery.clone(),
        };
        self.factors.lock().insert(user.to_owned(), Factor { secret, last_step: step, recovery });
        self.keep(TotpWrite::Enrol(row));
        self.audit(AuditKind::TotpEnrol, user);
        Ok(codes)
    }

    /// Removes `user`'s second factor, proven with a current `code` (or a recovery code).
    pub async fn remove(&self, user: &str, code: &str) -> Result<(), TotpError> {
        self.check(user, code).await?;
        self.factors.lock().remove(user);
        self.keep(TotpWrite::Remove { user: user.to_owned() });
        self.audit(AuditKind::TotpRemove, user);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now_code(secret: &str) -> String {
        code::code_at(&code::from_base32(secret).expect("base32"), code::step_of(now_ms() / 1000))
    }

    #[tokio::test]
    async fn enrol_check_once_recover_once_remove() {
        let totp = Totp::default();
        assert_eq!(totp.check("ann", "123456").await, Err(TotpError::NotEnrolled));
        let e = totp.begin("ann");
        assert!(!totp.enrolled("ann"), "nothing kept before the confirmation");
        assert_eq!(totp.confirm("ann", &e.secret, "000000x"), Err(TotpError::Wrong));
        let codes = totp.confirm("ann", &e.secret, &now_code(&e.secret)).expect("confirmed");
        assert!(totp.enrolled("ann"));
        // The confirming code's step is taken: the same code again is refused.
        assert_eq!(totp.check("ann", &now_code(&e.secret)).await, Err(TotpError::Wrong));
        assert_eq!(totp.check("ann", &codes[0]).await, Ok(()));
        assert_eq!(totp.check("ann", &codes[0]).await, Err(TotpError::Wrong), "a recovery code works once");
        assert_eq!(totp.recovery_left("ann"), 9);
        assert!(totp.remove("ann", "999999").await.is_err());
        assert_eq!(totp.remove("ann", &codes[1]).await, Ok(()));
        assert!(!totp.enrolled("ann"));
    }
}
