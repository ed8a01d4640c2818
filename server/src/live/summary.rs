//! The summary channel: the fleet's `fleet` and `points` frames (made at most once a second by
//! the fleet's board, `crate::fleet::summary`), broadcast apart from the samples, so that only the
//! sockets that subscribed to them (`overview`, `figure:NAME`) read it. Each frame is serialized
//! and framed once, shared by reference count as the samples are.
//!
//! The board is behind [`SummaryFeed`], so that the sockets need nothing of the fleet wing (which
//! imports this one): a socket asks it for its first summary frames and a receiver in one step,
//! and again, from the last summary `seq` it had, when it falls behind.

use std::ops::Deref;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::broadcast;
use tungstenite::Utf8Bytes;

pub use super::subscription::SummaryWants;
use super::wire::Framed;

/// How many summary ticks a socket may fall behind before it resumes from its last one.
pub const SUMMARY_CAPACITY: usize = 64;

/// What a summary frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryKind {
    /// A `fleet` frame (rows that changed, hosts gone, counts).
    Fleet,
    /// A `points` frame of the figure with this index in [`livedash::fleet::FIGURES`].
    Points(u8),
}

impl SummaryKind {
    /// Whether a socket wanting `wants` takes it.
    pub fn wanted(self, wants: SummaryWants) -> bool {
        match self {
            Self::Fleet => wants.overview,
            Self::Points(i) => wants.figure(usize::from(i)),
        }
    }
}

/// One broadcast summary frame, shared.
#[derive(Debug, Clone)]
pub struct SummaryFrame(Arc<SummaryContents>);

/// What a [`SummaryFrame`] holds.
#[derive(Debug)]
pub struct SummaryContents {
    /// What it is.
    pub kind: SummaryKind,
    /// The summary `seq` it was made at.
    pub seq: u64,
    /// Its JSON text.
    pub text: Utf8Bytes,
    /// The same text behind its WebSocket header.
    pub wire: Bytes,
}

impl SummaryFrame {
    /// A summary frame of the JSON `text`.
    pub fn new(kind: SummaryKind, seq: u64, text: String) -> Self {
        let Framed { text, wire } = Framed::new(text);
        Self(Arc::new(SummaryContents { kind, seq, text, wire }))
    }
}

impl Deref for SummaryFrame {
    type Target = SummaryContents;

    fn deref(&self) -> &SummaryContents {
        &self.0
    }
}

/// A socket's first summary frames and its receiver for the ones after.
pub struct SummaryStart {
    /// A full `fleet` frame, for the `hello`'s `fleet` field (a socket taking the overview from
    /// scratch); `None` when the overview is resumed (`frames` then hold what changed).
    pub hello_fleet: Option<Utf8Bytes>,
    /// The frames after the `hello`: full `points` frames, or what changed after a resume.
    pub frames: Vec<Utf8Bytes>,
    /// The summary `seq` they cover.
    pub seq: u64,
    /// The frames after them.
    pub receiver: broadcast::Receiver<SummaryFrame>,
}

/// The board, as the sockets see it.
pub trait SummaryFeed: Send + Sync {
    /// The first summary frames of a socket wanting `wants`: from scratch, or after the summary
    /// `seq` `since` (what changed after it, or full frames when that cannot be told), and a
    /// receiver taken at the same point, so that nothing falls between the two.
    fn start(&self, wants: SummaryWants, since: Option<u64>) -> SummaryStart;
}

/// A feed of nothing: a server without a board (tests, tools).
pub struct NoSummary(broadcast::Sender<SummaryFrame>);

impl Default for NoSummary {
    fn default() -> Self {
        Self(broadcast::channel(1).0)
    }
}

impl SummaryFeed for NoSummary {
    fn start(&self, _wants: SummaryWants, _since: Option<u64>) -> SummaryStart {
        SummaryStart { hello_fleet: None, frames: Vec::new(), seq: 0, receiver: self.0.subscribe() }
    }
}
