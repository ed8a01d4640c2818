//! The names of everything a cluster keeps in Redis, all under one prefix so that several
//! dashboards can share a Redis:
//!
//! | key | type | what |
//! |---|---|---|
//! | `P:epoch` | string | the stream's identity: made anew when Redis lost its data |
//! | `P:seq` | string | the last `seq` handed out |
//! | `P:samples` | stream | every stamped sample and failure of every source, and the lease holders' alert state changes, trimmed by age |
//! | `P:lease:SOURCE` | string | `instance|token` of the instance fetching SOURCE, with a TTL |
//! | `P:fence:SOURCE` | string | the last lease token handed out for SOURCE |
//! | `P:ticket:NONCE` | string | a redeemed WebSocket ticket (or pending login), until a minute after it expires by Redis's clock |
//! | `P:tickets-since` | string | when (ms, Redis's clock) the book of redeemed tickets began: none issued before is taken |
//! | `P:budget:HASH` | string | a login budget's theoretical arrival time (GCRA), until it refills |
//! | `P:blocks` | stream | login budgets found spent, for every instance to refuse too |
//! | `P:session:HANDLE` | hash | a live session (the SHA-256 of its cookie, never the cookie), until its lifetime ends |
//! | `P:sessions` | set | the handles of the sessions (names of ended ones dropped when read) |
//! | `P:session-ends` | stream | sessions ended on any instance, for every instance to close their sockets |
//! | `P:totp` | hash | second factors: user to `E|secret|confirmed|recovery codes' SHA-256` or `R|removed` |
//! | `P:totp-step:USER` | string | the last time step a code of USER was taken for, on any instance |
//! | `P:totp-spent:USER` | set | USER's recovery codes spent (SHA-256), on any instance |
//! | `P:tokens` | hash | API tokens: handle (hex) to the row, the secret's SHA-256 only, revocations marked |
//! | `P:notify:ID/CHANNEL` | string | a notification's delivery: the claiming lease token, or `done:TOKEN` once its receiver accepted it; kept for days |

use sha2::{Digest, Sha256};

/// The key names of one cluster.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys under `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned() }
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// The epoch.
    pub fn epoch(&self) -> String {
        self.key("epoch")
    }

    /// The last `seq`.
    pub fn seq(&self) -> String {
        self.key("seq")
    }

    /// The stream of samples.
    pub fn samples(&self) -> String {
        self.key("samples")
    }

    /// The session whose handle is `hex`.
    pub fn session(&self, hex: &str) -> String {
        self.key(&format!("session:{hex}"))
    }

    /// The set of the sessions' handles.
    pub fn sessions(&self) -> String {
        self.key("sessions")
    }

    /// The stream of ended sessions.
    pub fn session_ends(&self) -> String {
        self.key("session-ends")
    }

    /// The stream of spent budgets.
    pub fn blocks(&self) -> String {
        self.key("blocks")
    }

    /// The API tokens.
    pub fn tokens(&self) -> String {
        self.key("tokens")
    }

    /// The second factors.
    pub fn totp(&self) -> String {
        self.key("totp")
    }

    /// The last time step taken for `user`.
    pub fn totp_step(&self, user: &str) -> String {
        self.key(&format!("totp-step:{user}"))
    }

    /// The recovery codes `user` spent.
    pub fn totp_spent(&self, user: &str) -> String {
        self.key(&format!("totp-spent:{user}"))
    }

    /// `source`'s lease.
    pub fn lease(&self, source: &str) -> String {
        self.key(&format!("lease:{source}"))
    }

    /// `source`'s fencing counter.
    pub fn fence(&self, source: &str) -> String {
        self.key(&format!("fence:{source}"))
    }

    /// A redeemed ticket's nonce.
    pub fn ticket(&self, nonce: &[u8]) -> String {
        self.key(&format!("ticket:{}", hex(nonce)))
    }

    /// When the book of redeemed tickets began.
    pub fn tickets_since(&self) -> String {
        self.key("tickets-since")
    }

    /// A notification's delivery claim (`key`: `"<id>/<channel>"`).
    pub fn claim(&self, key: &str) -> String {
        self.key(&format!("notify:{key}"))
    }

    /// A login budget, by a digest of its subject (which holds a user name of any length).
    pub fn budget(&self, subject: &str) -> String {
        self.key(&format!("budget:{}", hex(&Sha256::digest(subject.as_bytes())[..16])))
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_live_under_the_prefix_and_budgets_are_bounded() {
        let k = Keys::new("dash");
        assert_eq!(k.lease("up"), "dash:lease:up");
        assert_eq!(k.ticket(&[0xab, 1]), "dash:ticket:ab01");
        assert_eq!(k.claim("abc/ops"), "dash:notify:abc/ops");
        let long = k.budget(&format!("u|{}", "x".repeat(5000)));
        assert!(long.starts_with("dash:budget:") && long.len() == "dash:budget:".len() + 32);
        assert_ne!(k.budget("u|a"), k.budget("u|b"));
    }
}
