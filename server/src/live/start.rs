//! What a new client is sent first: a full `hello`, or after `?since=N` a resume (every source's
//! status, then exactly the samples after `N`). Collected under the hub's lock as reference
//! counts only, then sorted and serialized after the lock is released.

use std::sync::Arc;

use indexmap::IndexMap;
use livedash::{Frame, Hello, PROTOCOL_VERSION, SourceStatus};
use tungstenite::Utf8Bytes;

use super::history::{Entry, SourceLog};
use crate::clock::{millis, now_ms};

/// A new socket's first frames.
pub enum Start {
    /// Everything: the `hello` frame.
    Hello(Utf8Bytes),
    /// A resume: the status of every source, then exactly the samples after `since`.
    Resume(Vec<Utf8Bytes>),
}

/// The content of a `hello`, not yet ordered or serialized.
pub struct HelloParts {
    entries: Vec<Arc<Entry>>,
    statuses: Vec<SourceStatus>,
    intervals: Vec<(String, u64)>,
}

/// A new client's first frames, not yet ordered or serialized.
pub enum Collected {
    /// See [`Start::Hello`].
    Hello(HelloParts),
    /// See [`Start::Resume`]: the status frames, then the samples in any order.
    Resume(Vec<Utf8Bytes>, Vec<Arc<Entry>>),
}

/// Everything a `hello` holds.
pub fn collect_hello(sources: &IndexMap<Arc<str>, SourceLog>) -> HelloParts {
    HelloParts {
        entries: sources.values().flat_map(|log| log.ring.iter().cloned()).collect(),
        statuses: sources.values().map(|log| log.status.clone()).collect(),
        intervals: sources.iter().map(|(name, log)| (name.to_string(), millis(log.interval))).collect(),
    }
}

/// A resume after `since` when every sample after it is still kept, else a `hello`. `since` is
/// already known to be from this server's life.
pub fn collect(sources: &IndexMap<Arc<str>, SourceLog>, since: Option<u64>) -> Collected {
    if let Some(since) = since {
        let mut samples = Vec::new();
        let complete = sources.values().all(|log| match log.ring.after(since) {
            Some(after) => {
                samples.extend(after.cloned());
                true
            }
            None => false,
        });
        if complete {
            let statuses = sources.values().map(|log| log.status_frame.text.clone()).collect();
            return Collected::Resume(statuses, samples);
        }
    }
    Collected::Hello(collect_hello(sources))
}

impl HelloParts {
    /// The `hello`, its history in `seq` order.
    pub fn into_hello(self) -> Hello {
        let mut history: Vec<livedash::Sample> = self.entries.iter().map(|e| e.sample.clone()).collect();
        history.sort_unstable_by_key(|s| s.seq);
        Hello {
            v: PROTOCOL_VERSION,
            server_time_ms: now_ms(),
            interval_ms: self.intervals.into_iter().collect(),
            history,
            sources: self.statuses,
        }
    }
}

impl Collected {
    /// The frames, ordered and serialized.
    pub fn finish(self) -> Start {
        match self {
            Self::Hello(parts) => Start::Hello(Frame::Hello(parts.into_hello()).to_json().into()),
            Self::Resume(mut frames, mut samples) => {
                samples.sort_unstable_by_key(|e| e.sample.seq);
                frames.extend(samples.iter().map(|e| e.frame.text.clone()));
                Start::Resume(frames)
            }
        }
    }
}
