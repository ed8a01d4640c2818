//! The targets file's hosts running as hub sources: [`Fleet`] follows the watched file
//! ([`run`] on `TargetsWatch::subscribe()`), and on each new set starts the hosts added, stops
//! those removed and restarts those whose kind or URL changed (a change of labels only updates
//! the [`Directory`], without fetching again), never touching the others.
//!
//! Each host is a hub source under its own source name ([`Names`]), is in the [`Directory`] with
//! its display name and tags, and is fetched by a task of its own ([`super::fetch::spawn`]), with
//! its own stop: the task is aborted and awaited before the host is unregistered or restarted,
//! so that nothing of the old one arrives after. Where its fetches go and when they run is the
//! [`Placement`]'s: this instance's stamper, always ([`Alone`]), or in a cluster the shared
//! stream behind the host's lease.
//!
//! A bad file keeps the last good set running: the watch logs the error once per change, and
//! [`TargetsHealth`] holds it for `/api/health` (with its line).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::directory::{Directory, HostEntry, HostKind};
use super::fetch::{self, Fetch, HostFetch, Reading};
use super::hosts_health::TargetsHealth;
use super::names::Names;
use super::node::NodeFigures;
use super::remote::{self, RemoteHost};
use crate::live::hub::Hub;
use crate::live::stamp::Stamper;
use crate::metrics::SourceMetrics;
use crate::shutdown::Shutdown;
use crate::sources::{self, Deliver, Kind, SourceSpec};
use crate::targets::watch::{POLL, WatchOptions};
use crate::targets::{Target, TargetKind, TargetsWatch, diff};

/// What a `livedash:` target shows when the server has no token to read it with.
pub const LIVEDASH_NO_TOKEN: &str = "a livedash: target is read with an API token: start with --fleet-token-file";

/// Where the hosts' fetches go and when they run.
pub trait Placement: Send + Sync + 'static {
    /// What takes each fetch's outcome.
    type Out: Deliver;

    /// The taker of every host's fetches.
    fn deliver(&self) -> Arc<Self::Out>;

    /// `source` was added: the gate its task fetches behind (open while this instance fetches it).
    fn add(&self, source: &Arc<str>) -> watch::Receiver<bool>;

    /// `source` was removed (its task has ended).
    fn remove(&self, source: &str);
}

/// A server alone: every host is fetched here, stamped by this instance.
pub struct Alone(pub Arc<Stamper>);

impl Placement for Alone {
    type Out = Stamper;

    fn deliver(&self) -> Arc<Stamper> {
        self.0.clone()
    }

    fn add(&self, _source: &Arc<str>) -> watch::Receiver<bool> {
        sources::always()
    }

    fn remove(&self, _source: &str) {}
}

/// One host: its target, its source name, its task while it runs.
struct Host {
    target: Target,
    source: Arc<str>,
    task: Option<JoinHandle<()>>,
}

/// The hosts declared: in the hub as sources and in the directory, not fetched yet. Made at
/// start, before the history store refills the hub (so that their history comes back too);
/// [`Fleet::new`] then runs them.
pub struct Roster {
    hub: Arc<Hub>,
    directory: Directory,
    interval: Duration,
    names: Names,
    /// The API token `livedash:` targets are read with (`--fleet-token-file`).
    token: Option<Arc<str>>,
    /// By target name.
    hosts: HashMap<Arc<str>, Host>,
    /// The set they were made from, in file order.
    current: Vec<Target>,
}

impl Roster {
    /// No hosts yet in `hub` and `directory`, each to be fetched every `interval`, beside the
    /// configured sources named `reserved` (their names are never given to a host).
    pub fn new(
        hub: Arc<Hub>,
        directory: Directory,
        interval: Duration,
        reserved: impl IntoIterator<Item = Arc<str>>,
    ) -> Self {
        let names = Names::new(reserved);
        Self { hub, directory, interval, names, token: None, hosts: HashMap::new(), current: Vec::new() }
    }

    /// Reads the `livedash:` targets with `token` (without one they are failing, saying why).
    pub fn read_remotes_with(&mut self, token: Option<Arc<str>>) {
        self.token = token;
    }

    /// Declares `targets` (the set at start).
    pub fn declare(&mut self, targets: &[Target]) {
        for target in targets {
            self.add(target);
        }
        self.current = targets.to_vec();
    }

    /// How many hosts there are.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Each host's source name, by target name.
    pub fn sources(&self) -> BTreeMap<Arc<str>, Arc<str>> {
        self.hosts.iter().map(|(name, host)| (name.clone(), host.source.clone())).collect()
    }

    /// Declares `target`: a source of the hub, a host of the directory (not fetched yet).
    fn add(&mut self, target: &Target) {
        if self.hosts.contains_key(&target.name) {
            return;
        }
        let source = self.names.assign(&target.name);
        // The directory first: a `configured` socket subscribing in between must already see the
        // new source as a host of the fleet, not as one of its own.
        self.directory.insert(source.clone(), entry(target, self.interval));
        self.hub.register_source(&source, self.interval, &super::figures::figure_rules());
        self.hosts.insert(target.name.clone(), Host { target: target.clone(), source, task: None });
    }
}

/// The hosts of the targets file, running.
pub struct Fleet<P: Placement> {
    roster: Roster,
    placement: P,
    fetch: Fetch,
    metrics: SourceMetrics,
    shutdown: Shutdown,
}

impl<P: Placement> Fleet<P> {
    /// Runs the `roster`'s hosts (at the next [`Fleet::apply`]) with `placement`, until `shutdown`.
    pub fn new(
        roster: Roster,
        placement: P,
        metrics: SourceMetrics,
        shutdown: Shutdown,
    ) -> Result<Self, sources::FetchError> {
        Ok(Self { roster, placement, fetch: Fetch::new()?, metrics, shutdown })
    }

    /// Makes the running hosts `targets`: starts what is new, stops what went, restarts what
    /// changed, and starts any declared host not running yet.
    pub async fn apply(&mut self, targets: &[Target]) {
        let d = diff(&self.roster.current, targets);
        for gone in &d.removed {
            self.remove(&gone.name).await;
        }
        let interval = self.roster.interval;
        for (old, new) in &d.changed {
            let Some(host) = self.roster.hosts.get_mut(&new.name) else { continue };
            if old.kind != new.kind {
                // Fetched anew (the hub's source, its history and status stay).
                stop(host.task.take()).await;
                tracing::info!(host = %new.name, url = %new.kind.url(), "fleet host changed: fetching it anew");
            }
            // Else labels only: the same task goes on.
            host.target = new.clone();
            self.roster.directory.insert(host.source.clone(), entry(new, interval));
        }
        for target in &d.added {
            self.roster.add(target);
        }
        let idle: Vec<(Arc<str>, Arc<str>, Target)> = (self.roster.hosts.iter())
            .filter(|(_, h)| h.task.is_none())
            .map(|(name, h)| (name.clone(), h.source.clone(), h.target.clone()))
            .collect();
        for (name, source, target) in idle {
            let task = start(self, &source, &target);
            if let Some(host) = self.roster.hosts.get_mut(&name) {
                host.task = task;
            }
        }
        self.roster.current = targets.to_vec();
    }

    /// The hosts.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// Stops every host (the tasks end; the hub keeps the sources).
    pub async fn stop(&mut self) {
        for host in self.roster.hosts.values_mut() {
            stop(host.task.take()).await;
        }
    }

    async fn remove(&mut self, name: &str) {
        let Some(mut host) = self.roster.hosts.remove(name) else { return };
        stop(host.task.take()).await;
        self.placement.remove(&host.source);
        self.roster.hub.unregister_source(&host.source);
        self.roster.directory.remove(&host.source);
        self.metrics.forget(&host.source);
        self.roster.names.release(&host.source);
    }
}

/// The directory's entry of `target`.
fn entry(target: &Target, interval: Duration) -> HostEntry {
    HostEntry {
        name: target.name.to_string(),
        tags: target.labels.clone(),
        interval,
        kind: match target.kind {
            TargetKind::Prometheus(_) => HostKind::Figures,
            // Another livedash: its `local` source's figures, as a fleet sample (`remote::task`).
            TargetKind::Livedash(_) => HostKind::Figures,
            // A JSON endpoint shaped like a `local` sample gives figures too (any other JSON gives
            // none, and its row shows the status alone).
            TargetKind::Http(_) => HostKind::Local,
        },
    }
}

/// Starts the task fetching `target` as `source`; `None` for a kind not fetched here.
fn start<P: Placement>(fleet: &Fleet<P>, source: &Arc<str>, target: &Target) -> Option<JoinHandle<()>> {
    let (url, reading) = match &target.kind {
        TargetKind::Prometheus(url) => (url.clone(), Reading::Figures(Box::new(NodeFigures::new()))),
        TargetKind::Http(url) => (url.clone(), Reading::Json),
        TargetKind::Livedash(_) => {
            // Read over its WebSocket, behind the same gate and into the same delivery.
            let (Some(url), Some(token)) = (target.kind.ws_url(), fleet.roster.token.clone()) else {
                fleet.roster.hub.set_failing(source, LIVEDASH_NO_TOKEN.to_owned());
                return None;
            };
            let (gate, deliver) = (fleet.placement.add(source), fleet.placement.deliver());
            let host = RemoteHost::new(url, token);
            return Some(remote::task::spawn(deliver, source.clone(), host, gate, fleet.shutdown.clone()));
        }
    };
    let host = HostFetch { source: source.clone(), url, reading, interval: fleet.roster.interval };
    let gate = fleet.placement.add(source);
    let deliver = fleet.placement.deliver();
    Some(fetch::spawn(fleet.fetch.clone(), deliver, fleet.metrics.clone(), host, gate, fleet.shutdown.clone()))
}

/// Ends `task` (between two of its awaits) and waits until it has.
async fn stop(task: Option<JoinHandle<()>>) {
    if let Some(task) = task {
        task.abort();
        // A cancelled task's error is the expected outcome.
        let _ = task.await;
    }
}

/// This machine's configured `local` sources, as hosts of the fleet (kind `Local`, named as the
/// source, no tags).
pub fn add_configured(directory: &Directory, sources: &[SourceSpec]) {
    for spec in sources.iter().filter(|s| s.kind == Kind::Local) {
        let entry = HostEntry {
            name: spec.name.to_string(),
            tags: BTreeMap::new(),
            interval: spec.interval,
            kind: HostKind::Local,
        };
        directory.insert(spec.name.clone(), entry);
    }
}

/// Follows the targets file at `path` until shutdown: watches it (trying again every poll while
/// it cannot be read at all), applies every new good set to `fleet`, and keeps `health` told.
pub async fn run<P: Placement>(mut fleet: Fleet<P>, path: PathBuf, health: TargetsHealth) {
    let mut shutdown = fleet.shutdown.clone();
    let watch = loop {
        match TargetsWatch::start(path.clone(), WatchOptions::default(), shutdown.clone()).await {
            Ok(watch) => break watch,
            Err(e) => {
                health.refused(&e, fleet.roster.len());
                tracing::warn!(error = %e, "targets file refused; the hosts declared at start run on");
                let current = fleet.roster.current.clone();
                fleet.apply(&current).await;
                tokio::select! {
                    () = tokio::time::sleep(POLL) => {}
                    () = shutdown.stopped() => return,
                }
            }
        }
    };
    let mut states = watch.subscribe();
    loop {
        let state = states.borrow_and_update().clone();
        fleet.apply(&state.targets).await;
        health.update(&state, fleet.roster.len());
        tokio::select! {
            changed = states.changed() => if changed.is_err() { break },
            () = shutdown.stopped() => break,
        }
    }
    fleet.stop().await;
    watch.stopped().await;
}
