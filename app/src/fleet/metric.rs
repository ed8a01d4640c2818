//! One figure across every host, `/fleet/metric?figure=cpu_pct&range=1h`: each host's line, the
//! top N (by latest value) drawn strong with a legend, the rest faint. History comes from
//! `GET /api/fleet/history` for the range (the presets of [`crate::chart::range`]), live points
//! from `/ws?sub=figure:NAME`. The page is drawn in the browser (the server renders its frame).

use std::collections::BTreeMap;
use std::fmt::Write;

use leptos::prelude::*;
use livedash::Frame;
use livedash::fleet::FIGURES;
use livedash::series::{self, Unit};
use serde_json::Value;

use super::format::UNITS;
use super::page::FleetBar;
use super::rows::esc;
use super::view::FIGURE_HEADS;
use crate::chart::range::{PRESETS, Preset};
use crate::clock::Clock;
use crate::live::{self, Connection};
use crate::plot::{Plot, thin, value_ticks};
use crate::route::Query;

/// How many hosts are highlighted.
pub const TOP: usize = 5;
/// The chart's box in SVG user units.
const W: f64 = 1000.0;
const H: f64 = 320.0;
/// The value axis's width in SVG user units (about pixels).
const AXIS_W: f64 = 64.0;
/// The range the page opens with.
const DEFAULT_RANGE: &str = "1h";

/// Every host's points of one figure, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lines(pub BTreeMap<String, Vec<(u64, f64)>>);

impl Lines {
    /// Reads `/api/fleet/history`'s answer: `{"hosts":[{"id","points":[[t,v]..]}..]}`.
    pub fn parse(text: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(text).ok()?;
        let mut lines = BTreeMap::new();
        for host in v.get("hosts")?.as_array()? {
            let Some(id) = host.get("id").and_then(Value::as_str) else { continue };
            let points = host.get("points").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let points =
                points.iter().filter_map(|p| Some((p.get(0)?.as_u64()?, p.get(1)?.as_f64()?))).collect::<Vec<_>>();
            lines.insert(id.to_owned(), points);
        }
        Some(Self(lines))
    }

    /// Adds one tick's points (`None`: the host cannot tell it now) and drops points before `from`.
    pub fn push(&mut self, ts_ms: u64, points: &[(String, Option<f64>)], from: u64) {
        for (id, v) in points {
            let line = self.0.entry(id.clone()).or_default();
            if let Some(v) = v.filter(|v| v.is_finite())
                && line.last().is_none_or(|&(t, _)| t < ts_ms)
            {
                line.push((ts_ms, v));
            }
        }
        for line in self.0.values_mut() {
            let old = line.partition_point(|&(t, _)| t < from);
            line.drain(..old);
        }
    }

    /// The `n` hosts with the highest latest value, highest first (ties by id).
    pub fn top(&self, n: usize) -> Vec<(String, f64)> {
        let mut top: Vec<(String, f64)> = Vec::with_capacity(n + 1);
        for (id, line) in &self.0 {
            let Some(&(_, v)) = line.last() else { continue };
            // Ids come in order, so a later one with an equal value goes after.
            let at = top.partition_point(|(_, t)| *t >= v);
            if at < n {
                top.insert(at, (id.clone(), v));
                top.truncate(n);
            }
        }
        top
    }
}

/// The figure and the range the address asks for (unknown ones read as the defaults).
pub fn ask(query: &str) -> (&'static str, &'static Preset) {
    let figure = crate::route::param(query, "figure");
    let figure = FIGURES.iter().find(|f| Some(**f) == figure.as_deref()).copied().unwrap_or(FIGURES[0]);
    let range = crate::route::param(query, "range");
    let preset = PRESETS
        .iter()
        .find(|p| Some(p.value) == range.as_deref())
        .or_else(|| PRESETS.iter().find(|p| p.value == DEFAULT_RANGE));
    (figure, preset.unwrap_or(&PRESETS[0]))
}

/// What the chart draws.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drawing {
    /// The path data of the hosts not in the top.
    pub faint: Vec<String>,
    /// The top hosts, highest first: path data, host id, latest value.
    pub strong: Vec<(String, String, f64)>,
    /// The value grid: y and value.
    pub ticks: Vec<(f64, f64)>,
}

/// The drawing of `lines` over `(from, to)`.
pub fn draw(lines: &Lines, (from, to): (u64, u64)) -> Drawing {
    let hi = lines.0.values().flatten().map(|p| p.1).fold(0.0_f64, f64::max);
    let (ticks, y) = value_ticks(0.0, if hi > 0.0 { hi } else { 1.0 }, 4);
    let plot = Plot { t: (from, to), y, w: W, h: H };
    let top = lines.top(TOP);
    let path = |points: &[(u64, f64)]| {
        let shown: Vec<_> = points.iter().copied().filter(|p| p.0 >= from).collect();
        plot.lines(&thin(&shown, 500), &plot.breaks(&shown.iter().map(|p| p.0).collect::<Vec<_>>(), &[]))
    };
    let faint = lines.0.iter().filter(|(id, _)| !top.iter().any(|(t, _)| t == *id)).map(|(_, l)| path(l)).collect();
    let strong = top.into_iter().map(|(id, v)| (path(&lines.0[&id]), id, v)).collect();
    Drawing { faint, strong, ticks: ticks.into_iter().map(|t| (plot.y(t), t)).collect() }
}

/// The figure and range links, the current ones marked.
fn picks(base: &str, figure: &str, preset: &Preset) -> String {
    let link = |f: &str, r: &str, label: &str, current: bool| {
        let current = if current { r#" aria-current="page""# } else { "" };
        format!(r#"<li><a class="range"{current} href="{base}/fleet/metric?figure={f}&amp;range={r}">{label}</a></li>"#)
    };
    let figures: String =
        FIGURES.iter().zip(FIGURE_HEADS).map(|(f, head)| link(f, preset.value, head, *f == figure)).collect();
    let ranges: String = PRESETS.iter().map(|p| link(figure, p.value, p.label, p.value == preset.value)).collect();
    format!(r#"<ul class="picks">{figures}</ul><ul class="picks">{ranges}</ul>"#)
}

/// The chart's SVG content: the value grid, the faint lines, then the strong ones on top.
pub fn chart_markup(d: &Drawing) -> String {
    let mut out = String::new();
    for (y, _) in &d.ticks {
        let y = y.round() as i64;
        let _ = write!(out, r#"<line class="grid" x1="0" x2="{W}" y1="{y}" y2="{y}"></line>"#);
    }
    for path in &d.faint {
        let _ = write!(out, r#"<path class="line faint" d="{path}"></path>"#);
    }
    for (k, (path, _, _)) in d.strong.iter().enumerate() {
        let _ = write!(out, r#"<path class="line top top-{k}" d="{path}"></path>"#);
    }
    out
}

/// The value axis's labels, right-aligned beside the chart, one per grid line.
pub fn axis_markup(d: &Drawing, unit: Unit) -> String {
    let last = d.ticks.len().saturating_sub(1);
    let mut out = String::new();
    for (i, (y, v)) in d.ticks.iter().enumerate() {
        // The top and bottom labels stay inside the box.
        let y = (if i == 0 {
            y - 3.0
        } else if i == last {
            y + 12.0
        } else {
            y + 4.0
        })
        .round() as i64;
        let _ =
            write!(out, r#"<text x="{}" y="{y}" text-anchor="end">{}</text>"#, AXIS_W - 6.0, series::format(*v, unit));
    }
    out
}

/// The legend's items: each top host with its latest value.
pub fn legend_markup(d: &Drawing, unit: Unit) -> String {
    let mut out = String::new();
    for (k, (_, id, v)) in d.strong.iter().enumerate() {
        out.push_str(&format!(
            r#"<li class="top-{k}"><span class="swatch" aria-hidden="true"></span>{} <span class="num">{}</span></li>"#,
            esc(id),
            series::format(*v, unit)
        ));
    }
    out
}

/// `12 hosts over the last 1 h; scale 0 to 100 %`.
fn summary(d: &Drawing, unit: Unit, preset: &Preset) -> String {
    let top = d.ticks.last().map_or(String::new(), |(_, t)| series::format(*t, unit).to_string());
    format!("{} hosts over the last {}; scale 0 to {top}", d.faint.len() + d.strong.len(), preset.label)
}

/// The one-metric page, below `<body>`.
#[component]
pub fn MetricPage() -> impl IntoView {
    let query = Query::provide();
    let (figure, preset) = ask(&query.0.get_untracked());
    let index = FIGURES.iter().position(|f| *f == figure).unwrap_or(0);
    let server_time = crate::page_snapshot().map_or(0, |h| h.server_time_ms);
    let clock = Clock::start(server_time);
    provide_context(clock);
    let lines = RwSignal::new(Lines::default());
    let status = RwSignal::new(String::from("Loading history…"));
    let connection = RwSignal::new(Connection::Connecting { attempt: 0 });
    let span = preset.ms;
    live::connect_with(
        connection,
        move || format!("sub=figure:{figure}"),
        move |frame| {
            if let Frame::Points(p) = frame {
                lines.update(|l| l.push(p.ts_ms, &p.points, p.ts_ms.saturating_sub(span)));
            }
        },
    );
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let url = format!(
            "{}/api/fleet/history?figure={figure}&from=now-{}&to=now&points=300",
            crate::base_path(),
            preset.value
        );
        match crate::chart::history::get(&url).await {
            Ok((200, body)) => match Lines::parse(&body) {
                Some(mut got) => {
                    lines.update(|l| {
                        for (id, live) in std::mem::take(&mut l.0) {
                            let line = got.0.entry(id).or_default();
                            let last = line.last().map_or(0, |p| p.0);
                            line.extend(live.into_iter().filter(|p| p.0 > last));
                        }
                        *l = got;
                    });
                    status.set(String::new());
                }
                None => status.set("The history could not be read.".to_owned()),
            },
            Ok((code, body)) => {
                // The API's `{"error": ".."}` says why in words.
                let why = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| body.chars().take(200).collect());
                status.set(format!("No history (HTTP {code}): {why}. Live points go on."));
            }
            Err(e) => status.set(format!("No history: {e}")),
        }
    });
    let base = crate::base_path();
    let drawing = Memo::new(move |_| {
        let now = clock.now.get();
        lines.with(|l| draw(l, (now.saturating_sub(span), now)))
    });
    let unit = UNITS[index];
    let links = format!(r#"<a class="bar-button" href="{base}/fleet">Fleet</a>"#);
    view! {
        <FleetBar title=format!("{} across the fleet", FIGURE_HEADS[index]) extra=Signal::from(String::new()) links connection />
        <main class="fleet metric-page">
            <nav class="metric-picks" aria-label="Figure and range" inner_html=picks(&base, figure, preset)></nav>
            <p class="metric-status" role="status">{move || status.get()}</p>
            <figure class="metric-chart">
                <div class="metric-plot">
                    <svg class="metric-axis" viewBox=format!("0 0 {AXIS_W} {H}") preserveAspectRatio="none" aria-hidden="true" inner_html=move || drawing.with(|d| axis_markup(d, unit))></svg>
                    <svg
                        viewBox=format!("0 0 {W} {H}")
                        preserveAspectRatio="none"
                        role="img"
                        aria-label=format!("{} of every host", FIGURE_HEADS[index])
                        data-testid="metric-chart"
                        inner_html=move || drawing.with(chart_markup)
                    ></svg>
                </div>
                <figcaption>
                    <ol class="metric-legend" data-testid="metric-legend" inner_html=move || drawing.with(|d| legend_markup(d, unit))></ol>
                    <p class="muted">{move || drawing.with(|d| summary(d, unit, preset))}</p>
                </figcaption>
            </figure>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_and_live_points_make_lines_and_a_top() {
        let mut l = Lines::parse(r#"{"figure":"cpu_pct","hosts":[{"id":"a","points":[[1000,5],[2000,7]]},{"id":"b","points":[[1000,50]]},{"id":"c","points":"x"}]}"#)
            .expect("parses");
        assert_eq!(l.0["a"], [(1000, 5.0), (2000, 7.0)]);
        assert!(l.0["c"].is_empty());
        l.push(3000, &[("a".into(), Some(90.0)), ("b".into(), None), ("d".into(), Some(1.0))], 1500);
        assert_eq!(l.0["a"], [(2000, 7.0), (3000, 90.0)], "old points go");
        assert!(l.0["b"].is_empty());
        assert_eq!(l.top(2), [("a".to_owned(), 90.0), ("d".to_owned(), 1.0)]);
        l.push(3000, &[("a".into(), Some(1.0))], 0);
        assert_eq!(l.0["a"].len(), 2, "no second point at the same time");
        let Drawing { faint, strong, ticks } = draw(&l, (0, 4000));
        assert_eq!((faint.len(), strong.len()), (2, 2));
        assert!(strong[0].0.starts_with('M') && !ticks.is_empty());
        let d = draw(&l, (0, 4000));
        assert_eq!(chart_markup(&d).matches("class=\"line faint\"").count(), 2);
        assert!(legend_markup(&d, Unit::Percent).starts_with(
            r#"<li class="top-0"><span class="swatch" aria-hidden="true"></span>a <span class="num">90 %</span></li>"#
        ));
    }

    #[test]
    fn the_address_names_a_figure_and_a_range() {
        assert_eq!(ask("figure=mem_pct&range=6h").0, "mem_pct");
        assert_eq!(ask("figure=mem_pct&range=6h").1.value, "6h");
        assert_eq!(ask("figure=bogus").0, "cpu_pct");
        assert_eq!(ask("").1.value, "1h");
    }
}
