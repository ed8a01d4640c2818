//! What one instance knows of the cluster: whether it shares the sources through Redis or fetches
//! alone (and why), the epoch, which sources it fetches (each source's gate, opened for its
//! fetcher), and counters for `/metrics` and `/healthz`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use indexmap::IndexMap;
use livedash::ClusterStatus;
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

use crate::clock::now_ms;

/// How this instance gets its samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Not yet in touch with Redis (only at start).
    Connecting,
    /// From the shared stream of `epoch`.
    Shared {
        /// The stream's epoch.
        epoch: String,
    },
    /// Redis is unreachable: this instance fetches every source itself, stamps them in its own
    /// `epoch`.
    Alone {
        /// This instance's local epoch.
        epoch: String,
        /// Why.
        error: String,
    },
}

/// One source's place in the cluster on this instance.
pub struct Role {
    /// Open while this instance fetches it (holds its lease, or is alone).
    pub gate: watch::Sender<bool>,
    /// The lease value held, when this instance holds the source's lease.
    pub lease: Mutex<Option<String>>,
}

impl Role {
    /// A role not fetched here (yet), holding no lease.
    fn closed() -> Self {
        Self { gate: watch::channel(false).0, lease: Mutex::new(None) }
    }
}

/// Counters.
#[derive(Debug, Default)]
pub struct ClusterStats {
    /// Samples and failures this instance appended to the shared stream.
    pub published: AtomicU64,
    /// Appends refused because the lease had passed to another instance (fencing).
    pub fenced: AtomicU64,
    /// Entries read from the shared stream.
    pub received: AtomicU64,
    /// Leases taken by this instance.
    pub leases_taken: AtomicU64,
    /// Times Redis became unreachable.
    pub lost: AtomicU64,
    /// Samples fetched while holding a lease that could not be appended (Redis failed meanwhile).
    pub dropped: AtomicU64,
}

/// The instance's view of the cluster.
pub struct State {
    /// This instance's name in leases: host, process and a random part.
    pub instance: String,
    mode: Mutex<Mode>,
    /// Whether the shared store is usable now (for auth: shared tickets and budgets).
    pub reachable: Arc<AtomicBool>,
    /// Each source's role: the configured ones in their order, then the fleet's hosts as they
    /// come and go ([`State::add_role`], [`State::remove_role`]).
    roles: RwLock<IndexMap<Arc<str>, Arc<Role>>>,
    /// Counters.
    pub stats: ClusterStats,
}

/// `/healthz`'s account of the cluster: no data.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClusterHealth {
    /// `connected` or `unreachable` (`connecting` at start).
    pub redis: &'static str,
    /// This instance's name in leases.
    pub instance: String,
    /// The current epoch.
    pub epoch: Option<String>,
    /// The sources this instance fetches.
    pub fetching: Vec<String>,
    /// Why Redis is not used, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl State {
    /// The state of an instance named `instance` with `sources`, before it reached Redis.
    pub fn new(instance: String, sources: impl IntoIterator<Item = Arc<str>>) -> Self {
        let roles = RwLock::new(sources.into_iter().map(|s| (s, Arc::new(Role::closed()))).collect());
        Self {
            instance,
            mode: Mutex::new(Mode::Connecting),
            reachable: Arc::new(AtomicBool::new(false)),
            roles,
            stats: ClusterStats::default(),
        }
    }

    /// The mode, locked: a local sample is stamped only under this lock while alone, so that none
    /// slips in after the instance went back to the shared stream.
    pub fn mode(&self) -> parking_lot::MutexGuard<'_, Mode> {
        self.mode.lock()
    }

    /// What the page and every `hello` say of `mode`, since `since_ms`.
    pub fn status_of(mode: &Mode, since_ms: u64) -> Option<ClusterStatus> {
        match mode {
            Mode::Connecting => None,
            Mode::Shared { epoch } => Some(ClusterStatus { shared: true, epoch: epoch.clone(), error: None, since_ms }),
            Mode::Alone { epoch, error } => {
                Some(ClusterStatus { shared: false, epoch: epoch.clone(), error: Some(error.clone()), since_ms })
            }
        }
    }

    /// The sources this instance fetches now.
    pub fn fetching(&self) -> Vec<String> {
        self.roles.read().iter().filter(|(_, r)| *r.gate.borrow()).map(|(s, _)| s.to_string()).collect()
    }

    /// For `/healthz`.
    pub fn health(&self) -> ClusterHealth {
        let mode = self.mode.lock().clone();
        let (redis, epoch, error) = match mode {
            Mode::Connecting => ("connecting", None, None),
            Mode::Shared { epoch } => ("connected", Some(epoch), None),
            Mode::Alone { epoch, error } => ("unreachable", Some(epoch), Some(error)),
        };
        ClusterHealth { redis, instance: self.instance.clone(), epoch, fetching: self.fetching(), error }
    }

    /// Opens or closes `source`'s gate.
    pub fn set_fetching(&self, source: &str, on: bool) {
        if let Some(role) = self.role(source) {
            role.gate.send_if_modified(|open| std::mem::replace(open, on) != on);
        }
    }

    /// `source`'s role, when it has one.
    pub fn role(&self, source: &str) -> Option<Arc<Role>> {
        self.roles.read().get(source).cloned()
    }

    /// Every source's role now, in order (a copy: the lock is not held while Redis is asked).
    pub fn roles(&self) -> Vec<(Arc<str>, Arc<Role>)> {
        self.roles.read().iter().map(|(s, r)| (s.clone(), r.clone())).collect()
    }

    /// Gives `source` a role (a fleet host added at run time), or finds the one it has; returns
    /// its gate. It opens at once while this instance is alone (it fetches everything then), else
    /// once a round takes the source's lease.
    pub fn add_role(&self, source: &Arc<str>) -> watch::Receiver<bool> {
        let role = self.roles.write().entry(source.clone()).or_insert_with(|| Arc::new(Role::closed())).clone();
        if matches!(*self.mode.lock(), Mode::Alone { .. }) {
            role.gate.send_if_modified(|open| !std::mem::replace(open, true));
        }
        role.gate.subscribe()
    }

    /// Takes `source`'s role away (a fleet host removed): its gate closes, and the lease it held
    /// is returned (to be given up, or left to expire).
    pub fn remove_role(&self, source: &str) -> Option<String> {
        let role = self.roles.write().shift_remove(source)?;
        role.gate.send_if_modified(|open| std::mem::replace(open, false));
        role.lease.lock().take()
    }

    /// Counts one of `counter`.
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A name for this instance: host, process id and random bytes (a restarted process on the same
/// host is another instance).
pub fn instance_name(random: [u8; 3]) -> String {
    let host = sysinfo::System::host_name().unwrap_or_else(|_| "host".to_owned());
    format!("{host}:{}:{}", std::process::id(), super::keys::hex(&random))
}

/// A fresh epoch name: random, short.
pub fn new_epoch(random: [u8; 8]) -> String {
    super::keys::hex(&random)
}

/// The local epoch of an instance alone, told apart from every shared one and from its own
/// earlier spells alone.
pub fn local_epoch(instance_random: [u8; 8]) -> String {
    format!("local-{}-{}", super::keys::hex(&instance_random), now_ms())
}

impl crate::metrics::Families for State {
    fn render(&self, out: &mut String) {
        use crate::metrics::{count, family, one, source_label};
        let up = f64::from(u8::from(matches!(*self.mode.lock(), Mode::Shared { .. })));
        family(
            out,
            "cluster_redis_up",
            "gauge",
            "1 while the sources are shared through Redis, 0 while alone.",
            &one(up),
        );
        let fetching: Vec<(String, f64)> = self
            .roles
            .read()
            .iter()
            .map(|(source, role)| (source_label(source), f64::from(u8::from(*role.gate.borrow()))))
            .collect();
        family(out, "cluster_fetching", "gauge", "1 for each source this instance fetches now.", &fetching);
        let s = &self.stats;
        let counters = [
            ("cluster_published_total", "Samples and failures appended to the shared stream.", &s.published),
            ("cluster_fenced_total", "Appends refused: the lease had passed to another instance.", &s.fenced),
            ("cluster_received_total", "Entries read from the shared stream.", &s.received),
            ("cluster_leases_taken_total", "Source leases taken by this instance.", &s.leases_taken),
            ("cluster_redis_lost_total", "Times Redis became unreachable.", &s.lost),
            ("cluster_dropped_total", "Fetched samples that could not be appended to the stream.", &s.dropped),
        ];
        for (name, help, value) in counters {
            family(out, name, "counter", help, &count(value.load(Ordering::Relaxed)));
        }
    }
}
