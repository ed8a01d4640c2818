//! The instances and how samples and source statuses reach them: which rules watch a source's
//! series is resolved once per (source, series) and kept, so that a sample costs a hash look-up
//! per series and one step per instance it concerns. A series a source stops sending is told "no
//! data"; a source failing or stale is told to every instance of it (value rules hold, source
//! rules fire); a sample means the source is up.
//!
//! Pure apart from the state it holds: the instants come from the caller. So a replay of stored
//! history (`alerts check`) runs it without a server: [`Engine::new`] with the rules (and
//! [`super::rules::with_implicit`] if wanted), then [`Engine::sample`] / [`Engine::status`] at
//! instants made from the stored times (`base + (ts_ms - first_ms)`); each [`Change`] is an event.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use livedash::SourceState;
use livedash::alerts::{AlertState, Hush, Side};
use livedash::settings::{SeriesRule, SeriesSettings, Threshold as CardThreshold};

use super::machine::{Check, Machine, Observation, Saved, Timing, Transition};
use super::rules::{CardLevel, Condition, Rule};

/// An instance in memory: rule index, source, series.
type InstanceKey = (usize, Arc<str>, Option<Arc<str>>);

/// Where an instance is kept on disk: rule name, source, series (`""` for a source rule).
pub type DiskKey = (String, String, String);

/// One rule instance.
#[derive(Debug)]
pub struct Instance {
    /// Its rule's index.
    pub rule: usize,
    /// Its source.
    pub source: Arc<str>,
    /// Its series (`None`: a rule about the source).
    pub series: Option<Arc<str>>,
    /// What it compares.
    pub check: Check,
    /// Its state.
    pub machine: Machine,
    /// Somebody is on it (until it resolves, or `until_ms`).
    pub acked: Option<Hush>,
    /// When the acknowledgement lifts, if it has an end.
    pub ack_until: Option<Instant>,
    /// The source's sample count when its series was last seen.
    seen: u64,
}

/// A state change of one instance.
#[derive(Debug, Clone)]
pub struct Change {
    /// The instance's index.
    pub instance: usize,
    /// What changed.
    pub transition: Transition,
}

#[derive(Default)]
struct SourceCache {
    /// The rules watching this source's series (value, card and absent rules).
    watching: Vec<usize>,
    /// For each series seen: the instances it feeds.
    series: HashMap<Box<str>, Arc<[usize]>>,
    /// Every series instance of the source.
    instances: Vec<usize>,
    /// Its source-rule instances.
    about: Vec<usize>,
    /// Samples seen.
    samples: u64,
    /// While the source is failing or stale: what its source rules were told (their `for` is
    /// counted by [`Engine::tick`], as no sample comes meanwhile).
    down: Option<Observation>,
}

/// Every instance, and the caches that route observations to them.
pub struct Engine {
    rules: Vec<Rule>,
    settings: HashMap<Arc<str>, Arc<[SeriesRule]>>,
    sources: HashMap<Arc<str>, SourceCache>,
    /// Every instance, in the order they appeared.
    pub instances: Vec<Instance>,
    index: HashMap<InstanceKey, usize>,
    restored: HashMap<DiskKey, Saved>,
    /// Whether what an instance shows (state, hold) changed since [`Engine::take_changed`].
    shown_changed: bool,
}

/// What `rule` compares for `series` (`None`: the source itself) of a source with these series
/// settings (`settings`, for a card rule); `None` when it does not apply (a card rule for a series
/// without that threshold). The live path and the preview (`alerts check`) resolve it here.
pub fn check_of(rule: &Rule, settings: &[SeriesRule], series: Option<&str>) -> Option<Check> {
    Some(match (&rule.condition, series) {
        (Condition::Value(t), Some(_)) => {
            Check::Past { side: t.side, value: t.value, clear: t.clear, inclusive: false, scale: 1.0 }
        }
        (Condition::Card(level), Some(name)) => {
            let s = SeriesSettings::resolve(settings, name);
            let t = match level {
                CardLevel::Warn => s.warn,
                CardLevel::Critical => s.critical,
            }?;
            let (side, value) = match t {
                CardThreshold::Above(v) => (Side::Above, v),
                CardThreshold::Below(v) => (Side::Below, v),
            };
            Check::Past { side, value, clear: value, inclusive: true, scale: s.scale }
        }
        (Condition::Absent, Some(_)) => Check::Absent,
        (Condition::Failing, None) => Check::Failing,
        (Condition::Stale, None) => Check::Stale,
        _ => return None,
    })
}

impl Engine {
    /// The engine for `rules` (implicit ones included), the sources' series settings (for the
    /// card rules), and the instances kept on disk (restored at `now`: those still meaningful
    /// appear at once, the others when their series does).
    pub fn new(
        rules: Vec<Rule>,
        settings: HashMap<Arc<str>, Arc<[SeriesRule]>>,
        saved: Vec<(DiskKey, Saved)>,
        now: Instant,
    ) -> Self {
        let mut engine = Self {
            rules,
            settings,
            sources: HashMap::new(),
            instances: Vec::new(),
            index: HashMap::new(),
            restored: saved.into_iter().collect(),
            shown_changed: true,
        };
        let keys: Vec<DiskKey> = engine.restored.keys().cloned().collect();
        for (rule, source, series) in keys {
            let source: Arc<str> = Arc::from(source);
            let found = engine.rules.iter().position(|x| *x.name == rule && x.watches_source(&source));
            let Some(r) = found else { continue };
            let series = (!series.is_empty()).then(|| Arc::from(series));
            engine.ensure_source(&source);
            if let Some(check) = engine.check(r, &source, series.as_deref()) {
                engine.instance(r, &source, series, check, now);
            }
        }
        engine
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    fn ensure_source(&mut self, source: &Arc<str>) {
        if self.sources.contains_key(source) {
            return;
        }
        let watching = (0..self.rules.len())
            .filter(|&r| self.rules[r].watches_source(source) && !self.rules[r].condition.about_source())
            .collect();
        self.sources.insert(source.clone(), SourceCache { watching, ..SourceCache::default() });
    }

    /// What rule `r` compares for `series` of `source`; `None` when it does not apply (a card
    /// rule for a series without that threshold).
    fn check(&self, r: usize, source: &str, series: Option<&str>) -> Option<Check> {
        check_of(&self.rules[r], self.settings.get(source).map_or(&[][..], |r| &r[..]), series)
    }

    /// The instance of rule `r` for `source`'s `series`, made (or restored) if new.
    fn instance(&mut self, r: usize, source: &Arc<str>, series: Option<Arc<str>>, check: Check, now: Instant) -> usize {
        let key = (r, source.clone(), series.clone());
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let disk = (self.rules[r].name.to_string(), source.to_string(), series.as_deref().unwrap_or("").to_owned());
        let machine = match self.restored.remove(&disk) {
            Some(saved) => Machine::restore(&saved, now),
            None => Machine::new(crate::clock::now_ms()),
        };
        let i = self.instances.len();
        let about = series.is_none();
        self.instances.push(Instance {
            rule: r,
            source: source.clone(),
            series,
            check,
            machine,
            acked: None,
            ack_until: None,
            seen: 0,
        });
        self.index.insert(key, i);
        self.ensure_source(source);
        if let Some(cache) = self.sources.get_mut(source) {
            if about { cache.about.push(i) } else { cache.instances.push(i) }
        }
        i
    }

    /// The instances a series of `source` feeds, resolved once.
    fn route(&mut self, source: &Arc<str>, name: &str, now: Instant) -> Arc<[usize]> {
        if let Some(found) = self.sources.get(source).and_then(|c| c.series.get(name)) {
            return found.clone();
        }
        let watching = self.sources.get(source).map(|c| c.watching.clone()).unwrap_or_default();
        let series: Arc<str> = Arc::from(name);
        let mut fed = Vec::new();
        for r in watching {
            if !self.rules[r].watches_series(name) {
                continue;
            }
            if let Some(check) = self.check(r, source, Some(name)) {
                fed.push(self.instance(r, source, Some(series.clone()), check, now));
            }
        }
        let fed: Arc<[usize]> = fed.into();
        if let Some(cache) = self.sources.get_mut(source) {
            cache.series.insert(Box::from(name), fed.clone());
        }
        fed
    }

    fn step(&mut self, i: usize, now: Instant, now_ms: u64, obs: &Observation, out: &mut Vec<Change>) {
        let rule = &self.rules[self.instances[i].rule];
        let timing = Timing { for_: rule.for_, keep: rule.keep_firing_for };
        let inst = &mut self.instances[i];
        let shown = inst.machine.shown();
        let transition = inst.machine.observe(&inst.check, timing, now, now_ms, obs);
        self.shown_changed |= transition.is_some() || inst.machine.shown() != shown;
        if let Some(transition) = transition {
            if transition.to == AlertState::Resolved || transition.to == AlertState::Ok {
                inst.acked = None;
                inst.ack_until = None;
            }
            out.push(Change { instance: i, transition });
        }
    }

    /// A sample of `source` with these numeric series (received at `now`, labelled `now_ms`):
    /// the source is up, each series' instances judge its value, and the instances of series
    /// missing from it are told "no data".
    pub fn sample(&mut self, source: &Arc<str>, values: &[(String, f64)], now: Instant, now_ms: u64) -> Vec<Change> {
        let mut out = Vec::new();
        self.ensure_source(source);
        if self.sources.get(source).is_some_and(|c| c.samples == 0) {
            self.expect_named(source, now);
        }
        let about = self.sources.get(source).map(|c| c.about.clone()).unwrap_or_default();
        for i in about {
            self.step(i, now, now_ms, &Observation::Up, &mut out);
        }
        let generation = self.sources.get_mut(source).map_or(0, |c| {
            c.samples += 1;
            c.samples
        });
        for (name, value) in values {
            if livedash::series::is_meta(name) || !value.is_finite() {
                continue;
            }
            for &i in self.route(source, name, now).iter() {
                self.instances[i].seen = generation;
                self.step(i, now, now_ms, &Observation::Value(*value), &mut out);
            }
        }
        // Taken out and put back (stepping makes no instance): no copy per sample.
        let all = self.sources.get_mut(source).map(|c| std::mem::take(&mut c.instances)).unwrap_or_default();
        for &i in &all {
            if self.instances[i].seen != generation {
                self.step(i, now, now_ms, &Observation::NoData, &mut out);
            }
        }
        if let Some(cache) = self.sources.get_mut(source) {
            cache.instances = all;
        }
        out
    }

    /// The `absent` rules naming one series (no `*`) of `source`: their instances exist from the
    /// source's first sample, so that a series never sent is told "no data" too.
    fn expect_named(&mut self, source: &Arc<str>, now: Instant) {
        let named: Vec<(usize, String)> = (0..self.rules.len())
            .filter(|&r| {
                let rule = &self.rules[r];
                rule.condition == Condition::Absent && !rule.series.contains('*') && rule.watches_source(source)
            })
            .map(|r| (r, self.rules[r].series.clone()))
            .collect();
        for (_, name) in named {
            self.route(source, &name, now);
        }
    }

    /// `source`'s status changed to `state` (for `reason`): failing or stale holds its value
    /// rules and fires its source rules; ok resolves the source rules.
    pub fn status(
        &mut self,
        source: &Arc<str>,
        state: SourceState,
        reason: Option<&str>,
        now: Instant,
        now_ms: u64,
    ) -> Vec<Change> {
        let mut out = Vec::new();
        self.ensure_source(source);
        let obs = match state {
            // A source removed at run time resolves what was firing about it.
            SourceState::Ok | SourceState::Gone => Observation::Up,
            SourceState::Failing | SourceState::Stale => Observation::Down {
                stale: state == SourceState::Stale,
                reason: Arc::from(reason.unwrap_or(if state == SourceState::Stale { "stale" } else { "failing" })),
            },
        };
        if matches!(obs, Observation::Down { .. }) {
            let about: Vec<usize> = (0..self.rules.len()).filter(|&r| self.rules[r].watches_source(source)).collect();
            for r in about {
                if let Some(check) = self.check(r, source, None) {
                    self.instance(r, source, None, check, now);
                }
            }
        }
        if let Some(cache) = self.sources.get_mut(source) {
            cache.down = matches!(obs, Observation::Down { .. }).then(|| obs.clone());
        }
        let cache = self.sources.get(source);
        let targets: Vec<usize> =
            cache.map(|c| c.about.iter().chain(&c.instances).copied().collect()).unwrap_or_default();
        for i in targets {
            self.step(i, now, now_ms, &obs, &mut out);
        }
        out
    }

    /// The instance of the rule named `rule` for `source`'s `series` (made if new), set to `saved`
    /// at `now` when given: in a cluster, what the source's lease holder decided, taken by every
    /// instance that does not judge the source itself. `None` when no such rule applies to it.
    pub fn adopt(
        &mut self,
        (rule, source, series): (&str, &Arc<str>, Option<Arc<str>>),
        saved: Option<&Saved>,
        now: Instant,
    ) -> Option<usize> {
        let r = self.rules.iter().position(|x| *x.name == *rule)?;
        let check = self.check(r, source, series.as_deref())?;
        let i = self.instance(r, source, series, check, now);
        if let Some(saved) = saved {
            let inst = &mut self.instances[i];
            inst.machine = Machine::restore(saved, now);
            if saved.state == Some(AlertState::Ok) {
                (inst.acked, inst.ack_until) = (None, None);
            }
            self.shown_changed = true;
        }
        Some(i)
    }

    /// Whether what any instance shows changed since the last call (the `alerts` frame needs
    /// making again only then, or when a silence changes).
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.shown_changed)
    }

    /// Every instance's place on disk and what to keep of it at `now`.
    pub fn saved(&self, now: Instant) -> Vec<(DiskKey, Saved)> {
        self.instances.iter().map(|i| (self.disk_key(i), i.machine.save(now))).collect()
    }

    /// Where `inst` is kept on disk.
    pub fn disk_key(&self, inst: &Instance) -> DiskKey {
        let series = inst.series.as_deref().unwrap_or("").to_owned();
        (self.rules[inst.rule].name.to_string(), inst.source.to_string(), series)
    }
}

#[cfg(test)]
mod tests;
mod tick;
