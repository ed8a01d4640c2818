//! Authentication: HTTP Basic on every route but `/healthz`, single-use WebSocket tickets, a cache
//! of verified credentials and brute-force throttling.
//!
//! - [`accounts`]: [`Auth`], the accounts in force and every check against them;
//! - [`credentials`]: the parsers of what clients present (fuzzed on their own, see `fuzz/`);
//! - [`users`] and [`password`]: the users file and the password hashes in it;
//! - [`cache`]: verified credentials, one verification per credential at a time; [`lanes`]: the
//!   queue of hash verifications, a lane for clients with a device cookie apart from the others;
//! - [`throttle`]: budgets of login attempts per address (and IPv6 /48, see [`subject`]), per user
//!   and per device, and of refusals per address ([`blocked`]: how long and how many it refuses at
//!   most); [`attempts`]: second-factor codes taken from the same budgets; [`device`]: the device
//!   cookies that exempt a proven browser from an
//!   attack on its user; [`refusals`]: the refusal log that a flood cannot grow;
//! - [`ticket`]: the WebSocket tickets and the book of redeemed ones; [`tickets`]: issuing and
//!   redeeming them;
//! - [`shared`]: what the instances of a cluster share (redeemed tickets, login budgets), as a
//!   trait the cluster implements;
//! - [`role`]: who may act (write actions) and who may only look, and the [`role::Writer`]
//!   extractor of a write action; [`principal`]: who made a request and how they proved it;
//! - [`audited`]: refused Basic credentials in the audit;
//! - [`gate`]: all of the above that decides who a request is, as the routes take it;
//! - [`session`]: the login form's server-side sessions; [`token`]: API tokens; [`totp`]: the
//!   optional second factor.
//!
//! [`layer`] is what the routes use: the authentication middleware (API tokens, Basic, the
//! session cookie, the redirect to the login form); this file holds the [`Principal`] extractor,
//! and [`error`] the refusal ([`AuthError`]: 401 or 429). Imports nothing of the server but
//! [`crate::clock`], [`crate::http::client_ip`], the store (the sessions' rows and handle, see
//! [`session`]) and [`crate::audit`] (the [`Gate`] holds it); it does not know the UI.

pub mod accounts;
pub mod attempts;
pub mod audited;
pub mod blocked;
pub mod cache;
pub mod credentials;
pub mod device;
pub mod error;
pub mod gate;
pub mod lanes;
pub mod layer;
pub mod password;
pub mod principal;
pub mod refusals;
pub mod role;
pub mod session;
pub mod shared;
pub mod subject;
pub mod throttle;
#[cfg(test)]
mod throttle_tests;
pub mod ticket;
pub mod tickets;
pub mod token;
pub mod totp;
pub mod users;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

pub use accounts::{Auth, AuthStats, Login, generate_password};
pub use error::AuthError;
pub use gate::{Gate, LoginMode};
pub use layer::{GateLayer, authenticate};
pub use throttle::LoginLimits;
pub use ticket::{Redemption, TICKET_TTL, TicketState};
pub use users::{Users, UsersError};

pub use principal::{Principal, Via};
pub use role::Role;

/// The [`Principal`] the authentication layer left on the request; 401 on a route outside it.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or(AuthError::Missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use axum::response::IntoResponse;

    use crate::http::client_ip::ClientIp;
    use std::net::IpAddr;
    use std::num::NonZeroU32;
    use std::sync::atomic::Ordering;

    use std::time::Duration;

    use axum::http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
    use axum::http::{HeaderMap, HeaderValue, StatusCode};
    use base64::Engine;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn headers(value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_bytes(value).expect("header bytes"));
        h
    }

    fn basic(user_pass: &str) -> HeaderMap {
        headers(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_pass)).as_bytes())
    }

    fn at(ip: IpAddr) -> ClientIp {
        ClientIp { addr: ip, group: ip }
    }

    fn auth(password: &str) -> Auth {
        Auth::new(Users::single("admin", password), LoginLimits::default())
    }

    fn limits(ip: u32, user: u32) -> LoginLimits {
        LoginLimits {
            per_ip_per_minute: NonZeroU32::new(ip).expect("nonzero"),
            per_user_per_minute: NonZeroU32::new(user).expect("nonzero"),
            ..LoginLimits::default()
        }
    }

    #[tokio::test]
    async fn right_credentials_pass_wrong_ones_do_not() {
        let auth = auth("s3cret:with colon");
        assert_eq!(
            auth.check_basic(&basic("admin:s3cret:with colon"), at(IP)).await.map(|l| l.user.to_string()).as_deref(),
            Ok("admin")
        );
        assert_eq!(auth.check_basic(&basic("admin:s3cret"), at(IP)).await, Err(AuthError::Invalid));
        assert_eq!(auth.check_basic(&basic("root:s3cret:with colon"), at(IP)).await, Err(AuthError::Invalid));
        assert_eq!(auth.check_basic(&HeaderMap::new(), at(IP)).await, Err(AuthError::Missing));
    }

    #[tokio::test]
    async fn malformed_authorization_values_are_invalid_not_panics() {
        let auth = auth("pw");
        for value in credentials::malformed_basic_examples() {
            assert_eq!(auth.check_basic(&headers(&value), at(IP)).await, Err(AuthError::Invalid), "{value:?}");
        }
        // The scheme is case-insensitive.
        assert!(auth.check_basic(&headers(b"bAsIc YWRtaW46cHc="), at(IP)).await.is_ok());
    }

    #[tokio::test]
    async fn a_burst_of_one_credential_costs_one_verification() {
        let auth = Arc::new(auth("pw"));
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let auth = auth.clone();
                tokio::spawn(async move { auth.check_basic(&basic("admin:pw"), at(IP)).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.expect("task").map(|l| l.user.to_string()).as_deref(), Ok("admin"));
        }
        assert_eq!(auth.stats.verifications.load(Ordering::Relaxed), 1);
        // Later requests come from the cache.
        assert!(auth.check_basic(&basic("admin:pw"), at(IP)).await.is_ok());
        assert_eq!(auth.stats.verifications.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn too_many_attempts_from_one_ip_are_throttled_before_hashing() {
        let auth = Auth::new(Users::single("admin", "pw"), limits(3, 100));
        for _ in 0..3 {
            assert_eq!(auth.check_basic(&basic("admin:nope"), at(IP)).await, Err(AuthError::Invalid));
        }
        let before = auth.stats.verifications.load(Ordering::Relaxed);
        assert!(matches!(auth.check_basic(&basic("admin:pw"), at(IP)).await, Err(AuthError::Throttled(_))));
        assert_eq!(auth.stats.verifications.load(Ordering::Relaxed), before, "no hash computed when throttled");
        // Another address is not affected, and the real password works there.
        let other = IpAddr::from([127, 0, 0, 2]);
        assert_eq!(
            auth.check_basic(&basic("admin:pw"), at(other)).await.map(|l| l.user.to_string()).as_deref(),
            Ok("admin")
        );
        // Now that the right credential is cached, the throttled address still gets no answer
        // that tells it the password is right.
        assert!(matches!(auth.check_basic(&basic("admin:pw"), at(IP)).await, Err(AuthError::Throttled(_))));
    }

    #[tokio::test]
    async fn too_many_attempts_for_one_user_are_throttled_from_every_ip() {
        let auth = Auth::new(Users::single("admin", "pw"), limits(100, 2));
        for i in 0..2u8 {
            let _ = auth.check_basic(&basic("admin:nope"), at(IpAddr::from([10, 0, 0, i]))).await;
        }
        let fresh = IpAddr::from([10, 0, 1, 1]);
        assert!(matches!(auth.check_basic(&basic("admin:nope"), at(fresh)).await, Err(AuthError::Throttled(_))));
        // Other users are unaffected.
        assert_eq!(auth.check_basic(&basic("bob:x"), at(fresh)).await, Err(AuthError::Invalid));
    }

    #[tokio::test]
    async fn a_user_blocked_by_others_guesses_still_lets_in_a_credential_used_from_here() {
        let auth = Auth::new(Users::single("admin", "pw"), limits(100, 3));
        let (scraper, newcomer) = (IpAddr::from([10, 0, 0, 30]), IpAddr::from([10, 0, 0, 40]));
        assert!(auth.check_basic(&basic("admin:pw"), at(scraper)).await.is_ok());
        for i in 0..4u8 {
            let _ = auth.check_basic(&basic("admin:nope"), at(IpAddr::from([10, 0, 0, i]))).await;
        }
        // Before: 429 for the scraper too, since the user's block came before the cache.
        for _ in 0..3 {
            assert_eq!(auth.check_basic(&basic("admin:pw"), at(scraper)).await.map(|l| l.device), Ok(false));
        }
        // A right password from a group it was never used from is refused like a guess, and so is
        // a wrong one from the scraper's group.
        assert!(matches!(auth.check_basic(&basic("admin:pw"), at(newcomer)).await, Err(AuthError::Throttled(_))));
        assert!(matches!(auth.check_basic(&basic("admin:x"), at(scraper)).await, Err(AuthError::Throttled(_))));
        // Those tries spend the guesser's own budgets: its pair (5 a minute) ends up blocked, and
        // then the cached credential does not pass there either.
        for _ in 0..5 {
            let _ = auth.check_basic(&basic("admin:x"), at(scraper)).await;
        }
        assert!(matches!(auth.check_basic(&basic("admin:pw"), at(scraper)).await, Err(AuthError::Throttled(_))));
    }

    #[test]
    fn throttled_response_says_when_to_retry() {
        let r = AuthError::Throttled(Duration::from_millis(5_200)).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[RETRY_AFTER], "6");
        let r = AuthError::Invalid.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers()[WWW_AUTHENTICATE].to_str().expect("ascii").starts_with("Basic realm="));
    }

    #[tokio::test]
    async fn replacing_users_invalidates_cached_credentials() {
        let auth = auth("old");
        assert!(auth.check_basic(&basic("admin:old"), at(IP)).await.is_ok());
        let changes = auth.changes();
        auth.replace_users(Users::single("admin", "new"));
        assert!(changes.has_changed().expect("sender alive"));
        assert_eq!(auth.check_basic(&basic("admin:old"), at(IP)).await, Err(AuthError::Invalid));
        assert!(auth.check_basic(&basic("admin:new"), at(IP)).await.is_ok());
    }

    #[tokio::test]
    async fn a_verification_racing_a_reload_never_caches_the_old_password() {
        let auth = Arc::new(auth("old"));
        let racing = {
            let auth = auth.clone();
            tokio::spawn(async move { auth.check_basic(&basic("admin:old"), at(IP)).await })
        };
        // The hash takes milliseconds: the accounts change while it runs.
        tokio::time::sleep(Duration::from_millis(2)).await;
        auth.replace_users(Users::single("admin", "new"));
        let _ = racing.await.expect("task");
        // Before: the old password was cached under the new accounts' version and kept working.
        assert_eq!(auth.check_basic(&basic("admin:old"), at(IP)).await, Err(AuthError::Invalid));
        assert!(auth.check_basic(&basic("admin:new"), at(IP)).await.is_ok());
    }

    #[tokio::test]
    async fn a_queue_of_verifications_is_bounded() {
        let auth = Arc::new(Auth::new(Users::single("admin", "pw"), limits(1000, 1000)));
        let tasks: Vec<_> = (0..200u32)
            .map(|i| {
                let auth = auth.clone();
                // Distinct credentials from distinct addresses: each needs a hash of its own.
                let ip = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
                tokio::spawn(async move { auth.check_basic(&basic(&format!("admin:guess{i}")), at(ip)).await })
            })
            .collect();
        let mut busy = 0;
        for t in tasks {
            match t.await.expect("task") {
                Err(AuthError::Busy) => busy += 1,
                other => assert_eq!(other, Err(AuthError::Invalid)),
            }
        }
        assert!(busy > 0, "past the queue the answer is 503, not an unbounded wait");
        assert_eq!(auth.stats.busy.load(Ordering::Relaxed), busy);
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
    }
}
