//! The kiosk URL: `GET /login/token?token=ldt_..&next=/?kiosk` trades an API token for a
//! remembered session ("remember this device": a wall screen stays logged in) and answers 303 to
//! `next` (a same-site path; `/` otherwise), so that the token leaves the address bar and the
//! browser's history at once, and the screen from then on holds only a session cookie that can be
//! revoked from the Sessions view. The session's role is the lower of the token's and its user's.
//!
//! Typed or bookmarked only: a link from another site is refused ([`SameOrigin`]), so that no page
//! can log a visitor into someone's token. Refused like a wrong password (throttled per address);
//! with `--login basic` there are no sessions and the URL is a 404.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Account;
use crate::audit::{AuditEvent, AuditKind};
use crate::auth::session::{NewSession, cookie};
use crate::auth::{AuthError, LoginMode};
use crate::http::client_ip::ClientIp;
use crate::http::origin::SameOrigin;

/// `next` when it is a path of this site (one `/`, not `//` nor `/\`, no control characters),
/// else `/`.
pub fn same_site_path(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control()) =>
        {
            n
        }
        _ => "/",
    }
}

/// `GET /login/token`.
pub async fn login(
    _: SameOrigin,
    State(account): State<Account>,
    Query(query): Query<BTreeMap<String, String>>,
    client: ClientIp,
    headers: HeaderMap,
) -> Response {
    let gate = &account.gate;
    if gate.mode == LoginMode::Basic {
        return (StatusCode::NOT_FOUND, "404 Not Found: kiosk URLs need the login form (--login form)\n")
            .into_response();
    }
    let refused = |reason| gate.auth.refuse(client, AuthError::Invalid, reason).into_response();
    let Some(secret) = query.get("token") else { return refused("kiosk URL without a token") };
    let Some(token) = gate.tokens.check(secret).await else { return refused("kiosk URL with a bad token") };
    let (Some(user_role), Some(version)) = (gate.auth.role_of(&token.user), gate.auth.user_version(&token.user)) else {
        return refused("kiosk URL with a token of a removed user");
    };
    let device: String =
        headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(256).collect();
    let (session, _) = gate
        .sessions
        .create(NewSession {
            user: token.user.clone(),
            role: token.role.min(user_role),
            remember: true,
            device,
            addr: client.addr.to_string(),
            version,
        })
        .await;
    let mut detail = serde_json::Map::new();
    detail.insert("via".into(), "token".into());
    detail.insert("token".into(), token.handle.hex().into());
    gate.audit.record(AuditEvent {
        kind: AuditKind::Login,
        user: Some(token.user.to_string()),
        addr: Some(client.addr),
        detail,
    });
    let lifetime = gate.sessions.policy().remembered_lifetime;
    let location = format!("{}{}", account.base, same_site_path(query.get("next").map(String::as_str)));
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    if let (Ok(location), Some(cookie)) =
        (HeaderValue::from_str(&location), cookie::set(&session, gate.tls, Some(lifetime)))
    {
        h.insert(LOCATION, location);
        h.insert(SET_COOKIE, cookie);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_path_of_this_site_is_followed() {
        assert_eq!(same_site_path(Some("/?kiosk")), "/?kiosk");
        assert_eq!(same_site_path(Some("/chart/cpu")), "/chart/cpu");
        for bad in ["https://evil", "//evil", "/\\evil", "evil", "", "/\nx"] {
            assert_eq!(same_site_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(same_site_path(None), "/");
    }
}
