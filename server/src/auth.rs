//! Authentication: HTTP Basic on every route but `/healthz`, and single-use WebSocket tickets.
//!
//! Credentials are compared in constant time through an HMAC with a per-process random key, so
//! neither the password nor a comparison's timing leaks. A ticket is
//! `base64url(expiry ‖ nonce ‖ user) . base64url(HMAC-SHA256(payload))`: bound to its user, valid
//! for [`TICKET_TTL`], redeemable once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::hub::now_ms;
use crate::state::AppState;

type HmacSha256 = Hmac<Sha256>;

/// How long a WebSocket ticket stays valid.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
const NONCE_LEN: usize = 16;

/// Why a request was not let in. Never says which part of the credentials was wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header (and no ticket).
    #[error("credentials required")]
    Missing,
    /// Credentials or ticket present but not valid, whatever the reason.
    #[error("invalid credentials")]
    Invalid,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="livedash", charset="UTF-8""#))],
            "401 Unauthorized: log in with your livedash user name and password\n",
        )
            .into_response()
    }
}

/// The one account of this build and the ticket book.
pub struct Auth {
    key: [u8; 32],
    user: String,
    password_mac: [u8; 32],
    /// Redeemed ticket nonces and their expiry, so that each ticket works once.
    redeemed: Mutex<HashMap<[u8; NONCE_LEN], u64>>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS random source failing is unrecoverable for a server that must make secrets.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("the operating system's random source is unavailable");
    buf
}

/// A random password: 18 bytes, 24 URL-safe characters.
pub fn generate_password() -> String {
    URL_SAFE_NO_PAD.encode(random::<18>())
}

impl Auth {
    /// An account `user` with `password`.
    pub fn new(user: &str, password: &str) -> Self {
        let key = random::<32>();
        let password_mac = mac(&key, &[password.as_bytes()]);
        Self { key, user: user.to_owned(), password_mac, redeemed: Mutex::new(HashMap::new()) }
    }

    /// The user named by valid Basic credentials in `headers`.
    pub fn check_basic(&self, headers: &HeaderMap) -> Result<Arc<str>, AuthError> {
        let value = headers.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
        let (user, password) = parse_basic(value.as_bytes()).ok_or(AuthError::Invalid)?;
        let user_ok = mac(&self.key, &[user.as_bytes()]).ct_eq(&mac(&self.key, &[self.user.as_bytes()]));
        let pass_ok = mac(&self.key, &[password.as_bytes()]).ct_eq(&self.password_mac);
        if bool::from(user_ok & pass_ok) { Ok(Arc::from(user)) } else { Err(AuthError::Invalid) }
    }

    /// A fresh ticket for `user`.
    pub fn issue_ticket(&self, user: &str) -> String {
        self.issue_ticket_at(user, now_ms())
    }

    fn issue_ticket_at(&self, user: &str, now: u64) -> String {
        let expiry = now + u64::try_from(TICKET_TTL.as_millis()).unwrap_or(u64::MAX);
        let mut payload = Vec::with_capacity(8 + NONCE_LEN + user.len());
        payload.extend_from_slice(&expiry.to_be_bytes());
        payload.extend_from_slice(&random::<NONCE_LEN>());
        payload.extend_from_slice(user.as_bytes());
        let tag = mac(&self.key, &[&payload]);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The user of a valid, unexpired, not yet redeemed ticket; redeems it.
    pub fn redeem_ticket(&self, ticket: &str) -> Result<Arc<str>, AuthError> {
        self.redeem_ticket_at(ticket, now_ms())
    }

    fn redeem_ticket_at(&self, ticket: &str, now: u64) -> Result<Arc<str>, AuthError> {
        let (payload, tag) = ticket.split_once('.').ok_or(AuthError::Invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| AuthError::Invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| AuthError::Invalid)?;
        let mut check = HmacSha256::new_from_slice(&self.key).map_err(|_| AuthError::Invalid)?;
        check.update(&payload);
        check.verify_slice(&tag).map_err(|_| AuthError::Invalid)?;
        // Authentic from here on: the layout is ours.
        let (expiry, rest) = payload.split_first_chunk::<8>().ok_or(AuthError::Invalid)?;
        let (nonce, user) = rest.split_first_chunk::<NONCE_LEN>().ok_or(AuthError::Invalid)?;
        let expiry = u64::from_be_bytes(*expiry);
        if now >= expiry {
            return Err(AuthError::Invalid);
        }
        let user = std::str::from_utf8(user).map_err(|_| AuthError::Invalid)?;
        let mut redeemed = self.redeemed.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget tickets that expired: they fail the expiry check anyway. This bounds the map
        // to the tickets issued within one TTL.
        redeemed.retain(|_, exp| *exp > now);
        if redeemed.insert(*nonce, expiry).is_some() {
            return Err(AuthError::Invalid);
        }
        Ok(Arc::from(user))
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length: this cannot fail.
    let Ok(mut m) = HmacSha256::new_from_slice(key) else { return [0; 32] };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// `Basic <base64(user:password)>` → `(user, password)`; `None` for anything else, however
/// malformed (never panics).
pub fn parse_basic(value: &[u8]) -> Option<(String, String)> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    // A generous bound on what a real user name and password encode to.
    let encoded = encoded.trim();
    if encoded.is_empty() || encoded.len() > 4096 {
        return None;
    }
    let decoded = STANDARD.decode(encoded).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The user of a request that carried valid Basic credentials.
#[derive(Debug, Clone)]
pub struct BasicUser(pub Arc<str>);

impl FromRequestParts<AppState> for BasicUser {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state.auth.check_basic(&parts.headers).map(BasicUser).inspect_err(|e| {
            if *e == AuthError::Invalid {
                tracing::info!(path = %parts.uri.path(), "refused: invalid credentials");
            }
        })
    }
}

/// Middleware for everything behind Basic auth: refuses with 401, or records the user for the
/// app (server functions read it from the request's extensions).
pub async fn require_basic(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match BasicUser::from_request_parts(&mut parts, &state).await {
        Ok(BasicUser(user)) => {
            parts.extensions.insert(app::ssr::User(user));
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_bytes(value).expect("header bytes"));
        h
    }

    fn basic(user_pass: &str) -> HeaderMap {
        headers(format!("Basic {}", STANDARD.encode(user_pass)).as_bytes())
    }

    #[test]
    fn right_credentials_pass_wrong_ones_do_not() {
        let auth = Auth::new("admin", "s3cret:with colon");
        assert_eq!(auth.check_basic(&basic("admin:s3cret:with colon")).as_deref(), Ok("admin"));
        assert_eq!(auth.check_basic(&basic("admin:s3cret")), Err(AuthError::Invalid));
        assert_eq!(auth.check_basic(&basic("root:s3cret:with colon")), Err(AuthError::Invalid));
        assert_eq!(auth.check_basic(&HeaderMap::new()), Err(AuthError::Missing));
    }

    #[test]
    fn malformed_authorization_values_are_invalid_not_panics() {
        let auth = Auth::new("admin", "pw");
        let long = format!("Basic {}", "A".repeat(65_536));
        for value in [
            &b"Basic"[..],
            b"Basic ",
            b"",
            b"Bearer abc",
            b"Basic !!!notbase64",
            b"Basic YWRtaW4=",          // "admin": no colon
            b"Basic /w==",              // 0xFF: not UTF-8 once decoded
            b"Basic \xff\xfe",          // raw non-UTF-8 bytes in the header
            b"basic YWRtaW46cHc= junk", // trailing garbage
            long.as_bytes(),
        ] {
            assert_eq!(auth.check_basic(&headers(value)), Err(AuthError::Invalid), "{value:?}");
        }
        // The scheme is case-insensitive.
        assert!(auth.check_basic(&headers(b"bAsIc YWRtaW46cHc=")).is_ok());
    }

    #[test]
    fn tickets_work_once_for_their_user() {
        let auth = Auth::new("admin", "pw");
        let t = auth.issue_ticket("admin");
        assert_eq!(auth.redeem_ticket(&t).as_deref(), Ok("admin"));
        assert_eq!(auth.redeem_ticket(&t), Err(AuthError::Invalid), "replay");
    }

    #[test]
    fn expired_tampered_truncated_and_foreign_tickets_fail() {
        let auth = Auth::new("admin", "pw");
        let t = auth.issue_ticket_at("admin", 1_000);
        assert_eq!(auth.redeem_ticket_at(&t, 1_000 + 30_000), Err(AuthError::Invalid), "expired");

        let t = auth.issue_ticket("admin");
        let mut tampered = t.clone().into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert_eq!(auth.redeem_ticket(&tampered), Err(AuthError::Invalid), "tampered");
        assert_eq!(auth.redeem_ticket(&t[..t.len() - 2]), Err(AuthError::Invalid), "truncated");
        for garbage in ["", ".", "abc", "a.b", "%%%.%%%", "....."] {
            assert_eq!(auth.redeem_ticket(garbage), Err(AuthError::Invalid), "{garbage:?}");
        }
        let other = Auth::new("admin", "pw");
        assert_eq!(other.redeem_ticket(&auth.issue_ticket("admin")), Err(AuthError::Invalid), "other key");
        assert_eq!(auth.redeem_ticket(&t).as_deref(), Ok("admin"), "the original still works once");
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
    }
}
