//! Who may open a socket, decided before any upgrade: the Origin (403), the credentials, a
//! single-use ticket (of a live session, when it was issued to one) or what the authentication
//! layer takes (an API token, Basic, the session cookie: [`crate::auth::layer::identify`]) (401,
//! 429), then a place among the open sockets, in total and per client IP (503, see
//! [`super::connections`]). What a revocation needs is marked before the credential is checked
//! (see [`super::revocation`]). A `sub` or `fleet_since` that does not read is a 400 naming it,
//! after the credentials, before the upgrade.

use axum::extract::{FromRef, FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::header::ORIGIN;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::origin;
use super::revocation::{Marks, Notices, Standing};
use super::state::WsState;
use crate::auth::principal::Via;
use crate::auth::{AuthError, Redemption, layer};
use crate::http::client_ip::ClientIp;
use crate::http::slots::Slot;
use crate::live::subscription::Subs;

/// Why a handshake was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The `Origin` is neither the server's own nor an allowed one.
    #[error("origin not allowed")]
    Origin,
    /// Too many sockets open.
    #[error("too many connections")]
    Full,
    /// See [`AuthError`].
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A `sub` or `fleet_since` that does not read (the message names it).
    #[error("{0}")]
    Query(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Origin => (
                StatusCode::FORBIDDEN,
                "403 Forbidden: this page's origin may not open the live stream (see --allowed-origin)\n",
            )
                .into_response(),
            Self::Full => (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "5")],
                "503 Service Unavailable: too many live connections\n",
            )
                .into_response(),
            Self::Auth(e) => e.into_response(),
            Self::Query(why) => (StatusCode::BAD_REQUEST, format!("400 Bad Request: {why}\n")).into_response(),
        }
    }
}

#[derive(Deserialize)]
struct WsQuery {
    ticket: Option<String>,
    /// Resume after this `seq` instead of starting with a full `hello`.
    since: Option<u64>,
    /// The epoch `since` was read in (see [`crate::live::epoch`]).
    epoch: Option<String>,
    /// What the socket subscribes to (see [`crate::live::subscription`]).
    sub: Option<String>,
    /// Resume the summary frames after this summary `seq`.
    fleet_since: Option<String>,
}

/// The subscription of a query's `sub` and `fleet_since`, or why it does not read.
fn subscription(sub: Option<&str>, fleet_since: Option<&str>) -> Result<(Subs, Option<u64>), Refusal> {
    let subs = Subs::parse(sub).map_err(|e| Refusal::Query(e.to_string()))?;
    let fleet_since = match fleet_since {
        None => None,
        Some(k) => Some(k.parse::<u64>().map_err(|_| Refusal::Query(format!("fleet_since: {k:?} is not a number")))?),
    };
    Ok((subs, fleet_since))
}

/// A handshake that passed every check: its standing (whose it is, the password version
/// verified, its session), what it waits on for a revocation, and its place among the open
/// sockets.
pub struct Admitted {
    /// Whose it is, and what revokes it.
    pub standing: Standing,
    /// The receivers of the accounts' changes and the sessions' ends, marked before the check.
    pub notices: Notices,
    /// Its place, given back when the socket ends.
    pub slot: Slot,
    /// `?since=`: resume after this `seq`.
    pub since: Option<u64>,
    /// `?epoch=`: the epoch `since` was read in.
    pub epoch: Option<String>,
    /// `?sub=`: what it subscribed to.
    pub subs: Subs,
    /// `?fleet_since=`: resume the summary frames after this summary `seq`.
    pub fleet_since: Option<u64>,
}

impl<S: Send + Sync> FromRequestParts<S> for Admitted
where
    WsState: FromRef<S>,
{
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = WsState::from_ref(state);
        let client = ClientIp::of(parts);
        let ip = client.addr;
        let origin = parts.headers.get(ORIGIN).map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned());
        if !origin::allowed(parts, &state.config) {
            tracing::debug!(%ip, origin = ?origin, "websocket refused: origin not allowed");
            let counted = state.auth.count_refusal(client, "websocket origin not allowed");
            return Err(counted.map_or_else(|wait| Refusal::Auth(AuthError::Throttled(wait)), |()| Refusal::Origin));
        }
        // An unparsable query carries no valid ticket: the same 401 as a wrong one.
        let query = Query::<WsQuery>::try_from_uri(&parts.uri).ok();
        let (ticket, since, epoch) = query
            .as_ref()
            .map_or((Some(String::new()), None, None), |Query(q)| (q.ticket.clone(), q.since, q.epoch.clone()));
        // Before any credential is checked: from here on, no revocation is missed.
        let marks = Marks::take(&state.auth, &state.gate.sessions, &state.gate.tokens);
        let (user, session, token) = match ticket {
            Some(ticket) => {
                let refuse = |e| {
                    tracing::debug!(%ip, origin = ?origin, "websocket refused: invalid, expired or reused ticket");
                    state.auth.refuse(client, e, "invalid, expired or reused websocket ticket")
                };
                let Redemption { user, session } = state.auth.redeem_ticket(&ticket).await.map_err(&refuse)?;
                if let Some(handle) = session
                    && !state.gate.sessions.know(handle).await
                {
                    return Err(Refusal::Auth(refuse(AuthError::Invalid)));
                }
                (user, session, None)
            }
            None => {
                let found = layer::identify(&state.gate, &parts.headers, client).await.map_err(|r| r.error)?;
                let (session, token) = match found.principal.via {
                    Via::Session(handle) => (Some(handle), None),
                    Via::Token(handle) => (None, Some(handle)),
                    Via::Basic => (None, None),
                };
                (found.principal.user, session, token)
            }
        };
        // Checked once the client is known, before it takes a place (a 400 reveals no data).
        let (subs, fleet_since) = match &query {
            Some(Query(q)) => subscription(q.sub.as_deref(), q.fleet_since.as_deref())?,
            None => (Subs::default(), None),
        };
        let (max_total, max_per_ip) = (state.config.max_connections, state.config.max_connections_per_ip);
        let Some(slot) = state.connections.acquire(client.group, max_total, max_per_ip) else {
            if state.auth.note_refusal(ip, "websocket connection limit reached") {
                tracing::warn!(%ip, user = ?user, "websocket refused: connection limit reached");
            }
            return Err(Refusal::Full);
        };
        let (standing, notices) = marks.admit(&state.auth, user, session, token);
        Ok(Self { standing, notices, slot, since, epoch, subs, fleet_since })
    }
}
