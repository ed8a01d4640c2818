//! The rules, typed: what a `[[alert]]` table, a `[[source.series]]` table with `alert = true`,
//! or the implicit "source down" rule of every source comes to, checked once at start-up (the
//! config wing makes them; see `config::alert`). A rule says which sources and series it watches
//! (names or patterns with `*`), what it judges (a value past a threshold, the card's own
//! thresholds, a failing or stale source, an absent series), how long the condition must hold
//! (`for`) and how long it keeps firing after it ends (`keep_firing_for`).
//!
//! [`RuleView`] is a rule as the API shows it.

use std::sync::Arc;
use std::time::Duration;

use livedash::alerts::{Severity, Side, Threshold};
use livedash::settings::matches;

/// The name of the rule every source gets without configuration: it fires while the source is
/// failing or stale (replaced, for a source, by a configured `when = "failing"` rule that matches
/// it).
pub const SOURCE_DOWN: &str = "source down";

/// Which level of a card's thresholds a rule made by `alert = true` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardLevel {
    /// `warn_above` / `warn_below` (and a percentage's default 75).
    Warn,
    /// `critical_above` / `critical_below` (and a percentage's default 90).
    Critical,
}

/// What a rule judges.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A series' value past a threshold: strictly above (below) `threshold.value` to fire, at or
    /// below (above) `threshold.clear` to resolve.
    Value(Threshold),
    /// A series' value past its card's threshold of this level, as the card compares it (the
    /// value times the series' `scale`, at or above / at or below): made by `alert = true`, so the
    /// card's colour and the alert agree.
    Card(CardLevel),
    /// The source is failing or stale (its fetch fails, or no sample for 3 intervals).
    Failing,
    /// The source is stale only (no sample for 3 intervals, the hub's stale mark).
    Stale,
    /// A matching series that the source delivered before (or a series named without `*`) is
    /// missing from its sample.
    Absent,
}

impl Condition {
    /// Whether it is about the source itself (one instance per source, no series).
    pub fn about_source(&self) -> bool {
        matches!(self, Self::Failing | Self::Stale)
    }

    /// The word of the config's `when`, or `above` / `below` / `card`.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Value(Threshold { side: Side::Above, .. }) => "above",
            Self::Value(Threshold { side: Side::Below, .. }) => "below",
            Self::Card(_) => "card",
            Self::Failing => "failing",
            Self::Stale => "stale",
            Self::Absent => "absent",
        }
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The `[[alert]]` table at this index.
    Configured(usize),
    /// `alert = true` on a `[[source.series]]` table.
    Card,
    /// The implicit "source down" rule.
    Implicit,
}

/// One rule, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its unique name.
    pub name: Arc<str>,
    /// A source name, or a pattern with `*`.
    pub source: String,
    /// A series key, or a pattern with `*` (`*` for a rule about the source).
    pub series: String,
    /// What it judges.
    pub condition: Condition,
    /// How long the condition must hold before it fires.
    pub for_: Duration,
    /// How long it keeps firing after the condition ends.
    pub keep_firing_for: Duration,
    /// How bad it is when it fires.
    pub severity: Severity,
    /// The channels to tell (next issue).
    pub notify: Vec<String>,
    /// Where it comes from.
    pub origin: Origin,
}

impl Rule {
    /// Whether it watches `source`.
    pub fn watches_source(&self, source: &str) -> bool {
        matches(&self.source, source)
    }

    /// Whether it watches `series` (of a source it watches).
    pub fn watches_series(&self, series: &str) -> bool {
        !self.condition.about_source() && matches(&self.series, series)
    }

    /// The implicit "source down" rule for one source fetched every `interval`: fires once it
    /// has been failing or stale for [`DOWN_AFTER_FETCHES`] fetches, critical.
    pub fn source_down(source: &str, interval: Duration) -> Self {
        Self {
            name: Arc::from(SOURCE_DOWN),
            source: source.to_owned(),
            series: "*".to_owned(),
            condition: Condition::Failing,
            for_: interval.saturating_mul(DOWN_AFTER_FETCHES),
            keep_firing_for: Duration::ZERO,
            severity: Severity::Critical,
            notify: Vec::new(),
            origin: Origin::Implicit,
        }
    }

    /// The rule as the API shows it.
    pub fn view(&self) -> RuleView {
        let threshold = match &self.condition {
            Condition::Value(t) => Some(*t),
            _ => None,
        };
        let level = match &self.condition {
            Condition::Card(CardLevel::Warn) => Some("warn"),
            Condition::Card(CardLevel::Critical) => Some("critical"),
            _ => None,
        };
        RuleView {
            name: self.name.clone(),
            source: self.source.clone(),
            series: (!self.condition.about_source()).then(|| self.series.clone()),
            when: self.condition.word(),
            threshold,
            card_level: level,
            for_ms: u64::try_from(self.for_.as_millis()).unwrap_or(u64::MAX),
            keep_firing_for_ms: u64::try_from(self.keep_firing_for.as_millis()).unwrap_or(u64::MAX),
            severity: self.severity,
            notify: self.notify.clone(),
            origin: match self.origin {
                Origin::Configured(_) => "config",
                Origin::Card => "series",
                Origin::Implicit => "implicit",
            },
        }
    }
}

/// A rule as `GET /api/alerts` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleView {
    /// Its name.
    pub name: Arc<str>,
    /// Its source name or pattern.
    pub source: String,
    /// Its series key or pattern (absent for a rule about the source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// `above`, `below`, `card`, `failing`, `stale` or `absent`.
    pub when: &'static str,
    /// For `above` / `below`: the threshold and where it clears.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
    /// For `card`: which of the card's thresholds (`warn` or `critical`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_level: Option<&'static str>,
    /// Its `for`, in ms.
    pub for_ms: u64,
    /// Its `keep_firing_for`, in ms.
    pub keep_firing_for_ms: u64,
    /// Its severity.
    pub severity: Severity,
    /// Its channels.
    pub notify: Vec<String>,
    /// `config` (an `[[alert]]` table), `series` (`alert = true`) or `implicit` (source down).
    pub origin: &'static str,
}

/// How many fetch intervals a source must have been failing before its implicit "source down"
/// rule fires: one failed fetch (a restart of the upstream, a lost packet) shows on its card at
/// once but pages nobody; three in a row is a source that is down. A configured `when =
/// "failing"` rule with its own `for` replaces it.
pub const DOWN_AFTER_FETCHES: u32 = 3;

/// The rules in force for `sources` (each with its fetch interval): the configured ones, then an
/// implicit "source down" rule for each source that no configured `when = "failing"` rule
/// watches.
pub fn with_implicit(configured: Vec<Rule>, sources: &[(Arc<str>, Duration)]) -> Vec<Rule> {
    let mut rules = configured;
    let implicit: Vec<Rule> = sources
        .iter()
        .filter(|(s, _)| !rules.iter().any(|r| r.condition == Condition::Failing && r.watches_source(s)))
        .map(|(s, interval)| Rule::source_down(s, *interval))
        .collect();
    rules.extend(implicit);
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(source: &str) -> Rule {
        Rule { name: Arc::from("down"), origin: Origin::Configured(0), ..Rule::source_down(source, Duration::ZERO) }
    }

    #[test]
    fn a_configured_failing_rule_replaces_the_implicit_one_of_the_sources_it_watches() {
        let second = Duration::from_secs(1);
        let sources = [(Arc::from("a"), second), (Arc::from("b"), second * 10), (Arc::from("web-1"), second)];
        let rules = with_implicit(vec![failing("web-*")], &sources);
        let names: Vec<(&str, &str)> = rules.iter().map(|r| (&*r.name, r.source.as_str())).collect();
        assert_eq!(names, [("down", "web-*"), (SOURCE_DOWN, "a"), (SOURCE_DOWN, "b")]);
        let view = rules[1].view();
        assert_eq!((view.when, view.origin, view.series), ("failing", "implicit", None));
        assert_eq!((rules[1].for_, rules[2].for_), (second * 3, second * 30), "three fetches of each source");
    }

    #[test]
    fn a_source_rule_watches_no_series() {
        let r = Rule::source_down("a", Duration::from_secs(1));
        assert!(r.watches_source("a") && !r.watches_source("b"));
        assert!(!r.watches_series("cpu_pct"));
    }
}
