//! What the fan-out carries to every socket: a frame's kind (and for a sample, its source) beside
//! its bytes, serialized once and shared by reference count, so that no socket parses a frame back
//! to learn what it is.

use tungstenite::Utf8Bytes;

/// The kinds of frame that are broadcast (a `hello` goes to one socket only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// One stamped sample: a lagging socket may skip it for a newer one of the same source.
    Sample {
        /// The source's index in the hub's order of sources.
        source: u32,
        /// The sample's `seq`.
        seq: u64,
    },
    /// A source's state change: few and small, never skipped.
    Status,
}

/// One broadcast frame.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// What it is.
    pub kind: FrameKind,
    /// Its JSON text, shared by every socket.
    pub text: Utf8Bytes,
}

impl Outgoing {
    /// A sample frame's text, of the source with index `source`.
    pub fn sample(source: u32, seq: u64, text: impl Into<Utf8Bytes>) -> Self {
        Self { kind: FrameKind::Sample { source, seq }, text: text.into() }
    }

    /// A status frame's text.
    pub fn status(text: impl Into<Utf8Bytes>) -> Self {
        Self { kind: FrameKind::Status, text: text.into() }
    }
}
