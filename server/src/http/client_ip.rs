//! Request facts about the client, set once per request by the connection loop ([`tag`]) and read
//! through typed extractors: the client's address and the group it is throttled and counted by
//! ([`ClientIp`]) and, behind a trusted reverse proxy, the scheme it used ([`ForwardedProto`]).
//!
//! Addresses are taken as an operator means them: an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`,
//! as a dual-stack listener reports IPv4 peers) is the IPv4 address, before any trust, throttle or
//! cap decision; IPv6 clients are grouped by their /64 (`--ipv6-prefix`), since one host usually
//! has a whole /64. `X-Forwarded-For` and `X-Forwarded-Proto` are believed only from
//! `--trusted-proxy` peers.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Request};

/// How the connection loop reads client addresses.
#[derive(Debug, Clone)]
pub struct AddressPolicy {
    /// Reverse proxies whose forwarded headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// IPv6 clients are grouped by this prefix length (IPv4 ones by their whole address).
    pub ipv6_prefix: u8,
}

impl AddressPolicy {
    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// The group `ip` is throttled and counted by: itself for IPv4, its network for IPv6.
    pub fn group(&self, ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let bits = u32::from(self.ipv6_prefix.min(128));
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
            v4 => v4,
        }
    }
}

/// The client: its address (the TCP peer, or what a trusted proxy says it forwarded for) and the
/// group it is throttled and counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp {
    /// The address, canonical (never IPv4-mapped).
    pub addr: IpAddr,
    /// Its group (see [`AddressPolicy::group`]).
    pub group: IpAddr,
}

/// The scheme the client used, as a trusted proxy reports it (`https` when it terminates TLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedProto(pub String);

impl ClientIp {
    /// The client of a request (`0.0.0.0` for a request that came through no connection, as in a
    /// test calling the router directly).
    pub fn of(parts: &Parts) -> ClientIp {
        if let Some(client) = parts.extensions.get::<ClientIp>() {
            return *client;
        }
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(a)| a.ip().to_canonical());
        ClientIp { addr, group: addr }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

impl ForwardedProto {
    /// The scheme a trusted proxy reported for this request, if any.
    pub fn of(parts: &Parts) -> Option<&str> {
        parts.extensions.get::<ForwardedProto>().map(|p| p.0.as_str())
    }
}

/// Records on `request` (received from `remote`) its peer, its client and, from a trusted proxy,
/// the scheme the client used.
pub fn tag<B>(request: &mut Request<B>, remote: SocketAddr, policy: &AddressPolicy) {
    let peer = remote.ip().to_canonical();
    let addr = forwarded_client(peer, request.headers(), policy);
    let proto = policy
        .trusts(peer)
        .then(|| request.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase))
        .flatten()
        .filter(|p| p == "http" || p == "https");
    let extensions = request.extensions_mut();
    extensions.insert(ConnectInfo(remote));
    extensions.insert(ClientIp { addr, group: policy.group(addr) });
    if let Some(proto) = proto {
        extensions.insert(ForwardedProto(proto));
    }
}

/// The client behind `peer` (canonical). From an untrusted peer, the peer itself, whatever the
/// headers say. From a trusted proxy, `X-Forwarded-For` is walked from the right (each proxy
/// appends the address it got the request from): trusted proxies are passed over, and the first
/// entry that is not one is the client. An entry that does not parse stops the walk at the proxy
/// that wrote it, since nothing to its left can be believed.
pub fn forwarded_client(peer: IpAddr, headers: &HeaderMap, policy: &AddressPolicy) -> IpAddr {
    if !policy.trusts(peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().map_or(vec![""], |s| s.split(',').collect()))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry) else { return client };
        if !policy.trusts(ip) {
            return ip;
        }
        client = ip;
    }
    client
}

/// One `X-Forwarded-For` entry: `ip`, `ip:port` or `[ipv6]:port`, canonical.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[').and_then(|e| e.strip_suffix(']')).and_then(|e| e.parse().ok()))?;
    Some(ip.to_canonical())
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

    fn policy(trusted: &[&str]) -> AddressPolicy {
        AddressPolicy { trusted_proxies: trusted.iter().map(|t| t.parse().expect("net")).collect(), ipv6_prefix: 64 }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted = policy(&["10.0.0.0/24"]);
        let (proxy, client) = (ip("10.0.0.2"), ip("203.0.113.7"));
        assert_eq!(forwarded_client(proxy, &xff("203.0.113.7"), &trusted), client);
        // A client-supplied entry on the left is not believed: the proxy appended the real one.
        assert_eq!(forwarded_client(proxy, &xff("1.2.3.4, 203.0.113.7"), &trusted), client);
        // Chained trusted proxies are skipped.
        assert_eq!(forwarded_client(proxy, &xff("203.0.113.7, 10.0.0.9"), &trusted), client);
        // From an untrusted peer the header means nothing.
        assert_eq!(forwarded_client(client, &xff("1.2.3.4"), &trusted), client);
        assert_eq!(forwarded_client(proxy, &xff("garbage"), &trusted), proxy);
        assert_eq!(forwarded_client(proxy, &HeaderMap::new(), &policy(&[])), proxy);
    }

    #[test]
    fn an_entry_that_does_not_parse_stops_the_walk_at_the_proxy_that_wrote_it() {
        let trusted = policy(&["10.0.0.0/24"]);
        // Before: unparsable entries were skipped, so the client's own "1.2.3.4" was believed.
        assert_eq!(forwarded_client(ip("10.0.0.2"), &xff("1.2.3.4, unknown"), &trusted), ip("10.0.0.2"));
        assert_eq!(forwarded_client(ip("10.0.0.2"), &xff("1.2.3.4, unknown, 10.0.0.9"), &trusted), ip("10.0.0.9"));
        // With ports, as some proxies write them.
        assert_eq!(forwarded_client(ip("10.0.0.2"), &xff("203.0.113.7:5123"), &trusted), ip("203.0.113.7"));
        assert_eq!(forwarded_client(ip("10.0.0.2"), &xff("[2001:db8::7]:443"), &trusted), ip("2001:db8::7"));
        assert_eq!(forwarded_client(ip("10.0.0.2"), &xff("[2001:db8::8]"), &trusted), ip("2001:db8::8"));
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4_before_any_trust_decision() {
        let trusted = policy(&["127.0.0.1/32"]);
        let mapped = ip("::ffff:127.0.0.1");
        let mut request = Request::builder().header("x-forwarded-for", "::ffff:203.0.113.7").body(()).expect("request");
        tag(&mut request, SocketAddr::new(mapped, 5000), &trusted);
        let client = ClientIp::of(&request.into_parts().0);
        assert_eq!(client, ClientIp { addr: ip("203.0.113.7"), group: ip("203.0.113.7") });
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_prefix() {
        let p = policy(&[]);
        assert_eq!(p.group(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(p.group(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(p.group(ip("2001:db8:1:3::1")), p.group(ip("2001:db8:1:2::1")));
        assert_eq!(p.group(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(p.group(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        let whole = AddressPolicy { ipv6_prefix: 128, ..p.clone() };
        assert_eq!(whole.group(ip("2001:db8::1")), ip("2001:db8::1"));
        let zero = AddressPolicy { ipv6_prefix: 0, ..p };
        assert_eq!(zero.group(ip("2001:db8::1")), ip("::"));
    }

    #[test]
    fn the_scheme_is_taken_only_from_a_trusted_proxy() {
        let trusted = policy(&["10.0.0.2/32"]);
        let request = |peer: &str| {
            let mut r = Request::builder().header("x-forwarded-proto", "HTTPS").body(()).expect("request");
            tag(&mut r, format!("{peer}:5000").parse().expect("addr"), &trusted);
            let (parts, ()) = r.into_parts();
            (ClientIp::of(&parts).addr, ForwardedProto::of(&parts).map(str::to_owned))
        };
        assert_eq!(request("10.0.0.2"), (ip("10.0.0.2"), Some("https".to_owned())));
        assert_eq!(request("10.0.0.3"), (ip("10.0.0.3"), None));
    }
}
