//! The configured channels (`[[notify]]`): each turns a [`Message`] into its receiver's format and
//! sends it, telling a failure worth retrying from one that is not. Secrets (URLs with tokens,
//! passwords) stay inside: [`Channel::state`] and every error show a host at most.
//!
//! May import the core and [`super::message`]; it knows nothing of the outbox.

use std::sync::Arc;
use std::time::Duration;

use super::delivery::ChannelState;
use super::message::{Answer, Kind, Message, Notice, SendError, Status};
use super::quiet::Quiet;

/// A channel's kind and where it sends (with its secrets).
#[derive(Debug, Clone)]
pub enum Target {
    /// A generic JSON POST (the [`Notice`]'s fields).
    Webhook {
        /// The URL (may hold a secret).
        url: String,
    },
}

/// One `[[notify]]` table, checked.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Its name (`notify = ["ops"]` on a rule names it).
    pub name: Arc<str>,
    /// Where and how it sends.
    pub target: Target,
    /// Remind while still firing, every this long (`None`: never).
    pub repeat: Option<Duration>,
    /// Quiet hours.
    pub quiet: Option<Quiet>,
    /// Another channel to hand a delivery to after `fallback_after` failures.
    pub fallback: Option<Arc<str>>,
    /// Failures before the fallback takes a delivery over.
    pub fallback_after: u32,
}

impl Channel {
    /// Sends `message`; the receiver's answer.
    ///
    /// # Errors
    /// [`SendError::Retry`] when worth trying again, else [`SendError::Refused`].
    pub async fn send(&self, message: &Message) -> Result<Answer, SendError> {
        let _ = message;
        Err(SendError::Refused { reason: "not implemented yet".into() })
    }

    /// What the page shows of it (no secret), with zero counts (the notifier fills them).
    pub fn state(&self) -> ChannelState {
        ChannelState {
            name: self.name.to_string(),
            kind: "webhook",
            target: String::new(),
            sent: 0,
            retried: 0,
            failed: 0,
            waiting: 0,
            quiet_now: false,
            last: None,
            fallback: self.fallback.as_deref().map(str::to_owned),
        }
    }
}

/// The sample message a test sends to `channel`.
pub fn sample(channel: &str) -> Message {
    Message {
        kind: Kind::Test,
        notices: vec![Notice {
            id: format!("test-{channel}"),
            status: Status::Firing,
            rule: "livedash test".into(),
            severity: livedash::alerts::Severity::Warning,
            source: "livedash".into(),
            series: None,
            value: None,
            threshold: None,
            started_at: String::new(),
            resolved_at: None,
            peak: None,
            duration_s: None,
            url: String::new(),
            silence_url: String::new(),
            summary: format!("A test of the channel {channel:?} from livedash"),
            reason: None,
        }],
    }
}
