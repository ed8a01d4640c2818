//! [`Principal`]: who made a request and how they proved it, left in the request's extensions by
//! the authentication layer for the handlers, the write actions' [`super::role::Writer`] and the
//! audit.

use std::fmt;
use std::sync::Arc;

/// A public handle of a session or a token: 16 bytes of SHA-256 of its secret, shown in views
/// and forms as 32 hex digits. Knowing it grants nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(pub [u8; 16]);

impl Handle {
    /// The handle of `secret`.
    pub fn of(secret: &[u8]) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(secret);
        let mut out = [0; 16];
        out.copy_from_slice(&digest[..16]);
        Self(out)
    }

    /// Its 32 hex digits.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The handle written as 32 hex digits (either case), or `None`.
    pub fn parse(hex: &str) -> Option<Self> {
        if hex.len() != 32 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.hex())
    }
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Basic` with the user's password (or a WebSocket ticket issued to it).
    Basic,
    /// The session cookie of this session.
    Session(Handle),
    /// This API token (as `Authorization: Bearer`, or as a Basic password).
    Token(Handle),
}

/// The authenticated user of a request, its role (already lowered for a read-only token or a
/// config `viewers` entry) and how it proved itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who.
    pub user: Arc<str>,
    /// What they may do.
    pub role: Role,
    /// How.
    pub via: Via,
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Sees everything, changes nothing.
    Viewer,
    /// Sees everything and may act (silence, acknowledge, revoke others' sessions, read the audit).
    Admin,
}

impl Role {
    /// Whether this role may take write actions.
    pub fn can_write(self) -> bool {
        self == Self::Admin
    }

    /// The word shown for it, and written in the users file and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Admin => "admin",
        }
    }

    /// The role named `word` (`viewer` or `admin`).
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "viewer" => Some(Self::Viewer),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_hex_both_ways_and_bad_text_is_none() {
        let h = Handle::of(b"secret");
        assert_eq!(Handle::parse(&h.hex()), Some(h));
        assert_eq!(Handle::parse(&h.hex().to_uppercase()), Some(h));
        assert_ne!(Handle::of(b"other"), h);
        for bad in ["", "00", &"g".repeat(32), &"é".repeat(16), &"0".repeat(33)] {
            assert_eq!(Handle::parse(bad), None, "{bad:?}");
        }
    }
}
