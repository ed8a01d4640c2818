//! The WebSocket's Origin policy: a browser page may open the live stream only from the server's
//! own origin (that of `--public-url`, or the one the request reached) or an `--allowed-origin`.
//! Also the words that tell the person at a page why its socket never opened: browsers hide the
//! HTTP status of a refused handshake, so the page asks (`/api/ws-diagnose`).

use axum::http::header::ORIGIN;
use axum::http::request::Parts;

use super::state::WsConfig;
use crate::auth::{Auth, TicketState};

/// An origin as browsers send it and as it is compared: lower case, no trailing `/`.
pub use crate::http::origin::normalize;

/// Whether a socket request may proceed as far as its Origin goes. Non-browser clients send no
/// Origin: they are judged by their credentials alone.
pub fn allowed(parts: &Parts, config: &WsConfig) -> bool {
    let Some(origin) = parts.headers.get(ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    problem(origin, parts, config).is_none()
}

/// The server's own origin (see [`crate::http::origin::own`]).
fn own(parts: &Parts, config: &WsConfig) -> Option<String> {
    crate::http::origin::own(parts, config.public_origin.as_deref(), config.tls)
}

/// Why a socket opened from a page at `origin` would be refused with 403, in words for the
/// person looking at that page; `None` when it would be accepted.
fn problem(origin: &str, parts: &Parts, config: &WsConfig) -> Option<String> {
    let origin = normalize(origin);
    let own = own(parts, config);
    if own.as_deref() == Some(origin.as_str()) || config.allowed_origins.contains(&origin) {
        return None;
    }
    let expected = own.unwrap_or_else(|| "(no Host header)".to_owned());
    if config.public_origin.is_some() {
        return Some(format!(
            "the live connection is refused for this page's origin {origin}: the server expects {expected} \
             (its --public-url). Open the dashboard at its public URL, correct --public-url, or allow this \
             origin too with --allowed-origin {origin}"
        ));
    }
    Some(format!(
        "the live connection is refused for this page's origin {origin}: the server expects {expected}. \
         Behind a TLS-terminating proxy start livedash with --trusted-proxy <proxy address>; \
         for another origin use --allowed-origin {origin}"
    ))
}

/// Why the page at `origin` could not open a socket with `ticket` (issued to `user`), in words for
/// the person at the page. Asking redeems nothing.
pub fn socket_problem(origin: &str, ticket: &str, user: &str, parts: &Parts, auth: &Auth, config: &WsConfig) -> String {
    if let Some(problem) = problem(origin, parts, config) {
        return problem;
    }
    match auth.ticket_state(ticket, user) {
        TicketState::Unused => "the live connection never reached livedash as a WebSocket upgrade: a reverse proxy in \
             front of it must forward the WebSocket upgrade (the Upgrade and Connection headers; see the README, \
             \"Behind a reverse proxy\")"
            .to_owned(),
        TicketState::Redeemed => {
            "livedash accepted the live connection's ticket but refused the connection: it is at its \
             limit of open connections (--max-connections, --max-connections-per-ip)"
                .to_owned()
        }
        TicketState::Refused => "livedash refused the live connection's ticket (it expired on the way, or the account \
             changed); the next attempt asks for a new one"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::HOST;
    use std::time::Duration;

    fn config(public_origin: Option<&str>) -> WsConfig {
        WsConfig {
            allowed_origins: vec!["https://ops.example.com".to_owned()],
            public_origin: public_origin.map(str::to_owned),
            tls: false,
            max_connections: 1,
            max_connections_per_ip: 1,
            idle_timeout: Duration::from_secs(1),
        }
    }

    fn parts(origin: Option<&str>) -> Parts {
        let mut request = axum::http::Request::builder().header(HOST, "127.0.0.1:3000");
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        request.body(()).expect("request").into_parts().0
    }

    #[test]
    fn the_own_origin_and_allowed_ones_pass_in_any_case() {
        let c = config(None);
        assert!(allowed(&parts(None), &c), "no Origin: a non-browser client");
        assert!(allowed(&parts(Some("http://127.0.0.1:3000")), &c));
        assert!(allowed(&parts(Some("HTTPS://Ops.Example.com/")), &c));
        assert!(!allowed(&parts(Some("https://127.0.0.1:3000")), &c), "the server is not on TLS");
        assert!(!allowed(&parts(Some("http://evil.example")), &c));
        let public = config(Some("https://dash.example.com"));
        assert!(allowed(&parts(Some("https://dash.example.com")), &public));
        assert!(!allowed(&parts(Some("http://127.0.0.1:3000")), &public), "only the public origin");
        let text = problem("http://127.0.0.1:3000", &parts(None), &public).expect("refused");
        assert!(text.contains("--public-url") && text.contains("https://dash.example.com"), "{text}");
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(normalize(" HTTPS://Ops.Example.com/ "), "https://ops.example.com");
    }
}
