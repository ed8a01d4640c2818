//! The summary board: one row per host of the [`Directory`], kept from the samples and statuses
//! the hub accepts (through its tap, [`Gatherer`]), and once a second, when something changed,
//! one `fleet` frame (the rows that changed, the hosts gone, the counts) and one `points` frame
//! per figure whose values changed, each serialized once and broadcast on the summary channel
//! that only the sockets subscribed to them read ([`crate::live::summary`]).
//!
//! A host's status is [`livedash::fleet::host_status`] on the monotonic clock, with its interval
//! and [`MISSED`] intervals, judged at every tick: a host that stops delivering goes stale, then
//! down, without any frame of its own. The tick also reads each kept sample's figures (never
//! under the hub's lock) and counts each host's firing alerts from the alerts the hub holds.
//!
//! Every row keeps the summary `seq` it last changed at (and each figure its own), so that a
//! socket resuming after `K` gets exactly what changed after it; after a host's removal past `K`,
//! or a `K` of another life, a `full` update.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use livedash::Frame;
use livedash::alerts::AlertState;
use livedash::fleet::FIGURES;
use livedash::summary::{FigurePoints, FleetUpdate};
use parking_lot::Mutex;
use tokio::sync::broadcast;
use tokio::time::MissedTickBehavior;
use tungstenite::Utf8Bytes;

use super::directory::{Directory, HostKind};
use super::hosts_health::TargetsHealth;
pub use super::rows::MISSED;
use super::rows::{Gathered, Gatherer, Host, counts};
use crate::clock::{millis, now_ms};
use crate::live::hub::Hub;
use crate::live::subscription::SourceClass;
use crate::live::summary::{SUMMARY_CAPACITY, SummaryFeed, SummaryFrame, SummaryKind, SummaryStart, SummaryWants};
use crate::shutdown::Shutdown;

/// How often the board looks at what changed.
pub const TICK: Duration = Duration::from_secs(1);

/// The rows and what was last made of them.
struct Rows {
    /// Summary `seq`s of this life start here (the wall clock in microseconds at start): a `K`
    /// below it is of another life.
    first_seq: u64,
    seq: u64,
    /// The `seq` of the last removal: a resume from before it gets a full update.
    removed_at: u64,
    hosts: BTreeMap<Arc<str>, Host>,
    directory_version: Option<u64>,
    /// The full `fleet` frame, and each figure's full `points` frame, for the `seq` made at.
    full: Option<(u64, Utf8Bytes)>,
    full_points: [Option<(u64, Utf8Bytes)>; 7],
    /// Why the targets file is not used now, as every update says while it lasts.
    problem: Option<String>,
}

/// The board: see the module docs.
pub struct Board {
    rows: Mutex<Rows>,
    gatherer: Arc<Gatherer>,
    tx: broadcast::Sender<SummaryFrame>,
    directory: Directory,
    hub: Arc<Hub>,
    started: Instant,
    /// The targets file's state, when there is one: its error goes in every update.
    targets: Option<TargetsHealth>,
}

impl Board {
    /// A board of `directory`'s hosts, told by `hub` (its tap is added here); not ticking.
    pub fn new(hub: &Arc<Hub>, directory: Directory) -> Arc<Self> {
        Self::with_targets(hub, directory, None)
    }

    /// [`Board::new`], telling the targets file's error (from `targets`) in its updates.
    pub fn with_targets(hub: &Arc<Hub>, directory: Directory, targets: Option<TargetsHealth>) -> Arc<Self> {
        let started = Instant::now();
        let gatherer = Arc::new(Gatherer::new(started));
        hub.add_tap(gatherer.clone());
        let first_seq = now_ms().saturating_mul(1000);
        let rows = Rows {
            first_seq,
            seq: first_seq,
            removed_at: first_seq,
            hosts: BTreeMap::new(),
            directory_version: None,
            full: None,
            full_points: Default::default(),
            problem: None,
        };
        let tx = broadcast::channel(SUMMARY_CAPACITY).0;
        Arc::new(Self { rows: Mutex::new(rows), gatherer, tx, directory, hub: hub.clone(), started, targets })
    }

    /// [`Board::new`], ticking every [`TICK`] until `shutdown`.
    pub fn start(
        hub: &Arc<Hub>,
        directory: Directory,
        targets: Option<TargetsHealth>,
        mut shutdown: Shutdown,
    ) -> Arc<Self> {
        let board = Self::with_targets(hub, directory, targets);
        let ticking = board.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        ticking.tick();
                    }
                    () = shutdown.stopped() => return,
                }
            }
        });
        board
    }

    /// One look: the directory's hosts, what was gathered, every status; a `fleet` frame and
    /// the `points` frames when something changed. Returns the summary `seq` after it.
    pub fn tick(&self) -> u64 {
        self.tick_at(millis(self.started.elapsed()))
    }

    /// [`Board::tick`] at `now`, in ms on the board's monotonic clock (since it was made).
    pub fn tick_at(&self, now: u64) -> u64 {
        let gathered = self.gatherer.take();
        let wall = now_ms();
        let alerting = self.alerting();
        let mut rows = self.rows.lock();
        let rows = &mut *rows;
        let next = rows.seq + 1;
        let mut changed: Vec<Arc<str>> = Vec::new();
        let (gone, emptied) = self.follow_directory(rows, wall, next, &mut changed);
        let Gathered { samples, failed } = gathered;
        for (source, samples) in &samples {
            if let Some(host) = rows.hosts.get_mut(source) {
                host.sampled(samples, next);
                changed.push(source.clone());
            }
        }
        for (source, at) in failed {
            if let Some(host) = rows.hosts.get_mut(&source) {
                host.last_attempt = Some(at);
            }
        }
        for (source, host) in &mut rows.hosts {
            if host.judge(now, wall, alerting.get(&**source).copied().unwrap_or(0)) {
                changed.push(source.clone());
            }
        }
        let problem = self.targets.as_ref().and_then(|t| t.report().error).map(|e| e.to_string());
        let problem_changed = problem != rows.problem;
        rows.problem = problem;
        if changed.is_empty() && gone.is_empty() && !problem_changed {
            return rows.seq;
        }
        changed.sort_unstable();
        changed.dedup();
        rows.seq = next;
        for source in &changed {
            if let Some(host) = rows.hosts.get_mut(source) {
                host.changed(next);
            }
        }
        // Tags that became none cannot be told as a change (no tags in a change: the same tags).
        let text = if emptied {
            rows.removed_at = next;
            self.full(rows)
        } else {
            let update = FleetUpdate {
                seq: next,
                full: false,
                rows: changed.iter().filter_map(|s| rows.hosts.get(s)).map(|h| h.change_after(next - 1)).collect(),
                gone,
                counts: counts(rows.hosts.values()),
                problem: rows.problem.clone(),
            };
            Utf8Bytes::from(Frame::Fleet(update).to_json())
        };
        // An error only means that no socket reads the summary now.
        let _ = self.tx.send(SummaryFrame::new(SummaryKind::Fleet, next, text.to_string()));
        for i in 0..FIGURES.len() {
            if let Some(points) = points(rows, i, next - 1, false) {
                let _ = self.tx.send(SummaryFrame::new(SummaryKind::Points(i as u8), next, points));
            }
        }
        next
    }

    /// Takes the directory's hosts when it changed: new rows, relabelled rows (pushed to
    /// `changed`); returns the ids of rows that went, and whether a host's tags became none.
    fn follow_directory(
        &self,
        rows: &mut Rows,
        wall: u64,
        next: u64,
        changed: &mut Vec<Arc<str>>,
    ) -> (Vec<String>, bool) {
        let version = *self.directory.watch().borrow();
        if rows.directory_version == Some(version) {
            return (Vec::new(), false);
        }
        rows.directory_version = Some(version);
        let entries = self.directory.snapshot();
        let mut gone = Vec::new();
        rows.hosts.retain(|source, host| {
            let keep = entries.contains_key(source);
            if !keep {
                gone.push(host.row.id().to_owned());
            }
            keep
        });
        if !gone.is_empty() {
            rows.removed_at = next;
        }
        let mut emptied = false;
        for (source, entry) in &entries {
            match rows.hosts.get_mut(source) {
                Some(host) => {
                    if host.relabel(source, entry, next) {
                        changed.push(source.clone());
                        emptied |= host.tags_at == next && entry.tags.is_empty();
                    }
                }
                None => {
                    rows.hosts.insert(source.clone(), Host::new(source, entry, wall, next));
                    changed.push(source.clone());
                }
            }
        }
        (gone, emptied)
    }

    /// How many alert instances fire, per source.
    fn alerting(&self) -> HashMap<Arc<str>, u32> {
        let mut counts = HashMap::new();
        if let Some(alerts) = self.hub.alerts() {
            for instance in alerts.instances.iter().filter(|i| i.state == AlertState::Firing) {
                *counts.entry(instance.source.clone()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The full `fleet` frame now (made once per `seq`).
    fn full(&self, rows: &mut Rows) -> Utf8Bytes {
        if let Some((seq, text)) = &rows.full
            && *seq == rows.seq
        {
            return text.clone();
        }
        let update = FleetUpdate {
            seq: rows.seq,
            full: true,
            rows: rows.hosts.values().map(|h| h.row.clone()).collect(),
            gone: Vec::new(),
            counts: counts(rows.hosts.values()),
            problem: rows.problem.clone(),
        };
        let text = Utf8Bytes::from(Frame::Fleet(update).to_json());
        rows.full = Some((rows.seq, text.clone()));
        text
    }

    /// The full `points` frame of figure `i` now (made once per `seq`).
    fn full_points(&self, rows: &mut Rows, i: usize) -> Utf8Bytes {
        if let Some((seq, text)) = &rows.full_points[i]
            && *seq == rows.seq
        {
            return text.clone();
        }
        let text = Utf8Bytes::from(points(rows, i, rows.first_seq, true).unwrap_or_default());
        rows.full_points[i] = Some((rows.seq, text.clone()));
        text
    }
}

/// A `points` frame of figure `i` with the values changed after `after` (every host's when
/// `full`); `None` when none changed.
fn points(rows: &Rows, i: usize, after: u64, full: bool) -> Option<String> {
    let changed = rows.hosts.values().filter(|h| full || h.figure_at[i] > after);
    let points: Vec<(String, Option<f64>)> = changed.map(|h| (h.row.id().to_owned(), h.sent[i])).collect();
    if points.is_empty() && !full {
        return None;
    }
    let figure = FIGURES[i].to_owned();
    Some(Frame::Points(FigurePoints { seq: rows.seq, ts_ms: now_ms(), figure, full, points }).to_json())
}

/// `configured` takes every source but the fleet's fetched hosts (kind Figures: the targets
/// file's); this machine's `local` (kind Local) stays one of the config file's.
impl SourceClass for Directory {
    fn is_configured(&self, source: &str) -> bool {
        self.kind(source) != Some(HostKind::Figures)
    }
}

impl SummaryFeed for Board {
    fn start(&self, wants: SummaryWants, since: Option<u64>) -> SummaryStart {
        let mut rows = self.rows.lock();
        let receiver = self.tx.subscribe();
        let rows = &mut *rows;
        let seq = rows.seq;
        let figures = (0..FIGURES.len()).filter(|&i| wants.figure(i));
        let Some(since) = since else {
            let hello_fleet = wants.overview.then(|| self.full(rows));
            let frames = figures.map(|i| self.full_points(rows, i)).collect();
            return SummaryStart { hello_fleet, frames, seq, receiver };
        };
        let mut frames = Vec::new();
        if since < rows.removed_at.max(rows.first_seq) || since > seq {
            if wants.overview {
                frames.push(self.full(rows));
            }
            frames.extend(figures.map(|i| self.full_points(rows, i)));
            return SummaryStart { hello_fleet: None, frames, seq, receiver };
        }
        if wants.overview {
            let update = FleetUpdate {
                seq,
                full: false,
                rows: rows.hosts.values().filter(|h| h.changed_at > since).map(|h| h.change_after(since)).collect(),
                gone: Vec::new(),
                counts: counts(rows.hosts.values()),
                problem: rows.problem.clone(),
            };
            frames.push(Frame::Fleet(update).to_json().into());
        }
        frames.extend(figures.filter_map(|i| points(rows, i, since, false)).map(Utf8Bytes::from));
        SummaryStart { hello_fleet: None, frames, seq, receiver }
    }
}
