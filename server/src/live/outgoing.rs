//! What the fan-out carries to every socket: a frame's kind (and for a sample or a status, its source) beside
//! its bytes, serialized and framed once ([`Framed`]) and shared by reference count, so that no
//! socket parses a frame back to learn what it is, nor copies it to send it.

use std::ops::Deref;
use std::sync::Arc;

use bytes::Bytes;
use tungstenite::Utf8Bytes;

use super::wire::Framed;

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
    Status {
        /// The source's index in the hub's order of sources.
        source: u32,
    },
    /// A page-wide state (store, cluster, alerts): every socket takes it.
    Page,
}

/// One broadcast frame, shared: every socket's copy is one reference count.
#[derive(Debug, Clone)]
pub struct Outgoing(Arc<Contents>);

/// What an [`Outgoing`] frame holds.
#[derive(Debug)]
pub struct Contents {
    /// What it is.
    pub kind: FrameKind,
    /// Its JSON text.
    pub text: Utf8Bytes,
    /// The same text behind its WebSocket header, as sockets write it (one allocation with
    /// `text`).
    pub wire: Bytes,
}

impl Outgoing {
    /// A sample frame, of the source with index `source`.
    pub fn sample(source: u32, seq: u64, framed: Framed) -> Self {
        let Framed { text, wire } = framed;
        Self(Arc::new(Contents { kind: FrameKind::Sample { source, seq }, text, wire }))
    }

    /// A status frame of the source with index `source`, of the JSON `text`.
    pub fn status(source: u32, text: String) -> Self {
        let Framed { text, wire } = Framed::new(text);
        Self(Arc::new(Contents { kind: FrameKind::Status { source }, text, wire }))
    }

    /// A page-wide frame (store, cluster, alerts) of the JSON `text`.
    pub fn page(text: String) -> Self {
        let Framed { text, wire } = Framed::new(text);
        Self(Arc::new(Contents { kind: FrameKind::Page, text, wire }))
    }

    /// The index of the source it is of (`None`: page-wide).
    pub fn source(&self) -> Option<u32> {
        match self.kind {
            FrameKind::Sample { source, .. } | FrameKind::Status { source } => Some(source),
            FrameKind::Page => None,
        }
    }
}

impl Deref for Outgoing {
    type Target = Contents;

    fn deref(&self) -> &Contents {
        &self.0
    }
}
