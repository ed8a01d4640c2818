//! `POST /logout`: ends this browser's session on the server (every instance honours that: see
//! [`crate::auth::session`]), tells the browser to forget this site's cookies and storage
//! (`Clear-Site-Data`), removes the session cookie, and sends it to the login form.
//! `POST /logout?everywhere=1` ends every session of the user ("log out everywhere"). A post from
//! another site is refused ([`SameOrigin`]); a browser without a live session is just sent to the
//! form. The page's socket closes as the page goes, and every other socket of the session within a
//! second of its end.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::response::Response;

use super::LoginState;
use crate::audit::AuditKind;
use crate::auth::session::{EndReason, cookie};
use crate::http::client_ip::ClientIp;
use crate::http::origin::SameOrigin;

/// `POST /logout[?everywhere=1]`.
pub async fn logout(
    State(login): State<LoginState>,
    _: SameOrigin,
    client: ClientIp,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let gate = &login.gate;
    let everywhere = query.get("everywhere").is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
    if let Some(secret) = cookie::read(&headers, gate.tls)
        && let Some(session) = gate.sessions.get(&secret).await
    {
        let user = session.user.clone();
        if everywhere {
            let ended = gate.sessions.end_user(&user, EndReason::Revoked).await;
            login.audit(
                AuditKind::LogoutEverywhere,
                Some(&user),
                client.addr,
                serde_json::json!({"sessions": ended.len()}),
            );
        } else {
            gate.sessions.end(session.handle, EndReason::Logout).await;
            login.audit(
                AuditKind::Logout,
                Some(&user),
                client.addr,
                serde_json::json!({"session": session.handle.hex()}),
            );
        }
    }
    let mut response = LoginState::see_other(&format!("{}/login?done=logout", login.base));
    let headers = response.headers_mut();
    headers.insert("clear-site-data", HeaderValue::from_static("\"cookies\", \"storage\""));
    headers.append(SET_COOKIE, cookie::clear(gate.tls));
    response
}
