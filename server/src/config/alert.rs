//! An `[[alert]]` table of the `--config` file, checked into an alerts [`Rule`]: `name`, `source`,
//! `series`, `above` or `below` with an optional `clear`, or `when` (`failing`, `stale`,
//! `absent`), `for`, `keep_firing_for`, `severity`, `notify`. A bad value is refused with the name
//! of its key, which [`super::file`] puts after the table's place (`alert[2].for`); so is a name
//! used twice. Also the rules that `alert = true` on a `[[source.series]]` table makes.

use std::sync::Arc;
use std::time::Duration;

use livedash::alerts::{Severity, Side, Threshold};

use super::parse::parse_duration;
use super::series::BadKey;
use crate::alerts::rules::{CardLevel, Condition, Origin, Rule, SOURCE_DOWN};

/// The most characters of a rule's name.
const MAX_NAME: usize = 100;
/// The longest `for` or `keep_firing_for`.
const MAX_WAIT: Duration = Duration::from_secs(7 * 86_400);

/// One `[[alert]]` table, as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAlert {
    name: Option<String>,
    source: Option<String>,
    series: Option<String>,
    above: Option<f64>,
    below: Option<f64>,
    clear: Option<f64>,
    when: Option<String>,
    #[serde(rename = "for")]
    for_: Option<String>,
    keep_firing_for: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    notify: Vec<String>,
}

fn bad(key: &'static str, message: impl Into<String>) -> BadKey {
    (key, message.into())
}

fn wait(key: &'static str, value: Option<&String>) -> Result<Duration, BadKey> {
    value.map_or(Ok(Duration::ZERO), |v| {
        parse_duration(v, Duration::ZERO, MAX_WAIT).map_err(|e| bad(key, format!("{v:?}: {e}")))
    })
}

impl FileAlert {
    /// The rule of the table at `index`, or the first key whose value is bad.
    pub fn rule(&self, index: usize) -> Result<Rule, BadKey> {
        let name = self.name.as_deref().map(str::trim).unwrap_or_default();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(bad("name", format!("must be 1 to {MAX_NAME} characters (a rule needs a unique name)")));
        }
        let source = self.source.clone().unwrap_or_else(|| "*".to_owned());
        if source.trim().is_empty() {
            return Err(bad("source", "must name a source, or a pattern with * (\"*\" for all)"));
        }
        let condition = self.condition()?;
        if name == SOURCE_DOWN && condition != Condition::Failing {
            return Err(bad(
                "name",
                format!("{SOURCE_DOWN:?} is the implicit rule's name: only a `when = \"failing\"` rule may take it"),
            ));
        }
        let series = match (&condition, &self.series) {
            (Condition::Failing | Condition::Stale, Some(_)) => {
                return Err(bad("series", "a `when = \"failing\"` or `\"stale\"` rule is about the source: no series"));
            }
            (Condition::Failing | Condition::Stale, None) => "*".to_owned(),
            (_, Some(s)) if !s.trim().is_empty() => s.clone(),
            _ => return Err(bad("series", "must name a series key, or a pattern with * (\"cpu_pct\", \"net.*\")")),
        };
        let severity = match self.severity.as_deref() {
            None | Some("warning") => Severity::Warning,
            Some("critical") => Severity::Critical,
            Some(other) => return Err(bad("severity", format!("{other:?}: use \"warning\" or \"critical\""))),
        };
        if let Some(i) = self.notify.iter().position(|n| n.trim().is_empty()) {
            return Err(bad("notify", format!("entry {i} is empty: name a channel")));
        }
        Ok(Rule {
            name: Arc::from(name),
            source,
            series,
            condition,
            for_: wait("for", self.for_.as_ref())?,
            keep_firing_for: wait("keep_firing_for", self.keep_firing_for.as_ref())?,
            severity,
            notify: self.notify.clone(),
            origin: Origin::Configured(index),
        })
    }

    fn condition(&self) -> Result<Condition, BadKey> {
        for (key, v) in [("above", self.above), ("below", self.below), ("clear", self.clear)] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(bad(key, "must be a finite number"));
            }
        }
        if let Some(when) = &self.when {
            let condition = match when.as_str() {
                "failing" => Condition::Failing,
                "stale" => Condition::Stale,
                "absent" => Condition::Absent,
                other => return Err(bad("when", format!("{other:?}: use \"failing\", \"stale\" or \"absent\""))),
            };
            if let Some(key) = [("above", self.above), ("below", self.below), ("clear", self.clear)]
                .iter()
                .find_map(|(k, v)| v.map(|_| *k))
            {
                return Err(bad(key, format!("not with `when = {when:?}` (a rule has a threshold or a `when`)")));
            }
            return Ok(condition);
        }
        let (side, value) = match (self.above, self.below) {
            (Some(v), None) => (Side::Above, v),
            (None, Some(v)) => (Side::Below, v),
            (Some(_), Some(_)) => return Err(bad("below", "set above or below, not both")),
            (None, None) => {
                return Err(bad("above", "set above or below (or when = \"failing\", \"stale\", \"absent\")"));
            }
        };
        let clear = self.clear.unwrap_or(value);
        match side {
            Side::Above if clear > value => {
                return Err(bad("clear", format!("{clear} must be at or below above = {value} (where it resolves)")));
            }
            Side::Below if clear < value => {
                return Err(bad("clear", format!("{clear} must be at or above below = {value} (where it resolves)")));
            }
            _ => {}
        }
        Ok(Condition::Value(Threshold { side, value, clear }))
    }
}

/// The two rules `alert = true` makes of a `[[source.series]]` table matching `pattern` on
/// `source`: `"<source> <pattern> warn"` (severity warning) and `"<source> <pattern> critical"`
/// (critical), each firing at once when the card's own threshold of that level is crossed.
pub fn card_rules(source: &str, pattern: &str) -> [Rule; 2] {
    let rule = |level: CardLevel, word: &str, severity: Severity| Rule {
        name: Arc::from(format!("{source} {pattern} {word}")),
        source: source.to_owned(),
        series: pattern.to_owned(),
        condition: Condition::Card(level),
        for_: Duration::ZERO,
        keep_firing_for: Duration::ZERO,
        severity,
        notify: Vec::new(),
        origin: Origin::Card,
    };
    [rule(CardLevel::Warn, "warn", Severity::Warning), rule(CardLevel::Critical, "critical", Severity::Critical)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(toml: &str) -> Result<Rule, BadKey> {
        toml::from_str::<FileAlert>(toml).expect("parses").rule(0)
    }

    #[test]
    fn the_issues_two_examples_read() {
        let r = rule(
            "name = \"cpu busy\"\nsource = \"local\"\nseries = \"cpu_pct\"\nabove = 90\nclear = 80\nfor = \"1m\"\n\
             keep_firing_for = \"2m\"\nseverity = \"critical\"\nnotify = [\"ops\"]",
        )
        .expect("valid");
        assert_eq!(r.condition, Condition::Value(Threshold { side: Side::Above, value: 90.0, clear: 80.0 }));
        assert_eq!((r.for_, r.keep_firing_for), (Duration::from_secs(60), Duration::from_secs(120)));
        assert_eq!((r.severity, r.notify.as_slice()), (Severity::Critical, ["ops".to_owned()].as_slice()));
        let r =
            rule("name = \"source down\"\nsource = \"*\"\nwhen = \"failing\"\nfor = \"30s\"\nseverity = \"critical\"")
                .expect("valid");
        assert_eq!((r.condition, r.series.as_str()), (Condition::Failing, "*"));
        let r = rule("name = \"x\"\nseries = \"free\"\nbelow = 10").expect("valid");
        assert_eq!(r.condition, Condition::Value(Threshold { side: Side::Below, value: 10.0, clear: 10.0 }));
        assert_eq!((r.source.as_str(), r.severity), ("*", Severity::Warning));
    }

    #[test]
    fn each_bad_value_names_its_key() {
        for (toml, key) in [
            ("series = \"x\"\nabove = 1", "name"),
            ("name = \"\"\nseries = \"x\"\nabove = 1", "name"),
            ("name = \"source down\"\nseries = \"x\"\nabove = 1", "name"),
            ("name = \"a\"\nsource = \"\"\nseries = \"x\"\nabove = 1", "source"),
            ("name = \"a\"\nabove = 1", "series"),
            ("name = \"a\"\nseries = \"x\"", "above"),
            ("name = \"a\"\nseries = \"x\"\nabove = 1\nbelow = 0", "below"),
            ("name = \"a\"\nseries = \"x\"\nabove = nan", "above"),
            ("name = \"a\"\nseries = \"x\"\nabove = 80\nclear = 90", "clear"),
            ("name = \"a\"\nseries = \"x\"\nbelow = 10\nclear = 5", "clear"),
            ("name = \"a\"\nseries = \"x\"\nabove = 1\nfor = \"soon\"", "for"),
            ("name = \"a\"\nseries = \"x\"\nabove = 1\nfor = \"8d\"", "for"),
            ("name = \"a\"\nseries = \"x\"\nabove = 1\nkeep_firing_for = \"-1s\"", "keep_firing_for"),
            ("name = \"a\"\nseries = \"x\"\nabove = 1\nseverity = \"page\"", "severity"),
            ("name = \"a\"\nseries = \"x\"\nabove = 1\nnotify = [\"\"]", "notify"),
            ("name = \"a\"\nwhen = \"down\"", "when"),
            ("name = \"a\"\nwhen = \"failing\"\nseries = \"x\"", "series"),
            ("name = \"a\"\nwhen = \"absent\"", "series"),
            ("name = \"a\"\nwhen = \"stale\"\nabove = 3", "above"),
        ] {
            let (named, message) = rule(toml).expect_err(toml);
            assert_eq!(named, key, "{toml:?}: {message}");
        }
        let err = toml::from_str::<FileAlert>("name = \"a\"\ncolour = 1").expect_err("unknown").to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn alert_true_makes_a_warn_and_a_critical_rule() {
        let [warn, critical] = card_rules("local", "cpu_pct");
        assert_eq!((&*warn.name, warn.severity), ("local cpu_pct warn", Severity::Warning));
        assert_eq!(
            (&*critical.name, critical.condition),
            ("local cpu_pct critical", Condition::Card(CardLevel::Critical))
        );
    }
}
