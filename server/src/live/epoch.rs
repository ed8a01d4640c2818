//! Where a resume may start. A client that reconnects with `?since=N` gets exactly the samples
//! after `N` only when this hub's history after `N` is the one the client was reading: `N` must be
//! from the current epoch (the stream the `seq`s belong to: this server's life when it runs alone,
//! the shared Redis stream, or this instance's own fetching while Redis is unreachable), and not
//! below the first sample this hub accepted in that epoch. Anything else gets a full `hello`.

use std::sync::Arc;

/// The lowest `since` a resume may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Floor {
    /// At this `seq` or above.
    At(u64),
    /// At the next sample accepted (the epoch has just changed: nothing of it is here yet).
    Next,
}

/// The current epoch and the floor within it.
#[derive(Debug, Clone)]
pub struct Resumable {
    /// `None`: a server alone, whose epoch is its life (the floor tells it).
    epoch: Option<Arc<str>>,
    floor: Floor,
}

impl Resumable {
    /// A server's life that starts after `first_seq`: a `since` from before it is from another.
    pub fn new(first_seq: u64) -> Self {
        Self { epoch: None, floor: Floor::At(first_seq) }
    }

    /// The current epoch (`None` for a server alone).
    pub fn epoch(&self) -> Option<&Arc<str>> {
        self.epoch.as_ref()
    }

    /// Whether a resume after `since`, read in `epoch`, can be exact here when the last `seq`
    /// accepted is `last`.
    pub fn allows(&self, since: u64, epoch: Option<&str>, last: u64) -> bool {
        let same_epoch = match &self.epoch {
            None => true,
            Some(current) => epoch == Some(&**current),
        };
        let floor = match self.floor {
            Floor::At(seq) => seq,
            Floor::Next => return false,
        };
        same_epoch && (floor..=last).contains(&since)
    }

    /// Moves to `epoch`; returns whether it is a change. After a change only samples accepted
    /// from now on can be resumed from.
    pub fn enter(&mut self, epoch: &str) -> bool {
        if self.epoch.as_deref() == Some(epoch) {
            return false;
        }
        self.epoch = Some(Arc::from(epoch));
        self.floor = Floor::Next;
        true
    }

    /// Starts the floor anew at the next sample accepted, in the same epoch (this hub missed
    /// samples of it: a `since` from before cannot be exact).
    pub fn restart(&mut self) {
        self.floor = Floor::Next;
    }

    /// Notes a sample accepted.
    pub fn accepted(&mut self, seq: u64) {
        if self.floor == Floor::Next {
            self.floor = Floor::At(seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alone_a_since_from_this_life_resumes() {
        let r = Resumable::new(100);
        assert!(r.allows(100, None, 120) && r.allows(120, None, 120));
        assert!(!r.allows(99, None, 120), "from another life");
        assert!(!r.allows(121, None, 120), "from the future");
        assert!(r.allows(110, Some("whatever"), 120), "alone, an epoch is not asked for");
    }

    #[test]
    fn in_an_epoch_only_its_own_seqs_since_its_first_sample_resume() {
        let mut r = Resumable::new(100);
        assert!(r.enter("a"));
        assert!(!r.enter("a"), "no change");
        assert!(!r.allows(100, Some("a"), 100), "nothing of epoch a is here yet");
        r.accepted(150);
        r.accepted(160);
        assert!(r.allows(150, Some("a"), 160) && r.allows(160, Some("a"), 160));
        assert!(!r.allows(149, Some("a"), 160), "before the first sample of a here");
        assert!(!r.allows(155, Some("b"), 160) && !r.allows(155, None, 160), "another epoch, or none");
        assert!(r.enter("local-x"));
        r.accepted(161);
        assert!(!r.allows(160, Some("a"), 161), "a is over");
        assert!(r.allows(161, Some("local-x"), 161));
        r.restart();
        assert!(!r.allows(161, Some("local-x"), 161));
        r.accepted(170);
        assert!(r.allows(170, Some("local-x"), 170));
    }
}
