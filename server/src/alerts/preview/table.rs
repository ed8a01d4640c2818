//! What a replay found, per rule and series, and the table `livedash alerts check` prints: how
//! many times it would have fired, for how long in all, the longest time, whether it would be
//! firing at the end; the rules that match no stored series; and where roll-ups stood in for
//! raw points (an approximation, said in words).

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use livedash::alerts::{AlertState, Side};

use super::history::Coarse;
use crate::store::Tier;

/// The state changes of one replayed instance, as `(time, state entered)` in time order, summed
/// up over a range ending at `end`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Times it went firing.
    pub fired: u32,
    /// Time spent firing, in ms (a span still open at the end counts up to the end).
    pub firing_ms: u64,
    /// The longest firing span, in ms.
    pub longest_ms: u64,
    /// Whether it was firing at the end.
    pub firing_at_end: bool,
}

impl Outcome {
    /// Sums up `changes` (`(time in ms, state entered)`, in time order) over a range ending at
    /// `end`.
    pub fn of(changes: &[(u64, AlertState)], end: u64) -> Self {
        let mut out = Self::default();
        let mut since: Option<u64> = None;
        let close = |out: &mut Self, from: u64, to: u64| {
            let span = to.saturating_sub(from);
            out.firing_ms += span;
            out.longest_ms = out.longest_ms.max(span);
        };
        for &(t, state) in changes {
            match (state, since) {
                (AlertState::Firing, None) => {
                    out.fired += 1;
                    since = Some(t);
                }
                (AlertState::Firing, Some(_)) => {}
                (_, Some(from)) => {
                    close(&mut out, from, t);
                    since = None;
                }
                (_, None) => {}
            }
        }
        if let Some(from) = since {
            close(&mut out, from, end);
            out.firing_at_end = true;
        }
        out
    }
}

/// One line of the table: an instance (a rule and a stored series) and what its replay found.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The rule's name.
    pub rule: String,
    /// The source.
    pub source: String,
    /// The series.
    pub series: String,
    /// What the replay found.
    pub outcome: Outcome,
    /// The side the rule fires on (which extreme of a roll-up stood in).
    pub side: Side,
    /// The parts read from roll-ups.
    pub coarse: Vec<Coarse>,
}

/// What `livedash alerts check` prints.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The range replayed, in ms since the Unix epoch.
    pub range: (u64, u64),
    /// The rules checked.
    pub rules: usize,
    /// One row per instance.
    pub rows: Vec<Row>,
    /// Rules that match no stored series, with what they look for.
    pub unmatched: Vec<String>,
    /// Rules that cannot be replayed from stored values, and why.
    pub not_replayed: Vec<String>,
}

/// A time of day as people read it in a log: `2026-12-05T15:00:00Z`.
fn wall(ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// A duration to the second: `1h 2m 5s`, `0s`.
pub fn span(ms: u64) -> String {
    humantime::format_duration(Duration::from_secs(ms / 1000)).to_string()
}

fn tier_words(tier: Tier) -> &'static str {
    match tier {
        Tier::Raw => "raw points",
        Tier::Minute => "1-minute roll-ups",
        Tier::Hour => "1-hour roll-ups",
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (from, to) = self.range;
        writeln!(
            f,
            "{} rule(s) replayed over {} ({} to {})",
            self.rules,
            span(to.saturating_sub(from)),
            wall(from),
            wall(to)
        )?;
        let head = ["rule", "source", "series", "fired", "firing for", "longest", "firing at end"];
        let cells: Vec<[String; 7]> = self
            .rows
            .iter()
            .map(|r| {
                let o = r.outcome;
                [
                    r.rule.clone(),
                    r.source.clone(),
                    r.series.clone(),
                    o.fired.to_string(),
                    span(o.firing_ms),
                    span(o.longest_ms),
                    (if o.firing_at_end { "yes" } else { "no" }).to_owned(),
                ]
            })
            .collect();
        let mut widths = head.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, row: &[&str]| -> fmt::Result {
            let text: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
            writeln!(f, "{}", text.join("  ").trim_end())
        };
        if !cells.is_empty() {
            writeln!(f)?;
            line(f, &head)?;
            for row in &cells {
                line(f, &row.each_ref().map(String::as_str))?;
            }
        }
        let notes: Vec<String> = self.rows.iter().flat_map(coarse_notes).collect();
        if !notes.is_empty() || !self.unmatched.is_empty() || !self.not_replayed.is_empty() {
            writeln!(f)?;
        }
        for note in notes.iter().chain(&self.unmatched).chain(&self.not_replayed) {
            writeln!(f, "{note}")?;
        }
        Ok(())
    }
}

/// Where a row's replay stood on roll-ups, in words.
fn coarse_notes(row: &Row) -> Vec<String> {
    let extreme = match row.side {
        Side::Above => "highest",
        Side::Below => "lowest",
    };
    row.coarse
        .iter()
        .map(|c| {
            format!(
                "{} / {} / {}: {} to {} replayed on {} (each bucket's {extreme} value): approximate",
                row.rule,
                row.source,
                row.series,
                wall(c.from),
                wall(c.to),
                tier_words(c.tier)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlertState::{Firing, Ok, Pending, Resolved};

    #[test]
    fn firing_spans_are_counted_summed_and_the_open_one_runs_to_the_end() {
        let changes = [
            (1_000, Pending),
            (31_000, Firing),
            (91_000, Resolved),
            (91_000, Ok),
            (200_000, Pending),
            (230_000, Firing),
            (260_000, Resolved),
            (400_000, Pending),
            (430_000, Firing),
        ];
        let o = Outcome::of(&changes, 600_000);
        assert_eq!(
            o,
            Outcome { fired: 3, firing_ms: 60_000 + 30_000 + 170_000, longest_ms: 170_000, firing_at_end: true }
        );
        assert_eq!(Outcome::of(&[(5, Pending), (9, Ok)], 100), Outcome::default());
    }

    #[test]
    fn the_table_lines_up_and_says_where_roll_ups_stood_in() {
        let report = Report {
            range: (0, 86_400_000),
            rules: 2,
            rows: vec![Row {
                rule: "cpu busy".into(),
                source: "local".into(),
                series: "cpu_pct".into(),
                outcome: Outcome { fired: 3, firing_ms: 150_000, longest_ms: 90_000, firing_at_end: false },
                side: Side::Above,
                coarse: vec![Coarse { tier: Tier::Minute, from: 0, to: 3_600_000 }],
            }],
            unmatched: vec!["rule \"disk\" matches no stored series".into()],
            not_replayed: Vec::new(),
        };
        let text = report.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "2 rule(s) replayed over 1day (1970-01-01T00:00:00Z to 1970-01-02T00:00:00Z)");
        assert_eq!(lines[2], "rule      source  series   fired  firing for  longest  firing at end");
        assert_eq!(lines[3], "cpu busy  local   cpu_pct  3      2m 30s      1m 30s   no");
        assert!(lines[5].contains("1-minute roll-ups (each bucket's highest value): approximate"), "{text}");
        assert_eq!(lines[6], "rule \"disk\" matches no stored series");
    }
}
