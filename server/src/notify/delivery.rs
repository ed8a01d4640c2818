//! The outbox's rows and the channels as the page and the API show them: one per (event, channel), with its state,
//! attempts and the receiver's last answer or the reason it failed.

use serde::Serialize;

use super::message::Status;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not sent yet (waiting for its first try or its next one).
    Pending,
    /// Held by the channel's quiet hours, for the digest at their end.
    Held,
    /// The receiver accepted it.
    Sent,
    /// Given up: the reason is in `last` (a 4xx other than 408/429, or too many failures with no
    /// fallback).
    Failed,
    /// Given up on this channel after too many failures and handed to its fallback channel.
    Moved,
    /// Sent by another instance of the cluster (claimed there).
    SentElsewhere,
    /// Sent as part of a digest (quiet hours) or of one message for its source.
    Merged,
    /// Not sent because the alert was silenced when it was due.
    Silenced,
}

impl DeliveryState {
    /// The word the store and the API use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Held => "held",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Moved => "moved",
            Self::SentElsewhere => "sent_elsewhere",
            Self::Merged => "merged",
            Self::Silenced => "silenced",
        }
    }

    /// Whether nothing more will happen to it.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Held)
    }
}

/// One delivery of one event to one channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// The outbox row.
    pub row: i64,
    /// The event's stable id (the webhook's `id`).
    pub id: String,
    /// The channel's name.
    pub channel: String,
    /// The rule, source and series of the alert.
    pub rule: String,
    /// The source.
    pub source: String,
    /// The series (`None`: a rule about the source).
    pub series: Option<String>,
    /// Firing or resolved.
    pub status: Status,
    /// Where it stands.
    pub state: DeliveryState,
    /// Sends tried.
    pub attempts: u32,
    /// The receiver's last answer, or why it failed.
    pub last: Option<String>,
    /// When it was made (wall label, ms).
    pub created_ms: u64,
    /// When its next try is due (wall label, ms), while pending.
    pub next_ms: Option<u64>,
    /// When it ended (wall label, ms).
    pub done_ms: Option<u64>,
}

/// A channel as the page and `/api/notify` show it: never a secret (the URL's host only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelState {
    /// Its name.
    pub name: String,
    /// webhook, slack, discord, mattermost, ntfy or email.
    pub kind: &'static str,
    /// Where it sends, without secrets (a host, or the mail's recipients).
    pub target: String,
    /// Deliveries the receiver accepted.
    pub sent: u64,
    /// Sends tried again.
    pub retried: u64,
    /// Deliveries given up.
    pub failed: u64,
    /// Deliveries waiting (pending or held).
    pub waiting: u64,
    /// Inside its quiet hours now.
    pub quiet_now: bool,
    /// The last answer or failure, and when (wall label, ms).
    pub last: Option<(u64, String)>,
    /// The fallback channel, if any.
    pub fallback: Option<String>,
}

impl DeliveryState {
    /// The state of the store's word (an unknown word reads as pending).
    pub fn of(word: &str) -> Self {
        match word {
            "held" => Self::Held,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            "moved" => Self::Moved,
            "sent_elsewhere" => Self::SentElsewhere,
            "merged" => Self::Merged,
            "silenced" => Self::Silenced,
            _ => Self::Pending,
        }
    }
}

impl Delivery {
    /// An outbox row as shown.
    pub fn from_row(row: &crate::store::outbox::Row) -> Self {
        let state = DeliveryState::of(&row.state);
        Self {
            row: row.id,
            id: row.key.clone(),
            channel: row.channel.clone(),
            rule: row.rule.clone(),
            source: row.source.clone(),
            series: row.series.clone(),
            status: if row.status == "resolved" { Status::Resolved } else { Status::Firing },
            state,
            attempts: row.attempts,
            last: row.last.clone(),
            created_ms: row.created_ms,
            next_ms: if state.is_final() { None } else { row.next_ms },
            done_ms: row.done_ms,
        }
    }
}
