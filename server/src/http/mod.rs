//! The HTTP layer under the routes: the connection loop with its timeouts and size caps
//! ([`serve`]) and the stream it serves, taken back on an upgrade ([`io`]), the security headers on every response ([`headers`]), the request facts the loop
//! records about the client ([`client_ip`]), the `Host` a request names and the metrics listener's
//! loopback-only guard ([`host`]), the server's own origin and the same-origin guard of
//! write actions ([`origin`]) and the counted places for connections ([`slots`]). Knows nothing of the routes or sub-systems
//! above it; imports only [`crate::shutdown`].

pub mod client_ip;
pub mod headers;
pub mod host;
pub mod io;
pub mod origin;
pub mod serve;
pub mod slots;
