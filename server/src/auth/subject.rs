//! What a login budget is kept for ([`Subject`]): an address group, a wider IPv6 group (its /48,
//! see [`wide_of`]), an (address group, user) pair, a user, a device cookie, or an address group's
//! refusals; and its key in the shared store, which names it and reads back.

use std::net::{IpAddr, Ipv6Addr};

use super::credentials::NONCE_LEN;

/// The prefix length of the wider IPv6 group: a site is usually given a /48, so one holder of a
/// /48 has 65,536 /64s, and budgets per /64 alone would give it as many.
pub const WIDE_PREFIX: u32 = 48;

/// The wider group of an address `group`: the /48 of an IPv6 group; `None` for IPv4 (an IPv4
/// address is a group of its own, and its wider networks are shared by unrelated clients far more
/// often). With `--ipv6-prefix` at 48 or shorter the wider group's budget is never the first spent.
pub fn wide_of(group: IpAddr) -> Option<IpAddr> {
    let IpAddr::V6(v6) = group.to_canonical() else { return None };
    let mask = u128::MAX << (128 - WIDE_PREFIX);
    Some(IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)))
}

/// What a throttle is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Subject {
    /// An address group (an IPv4 address, an IPv6 /64).
    Group(IpAddr),
    /// The /48 of IPv6 address groups.
    Wide(IpAddr),
    /// An address group and the user it names.
    Pair(IpAddr, String),
    /// A user, from every address without a device cookie.
    User(String),
    /// A device, by a digest of its cookie's nonce ([`Subject::device`]).
    Device([u8; NONCE_LEN]),
    /// An address group's refusals without a credential to check.
    Refusals(IpAddr),
}

impl Subject {
    /// The subject of the device whose cookie holds `nonce`: by the nonce's SHA-256 (its first
    /// half), so that the shared store (a budget's key, the blocks stream) never holds a nonce.
    /// A plain hash suffices: the nonce is 128 random bits, which nobody can search for, and a
    /// nonce alone proves nothing anyway (the cookie is signed, and the password still checked).
    pub(super) fn device(nonce: [u8; NONCE_LEN]) -> Self {
        use sha2::{Digest, Sha256};
        let mut digest = [0u8; NONCE_LEN];
        digest.copy_from_slice(&Sha256::digest(nonce)[..NONCE_LEN]);
        Self::Device(digest)
    }

    /// Its key in the shared store: a letter for the kind, then its parts, `|`-separated (a user
    /// name cannot hold `:`, an address never holds `|`).
    pub(super) fn key(&self) -> String {
        match self {
            Self::Group(ip) => format!("g|{ip}"),
            Self::Wide(ip) => format!("w|{ip}"),
            Self::Pair(ip, user) => format!("p|{ip}|{user}"),
            Self::User(user) => format!("u|{user}"),
            Self::Device(digest) => format!("d|{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>()),
            Self::Refusals(ip) => format!("r|{ip}"),
        }
    }

    /// The subject of a key made by [`Subject::key`].
    pub(super) fn parse(key: &str) -> Option<Self> {
        let (kind, rest) = key.split_once('|')?;
        Some(match kind {
            "g" => Self::Group(rest.parse().ok()?),
            "w" => Self::Wide(rest.parse().ok()?),
            "p" => {
                let (ip, user) = rest.split_once('|')?;
                Self::Pair(ip.parse().ok()?, user.to_owned())
            }
            "u" => Self::User(rest.to_owned()),
            "d" if rest.len() == 2 * NONCE_LEN => {
                let mut nonce = [0u8; NONCE_LEN];
                for (i, b) in nonce.iter_mut().enumerate() {
                    *b = u8::from_str_radix(rest.get(2 * i..2 * i + 2)?, 16).ok()?;
                }
                Self::Device(nonce)
            }
            "r" => Self::Refusals(rest.parse().ok()?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn ipv6_groups_have_a_wider_group_at_their_48() {
        assert_eq!(wide_of(ip("2001:db8:1:2::")), Some(ip("2001:db8:1::")));
        assert_eq!(wide_of(ip("2001:db8:1:ffff::")), Some(ip("2001:db8:1::")), "every /64 of the /48");
        assert_ne!(wide_of(ip("2001:db8:2:1::")), wide_of(ip("2001:db8:1:1::")));
        assert_eq!(wide_of(ip("2001:db8:1::")), Some(ip("2001:db8:1::")), "the /48's first /64");
        assert_eq!(wide_of(ip("2001:db8:1:2:3::")), Some(ip("2001:db8:1::")), "a longer --ipv6-prefix");
        assert_eq!(wide_of(ip("192.0.2.1")), None);
        assert_eq!(wide_of(ip("::ffff:192.0.2.1")), None);
    }

    #[test]
    fn the_wide_group_has_a_key_of_its_own_that_reads_back() {
        let wide = Subject::Wide(ip("2001:db8:1::"));
        assert_eq!(wide.key(), "w|2001:db8:1::");
        assert_eq!(Subject::parse("w|2001:db8:1::"), Some(wide));
        assert_ne!(Subject::Group(ip("2001:db8:1::")).key(), Subject::Wide(ip("2001:db8:1::")).key());
        for bad in ["w|", "w|not-an-ip", "w|2001:db8::/48"] {
            assert!(Subject::parse(bad).is_none(), "{bad:?}");
        }
    }
}
