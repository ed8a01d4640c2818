//! A `[[source.series]]` table of the `--config` file: one per-series setting rule (`match`, label,
//! unit, suffix, scale, decimals, thresholds, hidden, sparkline, of, alert), checked here into the core's
//! [`SeriesRule`]. A bad value is refused with the name of its key, which [`super::file`] puts
//! after the table's place (`source[0].series[1].unit`).

use livedash::series::Unit;
use livedash::settings::SeriesRule;

/// The most characters of a label.
const MAX_LABEL: usize = 100;
/// The most characters of a custom unit suffix.
const MAX_SUFFIX: usize = 16;
/// The most decimals shown.
const MAX_DECIMALS: u8 = 10;

/// One `[[source.series]]` table, as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSeries {
    #[serde(rename = "match")]
    pattern: String,
    label: Option<String>,
    unit: Option<String>,
    suffix: Option<String>,
    scale: Option<f64>,
    /// Wider than the rule's `u8`, so that a value out of range is refused naming its key.
    decimals: Option<i64>,
    warn_above: Option<f64>,
    warn_below: Option<f64>,
    critical_above: Option<f64>,
    critical_below: Option<f64>,
    hidden: Option<bool>,
    sparkline: Option<bool>,
    of: Option<String>,
    /// Its card's warn and critical thresholds become alert rules too (see `super::alert`).
    alert: Option<bool>,
}

/// A refused value: the key (within its table) and what is wrong with it.
pub type BadKey = (&'static str, String);

fn bad(key: &'static str, message: impl Into<String>) -> BadKey {
    (key, message.into())
}

impl FileSeries {
    /// The pattern of its series when it has `alert = true`.
    pub fn alerting(&self) -> Option<&str> {
        self.alert.unwrap_or(false).then_some(self.pattern.as_str())
    }

    /// The rule, or the first key whose value is bad.
    pub fn rule(&self) -> Result<SeriesRule, BadKey> {
        if self.pattern.trim().is_empty() {
            return Err(bad("match", "must name a series, e.g. \"cpu_pct\" or \"net.*\""));
        }
        if let Some(label) = &self.label
            && (label.trim().is_empty() || label.chars().count() > MAX_LABEL)
        {
            return Err(bad("label", format!("must be 1 to {MAX_LABEL} characters")));
        }
        if let Some(unit) = &self.unit
            && Unit::from_name(unit).is_none()
        {
            let known: Vec<&str> = Unit::names().collect();
            return Err(bad("unit", format!("unknown unit {unit:?}; use one of {}", known.join(", "))));
        }
        if let Some(suffix) = &self.suffix
            && suffix.chars().count() > MAX_SUFFIX
        {
            return Err(bad("suffix", format!("must be at most {MAX_SUFFIX} characters")));
        }
        if let Some(scale) = self.scale
            && (!scale.is_finite() || scale == 0.0)
        {
            return Err(bad("scale", "must be a finite number other than 0"));
        }
        let decimals = self
            .decimals
            .map(|d| u8::try_from(d).ok().filter(|d| *d <= MAX_DECIMALS))
            .map(|d| d.ok_or_else(|| bad("decimals", format!("must be between 0 and {MAX_DECIMALS}"))))
            .transpose()?;
        thresholds(
            ("warn_above", self.warn_above),
            ("warn_below", self.warn_below),
            ("critical_above", self.critical_above),
            ("critical_below", self.critical_below),
        )?;
        if let Some(of) = &self.of
            && (of.trim().is_empty() || of.contains('*'))
        {
            return Err(bad("of", "must name one series of the same source (no `*`), e.g. \"mem_total_bytes\""));
        }
        Ok(SeriesRule {
            pattern: self.pattern.clone(),
            label: self.label.clone(),
            unit: self.unit.clone(),
            suffix: self.suffix.clone(),
            scale: self.scale,
            decimals,
            warn_above: self.warn_above,
            warn_below: self.warn_below,
            critical_above: self.critical_above,
            critical_below: self.critical_below,
            hidden: self.hidden,
            sparkline: self.sparkline,
            of: self.of.clone(),
        })
    }
}

type Limit = (&'static str, Option<f64>);

/// Each threshold finite, one direction per level, and critical beyond warning when both point
/// the same way.
fn thresholds(
    warn_above: Limit,
    warn_below: Limit,
    critical_above: Limit,
    critical_below: Limit,
) -> Result<(), BadKey> {
    for (key, value) in [warn_above, warn_below, critical_above, critical_below] {
        if value.is_some_and(|v| !v.is_finite()) {
            return Err(bad(key, "must be a finite number"));
        }
    }
    for (above, below) in [(warn_above, warn_below), (critical_above, critical_below)] {
        if above.1.is_some() && below.1.is_some() {
            return Err(bad(below.0, format!("set {} or {}, not both", above.0, below.0)));
        }
    }
    if let (Some(warn), Some(critical)) = (warn_above.1, critical_above.1)
        && critical < warn
    {
        return Err(bad("critical_above", format!("{critical} is below warn_above = {warn}")));
    }
    if let (Some(warn), Some(critical)) = (warn_below.1, critical_below.1)
        && critical > warn
    {
        return Err(bad("critical_below", format!("{critical} is above warn_below = {warn}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(toml: &str) -> Result<SeriesRule, BadKey> {
        toml::from_str::<FileSeries>(toml).expect("parses").rule()
    }

    #[test]
    fn every_key_becomes_the_rules_field() {
        let r = rule(
            r#"
            match = "net.*"
            label = "Network"
            unit = "bytes/s"
            suffix = "B/s"
            scale = 1000
            decimals = 2
            warn_above = 80
            critical_above = 95.5
            hidden = false
            sparkline = true
            of = "net_total"
            "#,
        )
        .expect("valid");
        assert_eq!(r.pattern, "net.*");
        assert_eq!(
            (r.label.as_deref(), r.unit.as_deref(), r.suffix.as_deref()),
            (Some("Network"), Some("bytes/s"), Some("B/s"))
        );
        assert_eq!((r.scale, r.decimals), (Some(1000.0), Some(2)));
        assert_eq!(
            (r.warn_above, r.critical_above, r.warn_below, r.critical_below),
            (Some(80.0), Some(95.5), None, None)
        );
        assert_eq!((r.hidden, r.sparkline, r.of.as_deref()), (Some(false), Some(true), Some("net_total")));
        let r = rule("match = \"free_pct\"\nwarn_below = 20\ncritical_below = 5").expect("valid");
        assert_eq!((r.warn_below, r.critical_below), (Some(20.0), Some(5.0)));
        assert_eq!(rule("match = \"x\"").expect("bare"), SeriesRule { pattern: "x".into(), ..SeriesRule::default() });
        let mixed = rule("match = \"x\"\nwarn_above = 10\ncritical_below = 1").expect("two directions");
        assert_eq!((mixed.warn_above, mixed.critical_below), (Some(10.0), Some(1.0)));
    }

    #[test]
    fn each_bad_value_names_its_key() {
        let long = "x".repeat(101);
        for (toml, key) in [
            ("match = \"\"".to_owned(), "match"),
            ("match = \" \"".to_owned(), "match"),
            ("match = \"x\"\nunit = \"furlongs\"".to_owned(), "unit"),
            ("match = \"x\"\nlabel = \"\"".to_owned(), "label"),
            (format!("match = \"x\"\nlabel = \"{long}\""), "label"),
            ("match = \"x\"\nsuffix = \"seventeen chars!!\"".to_owned(), "suffix"),
            ("match = \"x\"\nscale = 0".to_owned(), "scale"),
            ("match = \"x\"\nscale = nan".to_owned(), "scale"),
            ("match = \"x\"\nscale = inf".to_owned(), "scale"),
            ("match = \"x\"\ndecimals = 11".to_owned(), "decimals"),
            ("match = \"x\"\ndecimals = -1".to_owned(), "decimals"),
            ("match = \"x\"\nwarn_above = 1\nwarn_below = 0".to_owned(), "warn_below"),
            ("match = \"x\"\ncritical_above = 1\ncritical_below = 0".to_owned(), "critical_below"),
            ("match = \"x\"\nwarn_above = inf".to_owned(), "warn_above"),
            ("match = \"x\"\nwarn_below = -inf".to_owned(), "warn_below"),
            ("match = \"x\"\ncritical_above = nan".to_owned(), "critical_above"),
            ("match = \"x\"\ncritical_below = nan".to_owned(), "critical_below"),
            ("match = \"x\"\nwarn_above = 90\ncritical_above = 80".to_owned(), "critical_above"),
            ("match = \"x\"\nwarn_below = 10\ncritical_below = 20".to_owned(), "critical_below"),
            ("match = \"x\"\nof = \"\"".to_owned(), "of"),
            ("match = \"x\"\nof = \"mem_*\"".to_owned(), "of"),
        ] {
            let (named, message) = rule(&toml).expect_err("refused");
            assert_eq!(named, key, "{toml:?}: {message}");
        }
        let (_, message) = rule("match = \"x\"\nunit = \"furlongs\"").expect_err("refused");
        assert!(message.contains("furlongs") && message.contains("bytes/s") && message.contains("count"), "{message}");
    }

    #[test]
    fn limits_are_inclusive() {
        let ok = [
            format!("match = \"x\"\nlabel = \"{}\"", "é".repeat(100)),
            format!("match = \"x\"\nsuffix = \"{}\"", "µ".repeat(16)),
            "match = \"x\"\ndecimals = 10".to_owned(),
            "match = \"x\"\ndecimals = 0".to_owned(),
            "match = \"x\"\nscale = -0.001".to_owned(),
            "match = \"x\"\nwarn_above = 90\ncritical_above = 90".to_owned(),
            "match = \"x\"\nsuffix = \"\"".to_owned(),
        ];
        for toml in ok {
            assert!(rule(&toml).is_ok(), "{toml:?} refused");
        }
    }

    #[test]
    fn unknown_and_missing_keys_are_refused() {
        let err = toml::from_str::<FileSeries>("match = \"x\"\ncolour = \"red\"").expect_err("unknown").to_string();
        assert!(err.contains("colour"), "{err}");
        let err = toml::from_str::<FileSeries>("label = \"x\"").expect_err("missing").to_string();
        assert!(err.contains("match"), "{err}");
    }
}
