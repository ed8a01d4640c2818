//! What a notification says, whatever the channel: one [`Notice`] per alert in it, and how a send
//! ended ([`Answer`] or [`SendError`]).

use livedash::alerts::Severity;
use serde::Serialize;

/// Whether an alert started or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It fires (or still fires: a reminder).
    Firing,
    /// It ended.
    Resolved,
}

/// One alert's firing or resolution, with everything a person needs to act on it. Serialized as
/// is, it is the generic webhook's JSON body for one alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// Stable per event (the same on every instance of a cluster, and on every retry): receivers
    /// de-duplicate by it.
    pub id: String,
    /// Firing or resolved.
    pub status: Status,
    /// The rule's name.
    pub rule: String,
    /// Warning or critical.
    pub severity: Severity,
    /// The source.
    pub source: String,
    /// The series (`None` for a rule about the source itself, such as "source down").
    pub series: Option<String>,
    /// The value that fired it, or the value at recovery for a resolved one.
    pub value: Option<f64>,
    /// The threshold crossed, when the rule has one.
    pub threshold: Option<f64>,
    /// When it started firing (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended (RFC 3339, UTC), for a resolved one.
    pub resolved_at: Option<String>,
    /// The worst value of the episode (from the history store when it has it).
    pub peak: Option<f64>,
    /// How long it fired, in seconds (a resolved one; for a firing one, so far).
    pub duration_s: Option<u64>,
    /// The chart around that time.
    pub url: String,
    /// Where to silence it.
    pub silence_url: String,
    /// A one-line summary for people ("cpu above 90: 97.2 on web1").
    pub summary: String,
    /// Why a source-level alert fired (the fetch's error), if known.
    pub reason: Option<String>,
}

/// What kind of message a [`Message`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Alerts that fired or resolved (several only when they are of one source, due together).
    Alert,
    /// Still firing after the channel's `repeat`.
    Reminder,
    /// Held by quiet hours, sent at their end: still firing ones, and ones that fired and
    /// resolved inside them (one notice each, `resolved_at` set).
    Digest,
    /// A test through the real path (`livedash notify test`, the Alerts view's button).
    Test,
}

/// One message to one channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// What kind.
    pub kind: Kind,
    /// The alerts it is about (at least one, except for a test, which carries a sample one).
    pub notices: Vec<Notice>,
}

/// A receiver's answer to a send that it accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The HTTP status, or the SMTP reply code.
    pub code: u16,
    /// The start of what it said (at most 500 characters), never a secret of ours.
    pub text: String,
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: no connection, a timeout, a 5xx, 408 or 429 (`after`: the receiver's
    /// `Retry-After`).
    #[error("{reason}")]
    Retry {
        /// What happened (a status and the start of the body, or the connection's error), never
        /// with the URL (it may hold a secret).
        reason: String,
        /// How long the receiver asked us to wait.
        after: Option<std::time::Duration>,
    },
    /// Never worth trying again: a 4xx other than 408/429, a refused address, a bad body.
    #[error("{reason}")]
    Refused {
        /// What happened (kept in the outbox and shown on the page).
        reason: String,
    },
}
