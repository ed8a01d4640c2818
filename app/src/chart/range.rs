//! The time range a chart shows and its place in the URL: a preset ending now (`range=5m`: the last
//! 1, 5 or 10 minutes from the page's memory, or 1 h to 30 d from the server's store), or a fixed
//! span (`from=..&to=..` in ms since the epoch, from zooming or the custom form, with `base=` the
//! preset it was zoomed from, so that "Reset zoom" can return to it). `window=5m`, the older name,
//! is still read.

use crate::model::MAX_SPAN_MS;
use crate::plot::{DAY_MS, HOUR_MS, MINUTE_MS};
use crate::route::param;

/// A range ending now.
#[derive(Debug, PartialEq, Eq)]
pub struct Preset {
    /// Its query value (`1h`).
    pub value: &'static str,
    /// Its label on the button (`1 h`).
    pub label: &'static str,
    /// Its length.
    pub ms: u64,
}

impl Preset {
    /// Whether the page's memory holds it (no history needed).
    pub fn live(&self) -> bool {
        self.ms <= MAX_SPAN_MS
    }
}

/// The presets, shortest first.
pub const PRESETS: &[Preset] = &[
    Preset { value: "1m", label: "1 min", ms: MINUTE_MS },
    Preset { value: "5m", label: "5 min", ms: 5 * MINUTE_MS },
    Preset { value: "10m", label: "10 min", ms: 10 * MINUTE_MS },
    Preset { value: "1h", label: "1 h", ms: HOUR_MS },
    Preset { value: "6h", label: "6 h", ms: 6 * HOUR_MS },
    Preset { value: "24h", label: "24 h", ms: DAY_MS },
    Preset { value: "7d", label: "7 d", ms: 7 * DAY_MS },
    Preset { value: "30d", label: "30 d", ms: 30 * DAY_MS },
];

/// The range a chart opens with.
pub const DEFAULT: &Preset = &PRESETS[1];
/// The shortest span zooming in reaches.
pub const MIN_SPAN_MS: u64 = 5_000;
/// The longest span zooming out reaches (the store keeps hourly roll-ups for a year).
pub const MAX_ZOOM_MS: u64 = 365 * DAY_MS;

/// What a chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The last stretch of data, kept up to date.
    Last(&'static Preset),
    /// A fixed span, in ms since the epoch.
    Span {
        /// Its start.
        from: u64,
        /// Its end.
        to: u64,
        /// The preset it was zoomed from, if any.
        base: Option<&'static Preset>,
    },
}

fn preset(value: Option<&str>) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| Some(p.value) == value)
}

impl Range {
    /// The range a page query (`chart=..&range=1h`) asks for: a valid `from`/`to` span, else a
    /// known `range`, else a known `window`, else [`DEFAULT`].
    pub fn from_query(query: &str) -> Self {
        let time = |key| param(query, key).and_then(|v| v.parse::<u64>().ok());
        if let (Some(from), Some(to)) = (time("from"), time("to"))
            && to >= from + MIN_SPAN_MS.min(1000)
        {
            return Self::Span { from, to, base: preset(param(query, "base").as_deref()) };
        }
        let named = preset(param(query, "range").as_deref()).or_else(|| preset(param(query, "window").as_deref()));
        Self::Last(named.unwrap_or(DEFAULT))
    }

    /// Its part of a query: `range=1h`, or `from=..&to=..[&base=1h]`.
    pub fn query(&self) -> String {
        match self {
            Self::Last(p) => format!("range={}", p.value),
            Self::Span { from, to, base } => {
                format!("from={from}&to={to}{}", base.map(|b| format!("&base={}", b.value)).unwrap_or_default())
            }
        }
    }

    /// Its start and end when the newest data is at `end`.
    pub fn times(&self, end: u64) -> (u64, u64) {
        match *self {
            Self::Last(p) => (end.saturating_sub(p.ms), end.max(1)),
            Self::Span { from, to, .. } => (from, to),
        }
    }

    /// Whether it follows the newest data.
    pub fn follows(&self) -> bool {
        matches!(self, Self::Last(_))
    }

    /// Whether it needs the server's history when the page's memory starts at `oldest` (ms).
    pub fn needs_history(&self, oldest: Option<u64>) -> bool {
        match *self {
            Self::Last(p) => !p.live(),
            Self::Span { from, .. } => oldest.is_none_or(|o| o > from),
        }
    }

    /// The preset this was zoomed from, or else the shortest that reaches back to its start from
    /// `now`: where "Reset zoom" goes.
    pub fn reset(&self, now: u64) -> Self {
        match *self {
            Self::Last(_) => *self,
            Self::Span { base: Some(b), .. } => Self::Last(b),
            Self::Span { from, .. } => {
                let back = now.saturating_sub(from);
                Self::Last(PRESETS.iter().find(|p| p.ms >= back).unwrap_or(&PRESETS[PRESETS.len() - 1]))
            }
        }
    }

    fn base(&self) -> Option<&'static Preset> {
        match *self {
            Self::Last(p) => Some(p),
            Self::Span { base, .. } => base,
        }
    }

    /// The span between `a` and `b` (either order, at least [`MIN_SPAN_MS`]) zoomed into from
    /// this range, whose newest data is at `end`: what a drag across the chart selects.
    pub fn select(&self, a: u64, b: u64, end: u64) -> Self {
        let (from, to) = (a.min(b), a.max(b));
        let mid = from / 2 + to / 2;
        let half = (to - from).max(MIN_SPAN_MS) / 2;
        self.span_around(mid, half, end)
    }

    /// This range, whose newest data is at `end`, zoomed by `factor` (below 1: in) around
    /// `centre`: what the + and - keys do.
    pub fn zoom(&self, factor: f64, centre: u64, end: u64) -> Self {
        let (from, to) = self.times(end);
        let len = ((to - from) as f64 * factor).clamp(MIN_SPAN_MS as f64, MAX_ZOOM_MS as f64) as u64;
        // Keep the centre where it is on the screen: its share of the span stays the same.
        let share = (centre.clamp(from, to) - from) as f64 / (to - from).max(1) as f64;
        let start = (centre as f64 - share * len as f64).max(0.0) as u64;
        self.span_around(start + len / 2, len / 2, end)
    }

    /// A span of `2 × half` around `mid`, shifted back so that it ends no later than `end` (and
    /// starts no earlier than the epoch).
    fn span_around(&self, mid: u64, half: u64, end: u64) -> Self {
        let to = (mid + half).min(end.max(2 * half));
        Self::Span { from: to - 2 * half, to, base: self.base() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(value: &str) -> &'static Preset {
        preset(Some(value)).expect("a preset")
    }

    #[test]
    fn ranges_are_read_from_the_url_and_written_back() {
        assert_eq!(Range::from_query("chart=x&range=1h"), Range::Last(p("1h")));
        assert_eq!(Range::from_query("chart=x&window=10m"), Range::Last(p("10m")), "the older name");
        assert_eq!(Range::from_query("range=30d&window=1m"), Range::Last(p("30d")), "range wins");
        assert_eq!(Range::from_query("range=2y"), Range::Last(DEFAULT));
        assert_eq!(Range::from_query(""), Range::Last(DEFAULT));
        let span = Range::from_query("chart=x&from=1000&to=61000&base=6h&range=1h");
        assert_eq!(span, Range::Span { from: 1000, to: 61_000, base: Some(p("6h")) }, "a span wins");
        assert_eq!(span.query(), "from=1000&to=61000&base=6h");
        assert_eq!(Range::from_query("from=5&to=9000").query(), "from=5&to=9000");
        for bad in ["from=9000&to=5", "from=x&to=9000", "from=5", "from=5&to=5"] {
            assert_eq!(Range::from_query(bad), Range::Last(DEFAULT), "{bad}");
        }
        for preset in PRESETS {
            let q = Range::Last(preset).query();
            assert_eq!(Range::from_query(&q), Range::Last(preset), "{q}");
        }
    }

    #[test]
    fn presets_past_ten_minutes_need_history() {
        assert!(!Range::Last(p("10m")).needs_history(Some(0)));
        assert!(Range::Last(p("1h")).needs_history(Some(0)));
        let span = Range::Span { from: 100_000, to: 200_000, base: None };
        assert!(!span.needs_history(Some(90_000)), "the page still holds it");
        assert!(span.needs_history(Some(150_000)) && span.needs_history(None));
        assert_eq!(Range::Last(p("1h")).times(5 * HOUR_MS), (4 * HOUR_MS, 5 * HOUR_MS));
    }

    #[test]
    fn a_drag_selects_a_span_and_reset_returns_to_the_preset() {
        let end = 10 * HOUR_MS;
        let sel = Range::Last(p("6h")).select(9 * HOUR_MS, 8 * HOUR_MS, end);
        assert_eq!(sel, Range::Span { from: 8 * HOUR_MS, to: 9 * HOUR_MS, base: Some(p("6h")) });
        // Zooming again keeps the base; a tiny drag is widened to the shortest span.
        let again = sel.select(8 * HOUR_MS, 8 * HOUR_MS + 10, end);
        assert_eq!(again.times(end).1 - again.times(end).0, MIN_SPAN_MS);
        assert_eq!(again.reset(end), Range::Last(p("6h")));
        // A shared span with no base resets to the shortest preset reaching back to its start.
        let shared = Range::Span { from: end - 3 * HOUR_MS, to: end - 2 * HOUR_MS, base: None };
        assert_eq!(shared.reset(end), Range::Last(p("6h")));
    }

    #[test]
    fn keys_zoom_around_the_crosshair_and_never_past_now() {
        let end = 10 * HOUR_MS;
        let r = Range::Last(p("1h"));
        // In, around a point a quarter of the way along: it stays a quarter of the way along.
        let centre = 9 * HOUR_MS + 15 * MINUTE_MS;
        let zin = r.zoom(0.5, centre, end);
        assert_eq!(
            zin,
            Range::Span { from: centre - 15 * MINUTE_MS / 2, to: centre + 45 * MINUTE_MS / 2, base: Some(p("1h")) }
        );
        // Out, near the end: shifted back so that it ends at the newest data.
        let zout = Range::Span { from: end - HOUR_MS, to: end, base: None }.zoom(2.0, end, end);
        assert_eq!(zout.times(end), (end - 2 * HOUR_MS, end));
        // Never shorter than the shortest span, never before the epoch.
        let tiny = Range::Span { from: 0, to: MIN_SPAN_MS, base: None }.zoom(0.1, 0, end);
        assert_eq!(tiny.times(end), (0, MIN_SPAN_MS));
    }
}
