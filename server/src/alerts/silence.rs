//! A silence in force: which instances it covers and its monotonic deadline (see [`super::hush`]
//! for how a wall-clock end becomes one).

use std::time::{Duration, Instant};

use livedash::alerts::Hush;

/// A silence in force.
#[derive(Debug, Clone)]
pub struct Silence {
    /// The rule.
    pub rule: String,
    /// One source, or all.
    pub source: Option<String>,
    /// One series, or all.
    pub series: Option<String>,
    /// Who, when, until, why.
    pub hush: Hush,
    /// When it lifts (monotonic).
    pub deadline: Instant,
}

impl Silence {
    /// Whether it is in force at `now`.
    pub fn active(&self, now: Instant) -> bool {
        now < self.deadline
    }

    /// Whether it covers the instance of `rule` for `source`'s `series`.
    pub fn covers(&self, rule: &str, source: &str, series: Option<&str>) -> bool {
        self.rule == rule
            && self.source.as_deref().is_none_or(|s| s == source)
            && self.series.as_deref().is_none_or(|s| Some(s) == series)
    }
}

/// The monotonic instant of the wall label `until_ms`, seen at `now` (labelled `now_ms`).
pub fn deadline(until_ms: u64, now: Instant, now_ms: u64) -> Instant {
    now + Duration::from_millis(until_ms.saturating_sub(now_ms))
}
