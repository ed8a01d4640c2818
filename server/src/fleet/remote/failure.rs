//! Why a remote livedash gives no figures ([`Failure`]): its text is the host's reason on the page.

/// Why a remote livedash gives no figures; its text is the host's reason on the page.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The target's URL cannot be used.
    #[error("bad address: {0}")]
    Address(String),
    /// Nothing listens there.
    #[error("connection refused ({0})")]
    Refused(String),
    /// The connection could not be made for another reason (no route, name not found).
    #[error("cannot connect to {0}")]
    Connect(String),
    /// The connection, TLS and handshake took longer than allowed.
    #[error("no answer within {0} s")]
    Timeout(f64),
    /// TLS failed (an untrusted certificate, a name mismatch).
    #[error("TLS: {0}")]
    Tls(String),
    /// The handshake was answered with an HTTP status instead of an upgrade.
    #[error("HTTP {status}: {detail}")]
    Http {
        /// The status code.
        status: u16,
        /// What it means here, or the start of the answer's body.
        detail: String,
    },
    /// The remote closed the socket (1008: the token was revoked or its user changed).
    #[error("closed by the remote: {code} {reason}")]
    Closed {
        /// The close code.
        code: u16,
        /// The reason the remote gave.
        reason: String,
    },
    /// The connection broke.
    #[error("connection lost: {0}")]
    Lost(String),
    /// What the remote sent is not the protocol (or a version this build does not speak).
    #[error("protocol: {0}")]
    Protocol(String),
    /// The remote sent nothing about its host for too long.
    #[error("{0}")]
    Silent(String),
}

impl Failure {
    pub(crate) fn connect(to: &str, e: &std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::ConnectionRefused => Self::Refused(to.to_owned()),
            _ => Self::Connect(format!("{to}: {e}")),
        }
    }
}
