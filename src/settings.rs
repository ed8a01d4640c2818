//! Per-series settings: rules that a source's configuration carries to the page in the `hello`
//! (label, unit, scale, decimals, thresholds, hidden, ...), each applying to the series whose name
//! matches its pattern (`net.*`), and what they come to for one series ([`SeriesSettings`]).
//!
//! Every rule that matches a series applies, in order, a later one overriding what an earlier one
//! set: built-in defaults first, then the configuration's rules.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::series::{Level, Style, Unit};

/// One rule as it travels in the `hello`: a pattern and the settings it gives. Read by hand
/// (see [`crate::read`]), not by a derived decoder.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SeriesRule {
    /// A series or group name, where `*` stands for any run of characters (`net.*`, `*_pct`).
    #[serde(rename = "match")]
    pub pattern: String,
    /// The card's (or a group member's) label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The unit, by [`Unit::name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// A custom unit suffix (`req/s`): the number is shown as it is, followed by this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// A factor applied to every value before it is shown or compared (`0.001` for ms to s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    /// The number of decimals shown (instead of about three significant digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    /// Warning when the (scaled) value is at or above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_above: Option<f64>,
    /// Warning when the value is at or below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_below: Option<f64>,
    /// Critical when the value is at or above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical_above: Option<f64>,
    /// Critical when the value is at or below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical_below: Option<f64>,
    /// No card for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    /// Whether its card draws a sparkline (a counter such as uptime is better without).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparkline: Option<bool>,
    /// Another series of the same source that this one is a part of (`mem_used_bytes` of
    /// `mem_total_bytes`): the card then shows the share in percent, with "used of total" under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
}

impl<'de> Deserialize<'de> for SeriesRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::read::via_value(d, read_rule, "series rule")
    }
}

/// A [`SeriesRule`] from its JSON.
fn read_rule(v: &Value) -> Option<SeriesRule> {
    use crate::read::{opt, opt_string as s};
    let f = |key| opt(v, key, Value::as_f64);
    let b = |key| opt(v, key, Value::as_bool);
    Some(SeriesRule {
        pattern: v.get("match")?.as_str()?.to_owned(),
        label: s(v, "label")?,
        unit: s(v, "unit")?,
        suffix: s(v, "suffix")?,
        scale: f("scale")?,
        decimals: opt(v, "decimals", |d| d.as_u64().and_then(|d| u8::try_from(d).ok()))?,
        warn_above: f("warn_above")?,
        warn_below: f("warn_below")?,
        critical_above: f("critical_above")?,
        critical_below: f("critical_below")?,
        hidden: b("hidden")?,
        sparkline: b("sparkline")?,
        of: s(v, "of")?,
    })
}

/// A threshold: crossed at or above, or at or below, a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// At or above.
    Above(f64),
    /// At or below.
    Below(f64),
}

impl Threshold {
    /// Whether `x` has crossed it.
    pub fn crossed(self, x: f64) -> bool {
        match self {
            Self::Above(t) => x >= t,
            Self::Below(t) => x <= t,
        }
    }

    /// The threshold's value.
    pub fn value(self) -> f64 {
        match self {
            Self::Above(t) | Self::Below(t) => t,
        }
    }
}

/// What the rules come to for one series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSettings {
    /// The label, when a rule gives one.
    pub label: Option<String>,
    /// The unit: a rule's, else the one its name implies.
    pub unit: Unit,
    /// A custom suffix, shown instead of the unit's.
    pub suffix: Option<String>,
    /// The factor applied to every value (1 when none is set).
    pub scale: f64,
    /// Fixed decimals, if set.
    pub decimals: Option<u8>,
    /// The warning threshold (a percentage's default is at or above 75).
    pub warn: Option<Threshold>,
    /// The critical threshold (a percentage's default is at or above 90).
    pub critical: Option<Threshold>,
    /// No card.
    pub hidden: bool,
    /// Draw a sparkline.
    pub sparkline: bool,
    /// The series this one is a part of.
    pub of: Option<String>,
}

impl SeriesSettings {
    /// The settings of the series `name` under `rules`.
    pub fn resolve(rules: &[SeriesRule], name: &str) -> Self {
        let mut unit = Unit::of(name);
        let mut s = Self {
            label: None,
            unit,
            suffix: None,
            scale: 1.0,
            decimals: None,
            warn: None,
            critical: None,
            hidden: false,
            sparkline: true,
            of: None,
        };
        let (mut warn, mut critical) = (None, None);
        for rule in rules.iter().filter(|r| matches(&r.pattern, name)) {
            if let Some(u) = rule.unit.as_deref().and_then(Unit::from_name) {
                unit = u;
            }
            set(&mut s.label, &rule.label);
            set(&mut s.suffix, &rule.suffix);
            set(&mut s.of, &rule.of);
            s.scale = rule.scale.unwrap_or(s.scale);
            s.decimals = rule.decimals.or(s.decimals);
            s.hidden = rule.hidden.unwrap_or(s.hidden);
            s.sparkline = rule.sparkline.unwrap_or(s.sparkline);
            pick_threshold(&mut warn, rule.warn_above, rule.warn_below);
            pick_threshold(&mut critical, rule.critical_above, rule.critical_below);
        }
        s.unit = if s.of.is_some() { Unit::Percent } else { unit };
        let percent = s.unit == Unit::Percent;
        s.warn = warn.or(percent.then_some(Threshold::Above(75.0)));
        s.critical = critical.or(percent.then_some(Threshold::Above(90.0)));
        s
    }

    /// How its values are written.
    pub fn style(&self) -> Style<'_> {
        Style { unit: self.unit, decimals: self.decimals, suffix: self.suffix.as_deref() }
    }

    /// How alarming the (scaled) value `x` is.
    pub fn level(&self, x: f64) -> Level {
        if self.critical.is_some_and(|t| t.crossed(x)) {
            Level::Critical
        } else if self.warn.is_some_and(|t| t.crossed(x)) {
            Level::Warn
        } else {
            Level::Normal
        }
    }
}

fn set(slot: &mut Option<String>, value: &Option<String>) {
    if value.is_some() {
        slot.clone_from(value);
    }
}

fn pick_threshold(slot: &mut Option<Threshold>, above: Option<f64>, below: Option<f64>) {
    if let Some(t) = above {
        *slot = Some(Threshold::Above(t));
    } else if let Some(t) = below {
        *slot = Some(Threshold::Below(t));
    }
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters (also none).
pub fn matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The settings that make this machine's own series read well, applied before a `local` source's
/// configured ones.
pub fn local_defaults() -> Vec<SeriesRule> {
    let rule = |pattern: &str| SeriesRule { pattern: pattern.to_owned(), ..SeriesRule::default() };
    let label = |pattern: &str, label: &str| SeriesRule { label: Some(label.to_owned()), ..rule(pattern) };
    let hidden = |pattern: &str| SeriesRule { hidden: Some(true), ..rule(pattern) };
    let share = |used: &str, total: &str, name: &str| SeriesRule { of: Some(total.to_owned()), ..label(used, name) };
    vec![
        label("load_avg", "Load"),
        label("load_avg.0", "1 m"),
        label("load_avg.1", "5 m"),
        label("load_avg.2", "15 m"),
        SeriesRule { sparkline: Some(false), ..rule("uptime_s") },
        share("mem_used_bytes", "mem_total_bytes", "Memory"),
        share("swap_used_bytes", "swap_total_bytes", "Swap"),
        share("disk_used_bytes", "disk_total_bytes", "Disk"),
        hidden("*_total_bytes"),
        hidden("mem_pct"),
        hidden("swap_pct"),
        hidden("disk_pct"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str) -> SeriesRule {
        SeriesRule { pattern: pattern.to_owned(), ..SeriesRule::default() }
    }

    #[test]
    fn rules_read_back_as_they_were_written() {
        let full = SeriesRule {
            label: Some("p99".into()),
            unit: Some("ms".into()),
            suffix: Some("req".into()),
            scale: Some(0.5),
            decimals: Some(2),
            warn_above: Some(1.0),
            warn_below: Some(-1.0),
            critical_above: Some(2.0),
            critical_below: Some(-2.0),
            hidden: Some(false),
            sparkline: Some(true),
            of: Some("total".into()),
            ..rule("net.*")
        };
        for r in [full, rule("x")] {
            let json = serde_json::to_string(&r).expect("json");
            assert_eq!(serde_json::from_str::<SeriesRule>(&json).expect("reads back"), r, "{json}");
        }
        for bad in [r#"{"label":"x"}"#, r#"{"match":"x","scale":"big"}"#, r#"{"match":"x","decimals":300}"#, "[]"] {
            assert!(serde_json::from_str::<SeriesRule>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_match_with_stars() {
        assert!(matches("net.*", "net.rx_kbps"));
        assert!(matches("net.*", "net."));
        assert!(!matches("net.*", "network"));
        assert!(matches("*_pct", "cpu_pct"));
        assert!(matches("a*b*c", "a-b-b-c"));
        assert!(!matches("a*b*c", "a-c"));
        assert!(matches("*", "anything"));
        assert!(matches("cpu_pct", "cpu_pct"));
        assert!(!matches("cpu_pct", "cpu_pct.0"));
        assert!(!matches("a*a", "a"), "the two a's cannot be the same character");
    }

    #[test]
    fn later_rules_override_earlier_ones_field_by_field() {
        let rules = vec![
            SeriesRule { label: Some("Net".into()), decimals: Some(1), ..rule("net.*") },
            SeriesRule { label: Some("In".into()), unit: Some("bytes/s".into()), ..rule("net.rx") },
            SeriesRule { warn_above: Some(10.0), critical_below: Some(1.0), ..rule("*") },
        ];
        let s = SeriesSettings::resolve(&rules, "net.rx");
        assert_eq!(s.label.as_deref(), Some("In"));
        assert_eq!(s.decimals, Some(1));
        assert_eq!(s.unit, Unit::BytesPerSec);
        assert_eq!(s.warn, Some(Threshold::Above(10.0)));
        assert_eq!(s.critical, Some(Threshold::Below(1.0)));
        assert_eq!(s.level(0.5), Level::Critical);
        assert_eq!(s.level(10.0), Level::Warn);
        assert_eq!(s.level(5.0), Level::Normal);
        let tx = SeriesSettings::resolve(&rules, "net.tx");
        assert_eq!(tx.label.as_deref(), Some("Net"));
        assert_eq!(tx.unit, Unit::Plain);
    }

    #[test]
    fn percentages_keep_their_default_thresholds_unless_set() {
        let s = SeriesSettings::resolve(&[], "cpu_pct");
        assert_eq!(s.level(74.9), Level::Normal);
        assert_eq!(s.level(75.0), Level::Warn);
        assert_eq!(s.level(90.0), Level::Critical);
        assert_eq!(SeriesSettings::resolve(&[], "requests").level(1e9), Level::Normal);
        let set = SeriesSettings::resolve(&[SeriesRule { warn_above: Some(50.0), ..rule("cpu_pct") }], "cpu_pct");
        assert_eq!(set.level(60.0), Level::Warn);
        assert_eq!(set.level(95.0), Level::Critical, "the default critical still applies");
    }

    #[test]
    fn local_defaults_label_load_and_share_memory() {
        let rules = local_defaults();
        assert_eq!(SeriesSettings::resolve(&rules, "load_avg.1").label.as_deref(), Some("5 m"));
        let mem = SeriesSettings::resolve(&rules, "mem_used_bytes");
        assert_eq!((mem.of.as_deref(), mem.unit), (Some("mem_total_bytes"), Unit::Percent));
        assert!(SeriesSettings::resolve(&rules, "mem_total_bytes").hidden);
        assert!(!SeriesSettings::resolve(&rules, "uptime_s").sparkline);
        assert!(SeriesSettings::resolve(&rules, "cpu_pct").sparkline);
    }

    #[test]
    fn rules_travel_without_empty_fields() {
        let r = SeriesRule { label: Some("x".into()), ..rule("a") };
        assert_eq!(serde_json::to_string(&r).expect("json"), r#"{"match":"a","label":"x"}"#);
        let back: SeriesRule = serde_json::from_str(r#"{"match":"a","label":"x","future":1}"#).expect("read");
        assert_eq!(back, r, "unknown fields from a newer server are ignored");
    }
}
