//! Value parsers for settings, shared by the flags and the file, each saying what it expects:
//! durations within bounds, loopback and network addresses, origins, the public URL.

use std::net::SocketAddr;
use std::time::Duration;

use crate::http::origin::normalize as normalize_origin;

/// How many history reads may run at once: a whole number from 1 to 1024.
pub fn parse_reads(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=1024).contains(n))
        .ok_or_else(|| format!("{s:?}: a whole number from 1 to 1024"))
}

/// A duration like `1s` or `500ms` between `min` and `max`.
pub fn parse_duration(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 1s, 500ms, 2m)"))?;
    if d < min || d > max {
        return Err(format!(
            "must be between {} and {}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        ));
    }
    Ok(d)
}

/// A fetch interval: 50 ms to 1 h.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_millis(50), Duration::from_secs(3600))
}

/// A history length: 1 s to 7 days.
pub fn parse_history(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_secs(1), Duration::from_secs(7 * 24 * 3600))
}

/// How long a tier of the history store is kept: 1 h to 10 years (`24h`, `30d`, `1y`).
pub fn parse_retention(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_secs(3600), Duration::from_secs(10 * 366 * 86_400))
}

/// Where history is kept: `none` (memory only) or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreArg {
    /// `--store none`.
    Off,
    /// `--store PATH`.
    File(std::path::PathBuf),
}

/// The history store: a file path, or `none` for memory only.
pub fn parse_store(s: &str) -> Result<StoreArg, String> {
    match s.trim() {
        "" => Err("empty: give a file path, or none".to_owned()),
        "none" => Ok(StoreArg::Off),
        path => Ok(StoreArg::File(std::path::PathBuf::from(path))),
    }
}

/// A WebSocket idle timeout: 1 s to 1 h.
pub fn parse_idle(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_secs(1), Duration::from_secs(3600))
}

/// A size in bytes: a number with an optional unit `B`, `KiB`, `MiB`, `GiB` (or `K`, `M`, `G`), at
/// least 1 MiB and at most 64 GiB.
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    const EXAMPLES: &str = "examples: 64MiB, 512KiB, 1GiB";
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("{s:?} is not a size ({EXAMPLES})"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        other => return Err(format!("unknown unit {other:?} ({EXAMPLES})")),
    };
    let bytes = number.checked_mul(1 << shift).filter(|b| (1 << 20..=64 << 30).contains(b));
    bytes.and_then(|b| usize::try_from(b).ok()).ok_or_else(|| "must be between 1MiB and 64GiB".to_owned())
}

/// A loopback socket address.
pub fn parse_loopback(s: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = s.parse().map_err(|e| format!("{e}"))?;
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err("metrics without authentication are served on loopback only (e.g. 127.0.0.1:9464)".to_owned())
    }
}

/// An IP address or a CIDR range.
pub fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not an IP address or a CIDR range like 10.0.0.0/8"))
}

/// An origin, `scheme://host[:port]`, normalised.
pub fn parse_origin(s: &str) -> Result<String, String> {
    let origin = normalize_origin(s);
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains('/') => Ok(origin),
        _ => Err("an origin is scheme://host[:port], e.g. https://ops.example.com".to_owned()),
    }
}

/// Where users reach livedash (`--public-url`), split into what the server needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, lower case, without a default port: what browsers send as Origin.
    pub origin: String,
    /// The path everything is served under, without a trailing slash: `""` or `/dash`.
    pub base: String,
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}/", self.origin, self.base)
    }
}

/// `--public-url`: split into origin and base path.
pub fn parse_public_url(s: &str) -> Result<PublicUrl, String> {
    const EXAMPLE: &str = "e.g. https://ops.example.com/dash";
    let s = s.trim();
    if s.contains(['?', '#']) {
        return Err(format!("{s:?}: no query or fragment, only scheme, host and path ({EXAMPLE})"));
    }
    let uri: axum::http::Uri = s.parse().map_err(|e| format!("{s:?}: {e} ({EXAMPLE})"))?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
    let default_port = match scheme.as_deref() {
        Some("https") => 443,
        Some("http") => 80,
        _ => return Err(format!("{s:?}: must start with https:// or http:// ({EXAMPLE})")),
    };
    let Some(authority) = uri.authority().filter(|a| !a.host().is_empty()) else {
        return Err(format!("{s:?}: has no host ({EXAMPLE})"));
    };
    if authority.as_str().contains('@') {
        return Err(format!("{s:?}: must not carry a user name or password"));
    }
    let host = authority.host().to_ascii_lowercase();
    let origin = match authority.port_u16() {
        Some(port) if port != default_port => format!("{}://{host}:{port}", scheme.unwrap_or_default()),
        _ => format!("{}://{host}", scheme.unwrap_or_default()),
    };
    let path = uri.path().trim_end_matches('/');
    for segment in path.split('/').skip(1) {
        let plain = segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if segment.is_empty() || segment == "." || segment == ".." || !plain {
            return Err(format!(
                "{s:?}: the path may only have segments of letters, digits and - . _ ~ (got {segment:?})"
            ));
        }
    }
    Ok(PublicUrl { origin, base: path.to_owned() })
}

/// A Redis URL; its `Debug` hides any password in it.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(pub String);

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisUrl({})", self.redacted())
    }
}

impl RedisUrl {
    /// Whether the URL holds a password (`user:password@` or `:password@`).
    pub fn has_password(&self) -> bool {
        match (self.0.split_once("://"), self.0.rfind('@')) {
            (Some((scheme, _)), Some(at)) => self.0.get(scheme.len() + 3..at).is_some_and(|u| u.contains(':')),
            _ => false,
        }
    }

    /// The URL with its user information (`:password@`) left out, for logs and pages.
    pub fn redacted(&self) -> String {
        match (self.0.split_once("://"), self.0.rfind('@')) {
            (Some((scheme, _)), Some(at)) => format!("{scheme}://…@{}", &self.0[at + 1..]),
            _ => self.0.clone(),
        }
    }
}

/// A Redis URL: `redis://` or `rediss://` with a host, as the client reads it.
pub fn parse_redis_url(s: &str) -> Result<RedisUrl, String> {
    let s = s.trim();
    if !(s.starts_with("redis://") || s.starts_with("rediss://")) {
        return Err("expected redis://[:password@]host[:port][/db] (or rediss:// for TLS)".to_owned());
    }
    redis::Client::open(s).map_err(|e| format!("not a Redis URL the client can use: {e}"))?;
    Ok(RedisUrl(s.to_owned()))
}

/// A key prefix: 1 to 64 of `A-Z a-z 0-9 _ . -`.
pub fn parse_prefix(s: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok { Ok(s.to_owned()) } else { Err("1 to 64 letters, digits, `_`, `.` or `-`".to_owned()) }
}

/// A lease: 300 ms to 60 s.
pub fn parse_lease(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_millis(300), Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("1g"), Ok(1 << 30));
        assert_eq!(parse_bytes("2048 KiB"), Ok(2 << 20));
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        for bad in ["", "MiB", "12 parsecs", "1KiB", "100GiB", "-1MiB", "99999999999999999999G"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(parse_origin("HTTPS://Ops.Example.com/").as_deref(), Ok("https://ops.example.com"));
        assert!(parse_origin("ftp://x").is_err());
        assert!(parse_origin("https://x/path").is_err());
    }

    #[test]
    fn public_url_splits_into_origin_and_base_path() {
        let url = |s: &str| parse_public_url(s).map(|u| (u.origin, u.base));
        assert_eq!(url("https://Ops.Example.com/dash/"), Ok(("https://ops.example.com".into(), "/dash".into())));
        assert_eq!(url("https://ops.example.com:443/a/b"), Ok(("https://ops.example.com".into(), "/a/b".into())));
        assert_eq!(url("http://10.0.0.5:8080"), Ok(("http://10.0.0.5:8080".into(), String::new())));
        assert_eq!(url("http://[::1]:80/"), Ok(("http://[::1]".into(), String::new())));
        for bad in [
            "ops.example.com/dash",
            "ftp://x/dash",
            "https:///dash",
            "https://user:pw@x/dash",
            "https://x/dash?y=1",
            "https://x/dash#top",
            "https://x/a//b",
            "https://x/../b",
            "https://x/da%20sh",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad} accepted");
        }
    }
}
