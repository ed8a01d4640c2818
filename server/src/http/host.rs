//! The `Host` a request is addressed to, and [`loopback_only`]: the guard of the unauthenticated
//! metrics listener (`--metrics-listen`), which answers only requests addressed to a loopback
//! name. A page from another site that rebinds its own DNS name to 127.0.0.1 (DNS rebinding)
//! reaches the listener's socket, but its requests carry that name as their `Host`: refused.

use std::net::{Ipv4Addr, Ipv6Addr};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The answer to a request addressed to another host.
pub const REFUSAL: &str = "421 Misdirected Request: this listener (--metrics-listen) answers only requests \
    addressed to a loopback host: localhost, 127.x.x.x or [::1], with or without a port.\n";

/// Whether `host` (a `Host` header's value, or a URI's authority: `name[:port]`) names loopback:
/// `localhost` (any case, with or without the final dot), an IPv4 address in 127.0.0.0/8 or
/// `[::1]`, each with or without a port. Anything else is not, names that resolve to loopback
/// included: whoever controls a name's DNS can point it there.
pub fn is_loopback_host(host: &str) -> bool {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else { return false };
        let Some(port) = after.strip_prefix(':').or(after.is_empty().then_some("")) else { return false };
        return port_ok(port, after.is_empty()) && inside.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    if !port.is_none_or(|p| port_ok(p, false)) {
        return false;
    }
    name.eq_ignore_ascii_case("localhost")
        || name.eq_ignore_ascii_case("localhost.")
        || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `port` (after a `:`) is a port number; `none` when there was no `:` at all.
fn port_ok(port: &str, none: bool) -> bool {
    none || (!port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()))
}

/// Passes a request whose `Host` (or, without one, whose URI's authority, as HTTP/2 sends it)
/// names loopback; answers any other with 421 and [`REFUSAL`].
pub async fn loopback_only(request: Request, next: Next) -> Response {
    let host = match request.headers().get(HOST) {
        Some(value) => value.to_str().ok().map(str::to_owned),
        None => request.uri().authority().map(|a| a.as_str().rsplit('@').next().unwrap_or_default().to_owned()),
    };
    if host.as_deref().is_some_and(is_loopback_host) {
        next.run(request).await
    } else {
        (StatusCode::MISDIRECTED_REQUEST, REFUSAL).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_pass_with_or_without_a_port() {
        for host in [
            "localhost",
            "LocalHost:9464",
            "localhost.",
            "localhost.:9464",
            "127.0.0.1",
            "127.0.0.1:9464",
            "127.3.2.1:1",
            "[::1]",
            "[::1]:9464",
            "[0:0:0:0:0:0:0:1]:80",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn other_hosts_are_refused() {
        for host in [
            "",
            "rebind.example",
            "rebind.example:9464",
            "localhost.rebind.example",
            "127.0.0.1.rebind.example",
            "sub.localhost",
            "10.0.0.1:9464",
            "0.0.0.0",
            "128.0.0.1",
            "127.1",
            "::1",
            "[::1",
            "[::1]x",
            "[::2]:9464",
            "[::ffff:10.0.0.1]",
            "localhost:",
            "localhost:abc",
            "localhost:9464:1",
            "127.0.0.1:123456",
            "local host",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
