//! The [`Notifier`]: the handle the API and the page take (channels and their state, deliveries,
//! a test through the real path), cheap to clone; and its `/metrics` families.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use super::channel::Channel;
use super::claim::Claims;
use super::delivery::{ChannelState, Delivery};
use super::message::Answer;
use crate::metrics::{Families, family};
use crate::store::outbox::read;
use crate::store::{StoreError, db};

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

impl From<StoreError> for NotifyError {
    fn from(e: StoreError) -> Self {
        Self::Store(e.to_string())
    }
}

/// A channel's counters (since this process started).
#[derive(Debug, Default)]
pub struct Counts {
    /// Deliveries the receiver accepted.
    pub sent: AtomicU64,
    /// Tries that failed and will be tried again.
    pub retried: AtomicU64,
    /// Deliveries given up (failed, or moved to the fallback).
    pub failed: AtomicU64,
    /// Open rows (pending or held), as the channel's task last counted them.
    pub waiting: AtomicU64,
    /// The last answer or failure, and when (wall label, ms).
    pub last: Mutex<Option<(u64, String)>>,
}

/// The notifications: cheap to clone.
#[derive(Clone)]
pub struct Notifier(pub(super) Arc<Inner>);

/// What the handle and the delivery tasks share.
pub(super) struct Inner {
    pub(super) channels: Vec<Arc<Channel>>,
    /// Per channel (same order), its counters.
    pub(super) counts: Vec<Counts>,
    /// The store's file (`None`: no store, nothing is delivered).
    pub(super) path: Option<PathBuf>,
    /// In a cluster, the claims (absent: not clustered, every delivery is this instance's).
    pub(super) claims: OnceLock<Arc<dyn Claims>>,
    /// Bumped to make every channel's task look at the outbox again (a fallback got rows).
    pub(super) wake: tokio::sync::watch::Sender<u64>,
}

impl Notifier {
    /// A notifier with `channels` that sends nothing but tests (no store; or before the outbox's
    /// tasks start).
    pub fn idle(channels: Vec<Arc<Channel>>) -> Self {
        Self::with_store(channels, None)
    }

    pub(super) fn with_store(channels: Vec<Arc<Channel>>, path: Option<PathBuf>) -> Self {
        let counts = channels.iter().map(|_| Counts::default()).collect();
        Self(Arc::new(Inner {
            channels,
            counts,
            path,
            claims: OnceLock::new(),
            wake: tokio::sync::watch::Sender::new(0),
        }))
    }

    /// From now on each delivery is claimed through `claims` before it is sent (the cluster
    /// wing's, where the cluster joins). Set once; later calls change nothing.
    pub fn use_claims(&self, claims: Arc<dyn Claims>) {
        let _ = self.0.claims.set(claims);
    }

    /// Every channel and its state.
    pub fn channels(&self) -> Vec<ChannelState> {
        self.0
            .channels
            .iter()
            .zip(&self.0.counts)
            .map(|(c, n)| ChannelState {
                sent: n.sent.load(Ordering::Relaxed),
                retried: n.retried.load(Ordering::Relaxed),
                failed: n.failed.load(Ordering::Relaxed),
                waiting: n.waiting.load(Ordering::Relaxed),
                last: n.last.lock().clone(),
                quiet_now: c.quiet.is_some_and(|q| q.at(crate::clock::now_ms())),
                ..c.state()
            })
            .collect()
    }

    /// The deliveries of alerts of `rule` (all rules: `None`), newest first, at most `limit`.
    ///
    /// # Errors
    /// The store failed.
    pub async fn deliveries(&self, rule: Option<&str>, limit: usize) -> Result<Vec<Delivery>, NotifyError> {
        let rule = rule.map(str::to_owned);
        self.read(move |c| read::recent(c, rule.as_deref(), limit)).await
    }

    /// The deliveries given up (failed or moved to a fallback), newest first, at most `limit`.
    ///
    /// # Errors
    /// The store failed.
    pub async fn failed(&self, limit: usize) -> Result<Vec<Delivery>, NotifyError> {
        self.read(move |c| read::given_up(c, limit)).await
    }

    async fn read(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<Vec<read::Row>, StoreError> + Send + 'static,
    ) -> Result<Vec<Delivery>, NotifyError> {
        let Some(path) = self.0.path.clone().filter(|p| p.exists()) else { return Ok(Vec::new()) };
        let rows = tokio::task::spawn_blocking(move || {
            let conn = db::open_reader(&path)?;
            // A file the writer has not brought to schema 5 yet has no deliveries.
            if !read::ready(&conn)? {
                return Ok(Vec::new());
            }
            f(&conn)
        })
        .await
        .map_err(|e| NotifyError::Store(e.to_string()))??;
        Ok(rows.iter().map(Delivery::from_row).collect())
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

impl Families for Notifier {
    fn render(&self, out: &mut String) {
        let each = |f: &dyn Fn(&Counts) -> u64| -> Vec<(String, f64)> {
            self.0
                .channels
                .iter()
                .zip(&self.0.counts)
                .map(|(c, n)| (format!(r#"{{channel="{}"}}"#, label(&c.name)), as_f64(f(n))))
                .collect()
        };
        let sent = each(&|n| n.sent.load(Ordering::Relaxed));
        family(out, "notify_sent_total", "counter", "Notifications the receiver accepted.", &sent);
        let retried = each(&|n| n.retried.load(Ordering::Relaxed));
        family(
            out,
            "notify_retried_total",
            "counter",
            "Notification sends that failed and will be tried again.",
            &retried,
        );
        let failed = each(&|n| n.failed.load(Ordering::Relaxed));
        family(
            out,
            "notify_failed_total",
            "counter",
            "Notifications given up on a channel (failed or moved to its fallback).",
            &failed,
        );
        let waiting = each(&|n| n.waiting.load(Ordering::Relaxed));
        family(out, "notify_waiting", "gauge", "Notifications waiting to be sent (pending or held).", &waiting);
    }
}

/// A counter as a sample value (exact below 2^53: centuries at any real rate).
#[allow(clippy::cast_precision_loss)]
fn as_f64(v: u64) -> f64 {
    v as f64
}

/// A label value escaped as the exposition format wants.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The notifier as a `/metrics` family writer.
pub fn families(notifier: &Notifier) -> Arc<dyn Families> {
    Arc::new(notifier.clone())
}
