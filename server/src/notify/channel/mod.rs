//! The configured channels (`[[notify]]`): each turns a [`Message`] into its receiver's format and
//! sends it, telling a failure worth retrying from one that is not. Secrets (URLs with tokens,
//! passwords, header values) stay inside: [`Channel::state`], `Debug` and every error show a host
//! at most.
//!
//! - [`http`]: the one HTTP POST of every HTTP channel and how its answer is classified;
//! - [`webhook`]: the generic JSON body (or a template's);
//! - [`chat`]: Slack, Discord and Mattermost incoming-webhook bodies, and the text of a message;
//! - [`ntfy`]: ntfy's JSON publish;
//! - [`smtp`]: e-mail through lettre over rustls (implicit TLS or STARTTLS required).
//!
//! May import the core and [`super::message`]; it knows nothing of the outbox.

pub mod chat;
pub mod http;
pub mod ntfy;
pub mod smtp;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use super::delivery::ChannelState;
use super::message::{Answer, Kind, Message, Notice, SendError, Status};
use super::quiet::Quiet;

/// A channel's kind and where it sends (with its secrets).
#[derive(Clone)]
pub enum Target {
    /// A generic JSON POST (the [`Notice`]'s fields), or a template's output.
    Webhook {
        /// The URL (may hold a secret).
        url: String,
        /// Extra headers (their values may be secrets).
        headers: Vec<(String, String)>,
        /// A template for the body, checked at start.
        template: Option<Arc<webhook::Template>>,
    },
    /// A Slack incoming webhook.
    Slack {
        /// The webhook URL (a secret).
        url: String,
    },
    /// A Discord webhook.
    Discord {
        /// The webhook URL (a secret).
        url: String,
    },
    /// A Mattermost incoming webhook.
    Mattermost {
        /// The webhook URL (a secret).
        url: String,
    },
    /// An ntfy topic.
    Ntfy(ntfy::Ntfy),
    /// E-mail.
    Smtp(Arc<smtp::Smtp>),
}

impl Target {
    /// A generic webhook to `url`, without headers or template.
    pub fn webhook(url: &str) -> Self {
        Self::Webhook { url: url.to_owned(), headers: Vec::new(), template: None }
    }

    /// The kind's name, as the page and the API show it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Webhook { .. } => "webhook",
            Self::Slack { .. } => "slack",
            Self::Discord { .. } => "discord",
            Self::Mattermost { .. } => "mattermost",
            Self::Ntfy(_) => "ntfy",
            Self::Smtp(_) => "email",
        }
    }

    /// Where it sends, without a secret: the URL's host (and port), or the mail's recipients and
    /// server.
    pub fn shown(&self) -> String {
        match self {
            Self::Webhook { url, .. } | Self::Slack { url } | Self::Discord { url } | Self::Mattermost { url } => {
                http::host_of(url)
            }
            Self::Ntfy(n) => n.shown(),
            Self::Smtp(s) => s.shown(),
        }
    }
}

impl std::fmt::Debug for Target {
    /// The kind and the host, never a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.kind(), self.shown())
    }
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
    /// The HTTP client of the HTTP kinds (10 s timeout, no redirects, `ca_file` trusted).
    pub client: reqwest::Client,
}

/// The default of `fallback_after`.
pub const DEFAULT_FALLBACK_AFTER: u32 = 3;

impl Channel {
    /// A channel named `name` sending to `target`, with no reminders, quiet hours or fallback.
    ///
    /// # Errors
    /// The HTTP client could not be made (no TLS roots).
    pub fn new(name: &str, target: Target) -> Result<Self, String> {
        Ok(Self {
            name: Arc::from(name),
            target,
            repeat: None,
            quiet: None,
            fallback: None,
            fallback_after: DEFAULT_FALLBACK_AFTER,
            client: http::client(None)?,
        })
    }

    /// Sends `message`; the receiver's answer.
    ///
    /// # Errors
    /// [`SendError::Retry`] when worth trying again, else [`SendError::Refused`].
    pub async fn send(&self, message: &Message) -> Result<Answer, SendError> {
        let json = |body: serde_json::Value| body.to_string().into_bytes();
        match &self.target {
            Target::Webhook { url, headers, template } => {
                let (content_type, body) = webhook::body(message, template.as_deref())?;
                http::post(&self.client, url, headers, content_type, body).await
            }
            Target::Slack { url } => http::post(&self.client, url, &[], http::JSON, json(chat::slack(message))).await,
            Target::Discord { url } => {
                http::post(&self.client, url, &[], http::JSON, json(chat::discord(message))).await
            }
            Target::Mattermost { url } => {
                http::post(&self.client, url, &[], http::JSON, json(chat::mattermost(message))).await
            }
            Target::Ntfy(n) => n.send(&self.client, message).await,
            Target::Smtp(s) => s.send(message).await,
        }
    }

    /// What the page shows of it (no secret), with zero counts (the notifier fills them).
    pub fn state(&self) -> ChannelState {
        ChannelState {
            name: self.name.to_string(),
            kind: self.target.kind(),
            target: self.target.shown(),
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

/// The sample message a test sends to `channel` (started now, so that a receiver that reads the
/// time finds one).
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
            started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
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

/// A message with every field of its notices set: what a template is checked against at start.
pub fn full_sample() -> Message {
    let notice = Notice {
        id: "sample-id".into(),
        status: Status::Resolved,
        rule: "cpu_high".into(),
        severity: livedash::alerts::Severity::Critical,
        source: "web1".into(),
        series: Some("cpu_pct".into()),
        value: Some(42.0),
        threshold: Some(90.0),
        started_at: "2026-01-01T00:00:00Z".into(),
        resolved_at: Some("2026-01-01T00:05:00Z".into()),
        peak: Some(97.5),
        duration_s: Some(300),
        url: "https://livedash.example/chart".into(),
        silence_url: "https://livedash.example/alerts?silence=cpu_high".into(),
        summary: "resolved: cpu_high (above 90) on web1 · cpu_pct at 42 after 5m, peak 97.5".into(),
        reason: Some("connection refused".into()),
    };
    Message { kind: Kind::Alert, notices: vec![notice] }
}
