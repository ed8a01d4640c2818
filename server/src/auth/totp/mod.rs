//! The optional second factor: TOTP (RFC 6238, 30 s steps, 6 digits, SHA-1 as authenticator apps
//! expect), enrolled from the page (a QR code drawn as SVG and the secret as text, confirmed with
//! a first code), with ten single-use recovery codes shown once. Codes are throttled like
//! passwords, compared in constant time and not taken twice within their window. A user with a
//! second factor cannot log in by Basic with the password alone (API tokens still work).
//!
//! May import the auth wing's [`super::role`] and [`super::principal`], the store's rows
//! ([`crate::store::auth::totp`]) and [`crate::clock`].

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

/// The users' second factors.
#[derive(Default)]
pub struct Totp {}

impl Totp {
    /// Whether `user` has a confirmed second factor.
    pub fn enrolled(&self, user: &str) -> bool {
        let _ = user;
        false
    }

    /// Checks `code` (six digits, or a recovery code, spent once) for `user`.
    pub async fn check(&self, user: &str, code: &str) -> Result<(), TotpError> {
        let _ = (user, code);
        Err(TotpError::NotEnrolled)
    }
}
