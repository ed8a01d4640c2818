//! A user's own account pages and the kiosk login: the second factor's enrolment page
//! (`/account/totp`, [`totp`]) and the kiosk URL that trades an API token for a remembered session
//! (`/login/token`, [`kiosk`]). Each takes [`Account`]: the [`Gate`], the base path and the site's
//! origin (for the same-origin guard of its forms). [`command`]: `livedash token ...` as the
//! binary runs it.
//!
//! May import the auth wing, [`crate::http`], [`crate::audit`], [`crate::clock`], [`crate::ui`]
//! (which renders the pages), [`crate::config`], [`crate::store`] and [`crate::cluster`] (the
//! command's tokens in Redis); nothing imports it but the router (and the binary).

pub mod command;
pub mod kiosk;
pub mod totp;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;

use crate::auth::Gate;
use crate::http::origin::SiteOrigin;

/// What the account pages take.
#[derive(Clone, FromRef)]
pub struct Account {
    /// Who a request is.
    pub gate: Gate,
    /// The base path (`""` or `/dash`).
    pub base: Arc<str>,
    /// The server's own origin.
    pub site: SiteOrigin,
}

/// `/account/totp`, to put behind the authentication layer.
pub fn protected<S: Clone + Send + Sync + 'static>(account: Account) -> Router<S> {
    Router::new().route("/account/totp", get(totp::page).post(totp::post)).with_state(account)
}

/// `/login/token`, outside the authentication layer (the token is the credential).
pub fn open<S: Clone + Send + Sync + 'static>(account: Account) -> Router<S> {
    Router::new().route("/login/token", get(kiosk::login)).with_state(account)
}
