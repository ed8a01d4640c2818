//! The fleet's directory: which sources are hosts of the fleet, with the name and tags the
//! overview shows. Whoever adds or removes a host (the targets reconciler, start-up for this
//! machine's `local` source) writes here; the summary reads it. Its version moves on every change,
//! so a reader can tell cheaply whether to look again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use tokio::sync::watch;

/// How a host's samples carry its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// A livedash `local` sample (this machine, or another livedash read over its WebSocket):
    /// read with [`super::local_figures`].
    Local,
    /// A sample whose series are the figures by name ([`livedash::fleet::FIGURES`]), with `up`
    /// and `scrape_duration_s`: what a fleet fetch of a node_exporter target publishes.
    Figures,
}

/// One host of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    /// What the overview shows (the `name` label, else the target); the directory's key is the
    /// host's source name.
    pub name: String,
    /// Its tags (the target's labels).
    pub tags: BTreeMap<String, String>,
    /// How often it is fetched: its status counts missed intervals of it.
    pub interval: Duration,
    /// How its samples carry the figures.
    pub kind: HostKind,
}

/// The hosts by source name; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Directory {
    hosts: Arc<RwLock<BTreeMap<Arc<str>, HostEntry>>>,
    version: Arc<watch::Sender<u64>>,
}

impl Default for Directory {
    fn default() -> Self {
        Self::new()
    }
}

impl Directory {
    /// An empty directory.
    pub fn new() -> Self {
        Self { hosts: Arc::default(), version: Arc::new(watch::channel(0).0) }
    }

    /// Adds `source` as a host, or replaces what it says of it (a relabel).
    pub fn insert(&self, source: Arc<str>, entry: HostEntry) {
        let changed = {
            let mut hosts = self.hosts.write();
            let changed = hosts.get(&source) != Some(&entry);
            if changed {
                hosts.insert(source, entry);
            }
            changed
        };
        if changed {
            self.version.send_modify(|v| *v += 1);
        }
    }

    /// Removes `source`; returns whether it was a host.
    pub fn remove(&self, source: &str) -> bool {
        let removed = self.hosts.write().remove(source).is_some();
        if removed {
            self.version.send_modify(|v| *v += 1);
        }
        removed
    }

    /// What it says of `source`.
    pub fn get(&self, source: &str) -> Option<HostEntry> {
        self.hosts.read().get(source).cloned()
    }

    /// How `source`'s samples carry its figures, if it is a host (no copy of its entry).
    pub fn kind(&self, source: &str) -> Option<HostKind> {
        self.hosts.read().get(source).map(|entry| entry.kind)
    }

    /// Every host, by source name.
    pub fn snapshot(&self) -> BTreeMap<Arc<str>, HostEntry> {
        self.hosts.read().clone()
    }

    /// How many hosts there are.
    pub fn len(&self) -> usize {
        self.hosts.read().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The version, moved on every change: `changed()` on it wakes a reader.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: &str) -> HostEntry {
        HostEntry {
            name: "web-1".into(),
            tags: BTreeMap::from([("env".to_owned(), tag.to_owned())]),
            interval: Duration::from_secs(1),
            kind: HostKind::Figures,
        }
    }

    #[test]
    fn the_version_moves_only_on_a_real_change() {
        let directory = Directory::new();
        let version = directory.watch();
        directory.insert(Arc::from("web-1"), entry("prod"));
        assert_eq!(*version.borrow(), 1);
        directory.insert(Arc::from("web-1"), entry("prod"));
        assert_eq!(*version.borrow(), 1, "the same entry again is no change");
        directory.insert(Arc::from("web-1"), entry("dev"));
        assert_eq!((*version.borrow(), directory.get("web-1").map(|e| e.tags["env"].clone())), (2, Some("dev".into())));
        assert!(directory.remove("web-1") && !directory.remove("web-1"));
        assert_eq!((*version.borrow(), directory.len()), (3, 0));
    }
}
