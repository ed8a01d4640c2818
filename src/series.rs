//! How a series is shown: its label, its unit and its formatted value, derived from its name.
//!
//! Names follow a suffix convention that needs no configuration and suits most JSON upstreams:
//! `_pct` is a percentage, `_bytes` a size, `_bytes_per_s` a rate, `_s` a duration in seconds.
//! A name ending in an array index (`load_avg.0`) belongs to a group shown on one card.

/// The unit a series is measured in, derived from its name by [`Unit::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// 0 to 100.
    Percent,
    /// A size, shown in binary multiples (KiB, MiB, ...).
    Bytes,
    /// A rate, shown in decimal multiples (kB/s, MB/s, ...).
    BytesPerSec,
    /// A duration in seconds, shown as days, hours, minutes.
    Seconds,
    /// A duration in milliseconds.
    Millis,
    /// Anything else: the number as it is.
    Plain,
}

/// Name endings and the unit each one means, longest first.
const SUFFIXES: &[(&str, Unit)] = &[
    ("_bytes_per_s", Unit::BytesPerSec),
    ("_percent", Unit::Percent),
    ("_bytes", Unit::Bytes),
    ("_secs", Unit::Seconds),
    ("_pct", Unit::Percent),
    ("_ms", Unit::Millis),
    ("_s", Unit::Seconds),
];

/// The names a setting gives a unit by.
const NAMES: &[(&str, Unit)] = &[
    ("percent", Unit::Percent),
    ("bytes", Unit::Bytes),
    ("bytes/s", Unit::BytesPerSec),
    ("seconds", Unit::Seconds),
    ("milliseconds", Unit::Millis),
    ("ms", Unit::Millis),
    ("count", Unit::Plain),
];

impl Unit {
    /// The unit a setting names (`percent`, `bytes`, `bytes/s`, `seconds`, `milliseconds` or
    /// `ms`, `count`), if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        NAMES.iter().find(|(n, _)| *n == name).map(|&(_, unit)| unit)
    }

    /// The names [`Unit::from_name`] knows, for error messages.
    pub fn names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(n, _)| *n)
    }

    /// The unit of the series `name` (the last path segment that is not an index decides).
    pub fn of(name: &str) -> Self {
        let base = group_of(name).map_or(name, |(base, _)| base);
        let last = base.rsplit('.').next().unwrap_or(base).to_ascii_lowercase();
        SUFFIXES.iter().find(|(suffix, _)| last.ends_with(suffix)).map_or(Self::Plain, |&(_, unit)| unit)
    }

    /// The suffix removed from a label for this unit.
    fn strip<'a>(&self, word: &'a str) -> &'a str {
        SUFFIXES
            .iter()
            .filter(|(_, unit)| unit == self)
            .find_map(|(suffix, _)| word.strip_suffix(suffix))
            .unwrap_or(word)
    }
}

/// Whether a series is bookkeeping rather than a measurement (time stamps, sequence numbers):
/// such series are relayed but get no card.
pub fn is_meta(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    last == "seq" || last == "timestamp" || last == "ts" || last.ends_with("_ts") || last.contains("_ts_")
}

/// Splits `name` into its group and index when its last segment is an array index:
/// `load_avg.1` is `("load_avg", 1)`.
pub fn group_of(name: &str) -> Option<(&str, usize)> {
    let (base, last) = name.rsplit_once('.')?;
    let index = last.parse().ok()?;
    Some((base, index))
}

/// Words that read better spelled out.
const WORDS: &[(&str, &str)] = &[
    ("cpu", "CPU"),
    ("mem", "Memory"),
    ("net", "Network"),
    ("rx", "in"),
    ("tx", "out"),
    ("avg", "average"),
    ("io", "I/O"),
    ("gpu", "GPU"),
];

/// A human label for a series or group name: `net_rx_bytes_per_s` is "Network in",
/// `cpu_core_pct` is "CPU core", `disk.used_pct` is "Disk used".
pub fn label(name: &str) -> String {
    let unit = Unit::of(name);
    let base = group_of(name).map_or(name, |(base, _)| base);
    let base = unit.strip(base);
    let mut words: Vec<String> = base
        .split(['.', '_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            WORDS.iter().find(|(from, _)| *from == lower).map_or_else(|| lower.clone(), |(_, to)| (*to).to_owned())
        })
        .collect();
    if let Some(first) = words.first_mut() {
        let mut chars = first.chars();
        if let Some(c) = chars.next() {
            *first = c.to_uppercase().chain(chars).collect();
        }
    }
    if words.is_empty() { name.to_owned() } else { words.join(" ") }
}

/// A value formatted for its unit, split into number and unit so the unit can be set smaller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted {
    /// The number, e.g. `"7.21"` or `"3d 4h"`.
    pub value: String,
    /// The unit, e.g. `"GiB"`; empty when there is none.
    pub unit: String,
}

impl std::fmt::Display for Formatted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.unit.is_empty() { f.write_str(&self.value) } else { write!(f, "{} {}", self.value, self.unit) }
    }
}

/// How a value is written: its unit, and optionally fixed decimals or a custom suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style<'a> {
    /// The unit.
    pub unit: Unit,
    /// Fixed decimals instead of about three significant digits.
    pub decimals: Option<u8>,
    /// A custom suffix: the number is written as it is (no multiples), followed by this.
    pub suffix: Option<&'a str>,
}

impl From<Unit> for Style<'_> {
    fn from(unit: Unit) -> Self {
        Self { unit, decimals: None, suffix: None }
    }
}

/// Formats `x` for `unit`.
pub fn format(x: f64, unit: Unit) -> Formatted {
    format_as(x, unit.into())
}

/// Formats `x` in `style`.
pub fn format_as(x: f64, style: Style<'_>) -> Formatted {
    let d = style.decimals;
    if let Some(suffix) = style.suffix {
        return Formatted { value: number(x, d), unit: suffix.to_owned() };
    }
    let (value, unit) = match style.unit {
        Unit::Percent => (number(x, d), "%"),
        Unit::Bytes => scaled(x, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB"], d),
        Unit::BytesPerSec => scaled(x, 1000.0, &["B/s", "kB/s", "MB/s", "GB/s", "TB/s"], d),
        Unit::Seconds => (duration(x, d), ""),
        Unit::Millis if x.abs() >= 1000.0 => (number(x / 1000.0, d), "s"),
        Unit::Millis => (number(x, d), "ms"),
        Unit::Plain => scaled(x, 1000.0, &["", "k", "M", "G", "T"], d),
    };
    Formatted { value, unit: unit.to_owned() }
}

/// `decimals` fixed, or about three significant digits with no trailing zeros; never an exponent.
fn number(x: f64, decimals: Option<u8>) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    if let Some(d) = decimals {
        let s = format!("{x:.prec$}", prec = usize::from(d));
        return if s.trim_start_matches('-').bytes().all(|b| b == b'0' || b == b'.') { s.replace('-', "") } else { s };
    }
    let abs = x.abs();
    let decimals = if abs >= 100.0 || abs == 0.0 {
        0
    } else if abs >= 10.0 {
        1
    } else if abs >= 1.0 {
        2
    } else {
        3
    };
    let mut s = format!("{x:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    if s == "-0" { "0".to_owned() } else { s }
}

fn scaled(x: f64, base: f64, units: &[&'static str], decimals: Option<u8>) -> (String, &'static str) {
    let mut v = x;
    let mut i = 0;
    while v.abs() >= base && i + 1 < units.len() {
        v /= base;
        i += 1;
    }
    (number(v, decimals), units[i])
}

fn duration(secs: f64, decimals: Option<u8>) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return number(secs, decimals);
    }
    if secs < 60.0 {
        return format!("{}s", number(secs, decimals));
    }
    // Whole seconds from here on; `as` saturates and the value is finite and non-negative.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = secs as u64;
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h) {
        (0, 0) => format!("{m}m {s}s"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// How alarming a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// No threshold crossed (see [`crate::settings::SeriesSettings::level`]).
    Normal,
    /// The warning threshold is crossed.
    Warn,
    /// The critical threshold is crossed.
    Critical,
}

impl Level {
    /// A CSS class name for the level.
    pub fn class(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Warn => "warn",
            Self::Critical => "critical",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_name_suffixes() {
        assert_eq!(Unit::of("cpu_pct"), Unit::Percent);
        assert_eq!(Unit::of("cpu_core_pct.3"), Unit::Percent);
        assert_eq!(Unit::of("disk.used_pct"), Unit::Percent);
        assert_eq!(Unit::of("mem_used_bytes"), Unit::Bytes);
        assert_eq!(Unit::of("net_rx_bytes_per_s"), Unit::BytesPerSec);
        assert_eq!(Unit::of("uptime_s"), Unit::Seconds);
        assert_eq!(Unit::of("latency_ms"), Unit::Millis);
        assert_eq!(Unit::of("load_avg.0"), Unit::Plain);
        assert_eq!(Unit::of("net_rx_kbps"), Unit::Plain);
        assert_eq!(Unit::of("cpu"), Unit::Plain);
    }

    #[test]
    fn labels_read_like_words() {
        assert_eq!(label("cpu_pct"), "CPU");
        assert_eq!(label("cpu_core_pct.1"), "CPU core");
        assert_eq!(label("mem_pct"), "Memory");
        assert_eq!(label("mem_used_bytes"), "Memory used");
        assert_eq!(label("net_rx_bytes_per_s"), "Network in");
        assert_eq!(label("net_tx_kbps"), "Network out kbps");
        assert_eq!(label("load_avg.2"), "Load average");
        assert_eq!(label("disk.used_pct"), "Disk used");
        assert_eq!(label("uptime_s"), "Uptime");
        assert_eq!(label("value"), "Value");
        assert_eq!(label("_pct"), "_pct");
    }

    #[test]
    fn groups_are_names_ending_in_an_index() {
        assert_eq!(group_of("load_avg.2"), Some(("load_avg", 2)));
        assert_eq!(group_of("a.b.10"), Some(("a.b", 10)));
        assert_eq!(group_of("load_avg"), None);
        assert_eq!(group_of("net.rx"), None);
    }

    #[test]
    fn meta_series_are_recognised() {
        assert!(is_meta("gen_ts_ns"));
        assert!(is_meta("seq"));
        assert!(is_meta("a.timestamp"));
        assert!(!is_meta("cpu"));
        assert!(!is_meta("status"));
        assert!(!is_meta("rx_bytes_per_s"));
    }

    #[test]
    fn values_are_formatted_for_their_unit() {
        let f = |x, u| format(x, u).to_string();
        assert_eq!(f(43.512, Unit::Percent), "43.5 %");
        assert_eq!(f(100.0, Unit::Percent), "100 %");
        assert_eq!(f(0.0, Unit::Percent), "0 %");
        assert_eq!(f(7.5 * 1024.0 * 1024.0 * 1024.0, Unit::Bytes), "7.5 GiB");
        assert_eq!(f(512.0, Unit::Bytes), "512 B");
        assert_eq!(f(1_234_567.0, Unit::BytesPerSec), "1.23 MB/s");
        assert_eq!(f(42.0, Unit::Seconds), "42s");
        assert_eq!(f(3725.0, Unit::Seconds), "1h 2m");
        assert_eq!(f(3.0 * 86_400.0 + 4.0 * 3600.0, Unit::Seconds), "3d 4h");
        assert_eq!(f(125.0, Unit::Seconds), "2m 5s");
        assert_eq!(f(12.0, Unit::Millis), "12 ms");
        assert_eq!(f(1500.0, Unit::Millis), "1.5 s");
        assert_eq!(f(1.58, Unit::Plain), "1.58");
        assert_eq!(f(1290.8, Unit::Plain), "1.29 k");
        assert_eq!(f(-0.0001, Unit::Plain), "0");
        assert_eq!(f(f64::NAN, Unit::Plain), "–");
    }

    #[test]
    fn decimals_and_suffixes_are_kept() {
        let f = |x, decimals, suffix| format_as(x, Style { unit: Unit::Plain, decimals, suffix }).to_string();
        assert_eq!(f(12.345, Some(1), Some("req/s")), "12.3 req/s");
        assert_eq!(f(12345.0, None, Some("req/s")), "12345 req/s", "a suffix gets no multiples");
        assert_eq!(f(1234.5, Some(2), None), "1.23 k");
        assert_eq!(f(2.0, Some(2), None), "2.00");
        assert_eq!(f(-0.001, Some(1), None), "0.0");
        assert_eq!(
            format_as(50.0, Style { unit: Unit::Percent, decimals: Some(1), suffix: None }).to_string(),
            "50.0 %"
        );
    }

    #[test]
    fn levels_have_css_classes() {
        assert_eq!(Level::Critical.class(), "critical");
        assert_eq!(Level::Normal.class(), "normal");
    }
}
