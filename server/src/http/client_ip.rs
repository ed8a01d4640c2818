//! Request facts about the client, set once per request by the connection loop
//! ([`tag`]) and read through typed extractors: the client's address ([`ClientIp`]) and, behind a
//! trusted reverse proxy, the scheme it used ([`ForwardedProto`]).
//!
//! `X-Forwarded-For` and `X-Forwarded-Proto` are believed only from `--trusted-proxy` peers.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Request};

/// The client's address: the TCP peer, or what a trusted proxy says it forwarded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The scheme the client used, as a trusted proxy reports it (`https` when it terminates TLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedProto(pub String);

impl ClientIp {
    /// The client address of a request (`0.0.0.0` for a request that came through no connection,
    /// as in a test calling the router directly).
    pub fn of(parts: &Parts) -> IpAddr {
        if let Some(ClientIp(ip)) = parts.extensions.get::<ClientIp>() {
            return *ip;
        }
        parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(a)| a.ip())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Self::of(parts)))
    }
}

impl ForwardedProto {
    /// The scheme a trusted proxy reported for this request, if any.
    pub fn of(parts: &Parts) -> Option<&str> {
        parts.extensions.get::<ForwardedProto>().map(|p| p.0.as_str())
    }
}

/// Records on `request` (received from `remote`) its peer, its client address and, from a
/// trusted proxy, the scheme the client used.
pub fn tag<B>(request: &mut Request<B>, remote: SocketAddr, trusted: &[ipnet::IpNet]) {
    let client = forwarded_client(remote.ip(), request.headers(), trusted);
    let from_proxy = client != remote.ip() || trusted.iter().any(|n| n.contains(&remote.ip()));
    let proto = from_proxy
        .then(|| request.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase))
        .flatten()
        .filter(|p| p == "http" || p == "https");
    let extensions = request.extensions_mut();
    extensions.insert(ConnectInfo(remote));
    extensions.insert(ClientIp(client));
    if let Some(proto) = proto {
        extensions.insert(ForwardedProto(proto));
    }
}

/// The client behind `peer`: when `peer` is a trusted proxy, the rightmost `X-Forwarded-For`
/// address that is not itself a trusted proxy (earlier entries can be forged by the client);
/// otherwise `peer`, whatever the headers say.
pub fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(value).expect("ascii"));
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().expect("net")];
        let client: IpAddr = "203.0.113.7".parse().expect("ip");
        assert_eq!(forwarded_client(proxy, &xff("203.0.113.7"), &trusted), client);
        // A client-supplied entry on the left is not believed: the proxy appended the real one.
        assert_eq!(forwarded_client(proxy, &xff("1.2.3.4, 203.0.113.7"), &trusted), client);
        // Chained trusted proxies are skipped.
        assert_eq!(forwarded_client(proxy, &xff("203.0.113.7, 10.0.0.9"), &trusted), client);
        // From an untrusted peer the header means nothing.
        assert_eq!(forwarded_client(client, &xff("1.2.3.4"), &trusted), client);
        assert_eq!(forwarded_client(proxy, &xff("garbage"), &trusted), proxy);
        assert_eq!(forwarded_client(proxy, &HeaderMap::new(), &[]), proxy);
    }

    #[test]
    fn the_scheme_is_taken_only_from_a_trusted_proxy() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.2/32".parse().expect("net")];
        let request = |peer: &str| {
            let mut r = Request::builder().header("x-forwarded-proto", "HTTPS").body(()).expect("request");
            tag(&mut r, format!("{peer}:5000").parse().expect("addr"), &trusted);
            let (parts, ()) = r.into_parts();
            (ClientIp::of(&parts), ForwardedProto::of(&parts).map(str::to_owned))
        };
        assert_eq!(request("10.0.0.2"), ("10.0.0.2".parse().expect("ip"), Some("https".to_owned())));
        assert_eq!(request("10.0.0.3"), ("10.0.0.3".parse().expect("ip"), None));
    }
}
