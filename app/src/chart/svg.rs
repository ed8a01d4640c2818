//! The chart's drawing: an SVG sized to its box in CSS pixels (so text is never stretched), with
//! axes, threshold lines, min–max bands under the lines, lines broken where data is missing, and a
//! crosshair that the pointer and the arrow keys move; the value and time under it are written in
//! a live region beside the chart. Dragging across it selects a span to zoom to; + and - zoom
//! around the crosshair.

use leptos::prelude::*;
use livedash::series;
use livedash::settings::Threshold;

use super::data::ChartData;
use crate::clock::Clock;
use crate::plot::{
    Plot, breaks, clock, date_time, extent, same_day, thin_span, tick_label, time_label, time_ticks, value_ticks,
};

/// Space around the plot for the axes' labels, in CSS pixels: left, right, top, bottom.
const MARGIN: (f64, f64, f64, f64) = (64.0, 16.0, 12.0, 28.0);
/// The chart's height in CSS pixels, and its width until the browser has measured it.
const HEIGHT: f64 = 360.0;
/// See [`HEIGHT`].
pub const DEFAULT_WIDTH: f64 = 1000.0;
/// How far (CSS pixels) a press must be dragged to select a span rather than click.
const DRAG_MIN_PX: f64 = 6.0;
/// Distinct line colours (CSS classes `s0`..`s7`).
const COLOURS: usize = 8;

/// Everything drawn for one state of data, size and legend.
#[derive(Debug, Clone, PartialEq)]
struct Drawing {
    plot: Plot,
    y_ticks: Vec<(f64, String)>,
    x_ticks: Vec<(f64, String)>,
    thresholds: Vec<(f64, &'static str, String)>,
    gaps: Vec<(f64, f64)>,
    bands: Vec<(usize, String)>,
    lines: Vec<(usize, String)>,
}

/// What the chart asks of its page: zoom to a span (from a drag), or by a factor around a time
/// (below 1: in).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zoom {
    /// The span between two times.
    Select(u64, u64),
    /// By a factor, around a time.
    By(f64, u64),
}

fn draw(data: &ChartData, width: f64, shown: &[bool], tz: i32) -> Drawing {
    let (w, h) = ((width - MARGIN.0 - MARGIN.1).max(40.0), HEIGHT - MARGIN.2 - MARGIN.3);
    let visible = || data.lines.iter().enumerate().filter(|(i, _)| shown.get(*i).copied().unwrap_or(true));
    let percent = data.settings.unit == series::Unit::Percent;
    let marks: Vec<f64> =
        [data.settings.warn, data.settings.critical].into_iter().flatten().map(Threshold::value).collect();
    let values = visible()
        .flat_map(|(_, l)| l.points.iter().map(|p| p.1).chain(l.bands.iter().flat_map(|b| [b.1, b.2])))
        .chain(marks.iter().copied());
    let (lo, hi) = extent(values.chain(percent.then_some(0.0))).unwrap_or((0.0, 1.0));
    let (lo, hi) = if percent { (lo.min(0.0), hi.max(100.0)) } else { (lo, hi) };
    let (ticks, y) = value_ticks(lo, hi, 5);
    let plot = Plot { t: data.t, y, w, h };
    let style = data.settings.style();
    let span = data.t.1 - data.t.0;
    let count = (w / 90.0) as usize;
    let (times, step) = time_ticks(data.t.0, data.t.1, count, tz);
    // Neighbours this far apart are never joined when the usual spacing is much smaller.
    let floor = span / 200;
    let columns = (w / 2.0) as usize;
    Drawing {
        plot,
        y_ticks: ticks.iter().map(|&v| (plot.y(v), tick_label(v, style))).collect(),
        // A label centred on a tick too near the right edge would be cut off: such ticks go.
        x_ticks: times
            .into_iter()
            .map(|t| (plot.x(t), time_label(t, step, span, tz)))
            .filter(|(x, _)| *x <= w - 30.0)
            .collect(),
        thresholds: [(data.settings.warn, "warn", "warning"), (data.settings.critical, "critical", "critical")]
            .into_iter()
            .filter_map(|(t, class, word)| {
                t.map(|t| (plot.y(t.value()), class, format!("{word} {}", tick_label(t.value(), style))))
            })
            .collect(),
        gaps: data.gaps.iter().map(|&(a, b)| (plot.x(a), plot.x(b))).filter(|(a, b)| b - a >= 1.0).collect(),
        bands: visible()
            .filter(|(_, l)| !l.bands.is_empty())
            .map(|(i, l)| {
                let times: Vec<u64> = l.bands.iter().map(|b| b.0).collect();
                (i % COLOURS, plot.band(&l.bands, &breaks(&times, &data.gaps, floor)))
            })
            .collect(),
        lines: visible()
            .map(|(i, l)| {
                let points = thin_span(&l.points, data.t, columns);
                let times: Vec<u64> = points.iter().map(|p| p.0).collect();
                (i % COLOURS, plot.lines(&points, &breaks(&times, &data.gaps, floor)))
            })
            .collect(),
    }
}

/// The value of `points` at or just before `t`.
fn value_at(points: &[(u64, f64)], t: u64) -> Option<(u64, f64)> {
    let i = points.partition_point(|p| p.0 <= t);
    points.get(i.checked_sub(1)?).copied()
}

/// The chart of `data`, kept live, `width` CSS pixels wide (measured here); drags and the + and
/// - keys ask `zoom`.
#[component]
pub fn ChartSvg(data: Memo<Option<ChartData>>, width: RwSignal<f64>, zoom: Callback<Zoom>) -> impl IntoView {
    let drag = RwSignal::new(None::<(f64, f64)>);
    let shown = RwSignal::new(Vec::<bool>::new());
    let cursor = RwSignal::new(None::<u64>);
    let tz = use_context::<Clock>().map_or_else(|| Signal::from(0), |c| c.tz_offset_min.into());
    let wrap = NodeRef::<leptos::html::Div>::new();
    let svg = NodeRef::<leptos::svg::Svg>::new();
    #[cfg(feature = "hydrate")]
    {
        let measure = move || {
            if let Some(el) = wrap.get_untracked() {
                let w = f64::from(el.client_width());
                if w > 0.0 {
                    width.set(w);
                }
            }
        };
        Effect::new(move |_| {
            if wrap.get().is_some() {
                measure();
            }
        });
        let resize = window_event_listener(leptos::ev::resize, move |_| measure());
        on_cleanup(move || resize.remove());
    }
    let drawing =
        Memo::new(move |_| data.with(|d| d.as_ref().map(|d| shown.with(|s| draw(d, width.get(), s, tz.get())))));
    // The crosshair's time, snapped to the nearest point of the first shown line.
    let times = move || {
        data.with(|d| {
            d.as_ref()
                .and_then(|d| {
                    shown
                        .with(|s| d.lines.iter().enumerate().find(|(i, _)| s.get(*i).copied().unwrap_or(true)))
                        .map(|(_, l)| l.points.iter().map(|p| p.0).collect::<Vec<_>>())
                })
                .unwrap_or_default()
        })
    };
    let snap = move |t: u64| {
        let ts = times();
        let i = ts.partition_point(|x| *x < t);
        let candidates = [i.checked_sub(1).and_then(|j| ts.get(j)), ts.get(i)];
        candidates.into_iter().flatten().min_by_key(|x| x.abs_diff(t)).copied()
    };
    let plot = move || drawing.with_untracked(|d| d.as_ref().map(|d| d.plot));
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some((x, plot)) = pointer_x(&svg, ev.client_x()).zip(plot()) else {
            return;
        };
        let x = (x - MARGIN.0).clamp(0.0, plot.w);
        if drag.with_untracked(Option::is_some) {
            drag.update(|d| {
                if let Some(d) = d {
                    d.1 = x;
                }
            });
        }
        cursor.set(snap(plot.t_at(x)));
    };
    // Press and drag selects a span; releasing zooms to it.
    let on_down = move |ev: leptos::ev::PointerEvent| {
        let Some((x, plot)) = pointer_x(&svg, ev.client_x()).zip(plot()) else {
            return;
        };
        let x = x - MARGIN.0;
        if ev.button() != 0 || !(0.0..=plot.w).contains(&x) {
            return;
        }
        capture_pointer(&svg, ev.pointer_id());
        drag.set(Some((x, x)));
    };
    let on_up = move |_: leptos::ev::PointerEvent| {
        let (Some((a, b)), Some(plot)) = (drag.get_untracked(), plot()) else { return };
        drag.set(None);
        if (a - b).abs() >= DRAG_MIN_PX {
            zoom.run(Zoom::Select(plot.t_at(a), plot.t_at(b)));
        }
    };
    let on_cancel = move |_: leptos::ev::PointerEvent| drag.set(None);
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let ts = times();
        let (Some(&first), Some(&last)) = (ts.first(), ts.last()) else { return };
        let current = cursor.get_untracked().and_then(snap).unwrap_or(last);
        let i = ts.partition_point(|x| *x < current);
        let next = match ev.key().as_str() {
            "ArrowLeft" => ts.get(i.saturating_sub(1)).copied(),
            "ArrowRight" => ts.get((i + 1).min(ts.len() - 1)).copied(),
            "PageUp" => ts.get(i.saturating_sub(10)).copied(),
            "PageDown" => ts.get((i + 10).min(ts.len() - 1)).copied(),
            "Home" => Some(first),
            "End" => Some(last),
            "+" | "=" | "-" | "_" => {
                ev.prevent_default();
                let centre = cursor
                    .get_untracked()
                    .or_else(|| data.with_untracked(|d| d.as_ref().map(|d| d.t.0 / 2 + d.t.1 / 2)));
                let factor = if matches!(ev.key().as_str(), "+" | "=") { 0.5 } else { 2.0 };
                zoom.run(Zoom::By(factor, centre.unwrap_or(last)));
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        cursor.set(next);
    };
    let on_focus = move |_| {
        if cursor.get_untracked().is_none() {
            cursor.set(times().last().copied());
        }
    };
    let readout = move || {
        let Some(t) = cursor.get() else {
            return "Point at the chart, or focus it and use the arrow keys, to read a value; drag across it, or \
                    press + and -, to zoom."
                .to_owned();
        };
        data.with(|d| {
            let Some(d) = d else { return String::new() };
            let tz = tz.get();
            let when = if same_day(d.t.0, d.t.1, tz) { clock(t, tz, true) } else { date_time(t, tz) };
            let mut parts = vec![when];
            shown.with(|s| {
                for (i, line) in d.lines.iter().enumerate().filter(|(i, _)| s.get(*i).copied().unwrap_or(true)) {
                    let value = value_at(&line.points, t).map_or_else(
                        || "–".to_owned(),
                        |(_, v)| series::format_as(v, line.settings.style()).to_string(),
                    );
                    parts.push(if d.lines.len() > 1 { format!("{} {value}", line.label) } else { value });
                    let _ = i;
                }
            });
            parts.join(" · ")
        })
    };
    let cross = move || {
        let t = cursor.get()?;
        drawing.with(|g| g.as_ref().map(|g| g.plot.x(t)))
    };
    let selection = move || drag.get().filter(|(a, b)| (a - b).abs() >= 1.0);
    let dots = move || -> Vec<(usize, f64, f64)> {
        let Some(t) = cursor.get() else { return Vec::new() };
        data.with(|d| {
            let (Some(d), Some(plot)) = (d.as_ref(), drawing.with(|g| g.as_ref().map(|g| g.plot))) else {
                return Vec::new();
            };
            shown.with(|s| {
                d.lines
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| s.get(*i).copied().unwrap_or(true))
                    .filter_map(|(i, l)| value_at(&l.points, t).map(|(pt, v)| (i % COLOURS, plot.x(pt), plot.y(v))))
                    .collect()
            })
        })
    };
    let legend = move || {
        data.with(|d| {
            let d = d.as_ref().filter(|d| d.lines.len() > 1)?;
            let items = d
                .lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let on = move || shown.with(|s| s.get(i).copied().unwrap_or(true));
                    let toggle = move |_| {
                        shown.update(|s| {
                            if s.len() <= i {
                                s.resize(i + 1, true);
                            }
                            s[i] = !s[i];
                        });
                    };
                    view! {
                        <button type="button" class="legend-item" aria-pressed=move || if on() { "true" } else { "false" } on:click=toggle>
                            <span class=format!("swatch s{}", i % COLOURS) aria-hidden="true"></span>
                            {line.label.clone()}
                        </button>
                    }
                })
                .collect_view();
            Some(view! { <div class="legend" role="group" aria-label="Series shown">{items}</div> })
        })
    };
    let view_box = move || format!("0 0 {} {HEIGHT}", width.get());
    let label = move || data.with(|d| d.as_ref().map(|d| format!("Chart of {}", d.label)).unwrap_or_default());
    view! {
        <div class="chart-box" node_ref=wrap>
            <svg
                class="chart-svg"
                node_ref=svg
                viewBox=view_box
                height=HEIGHT.to_string()
                role="img"
                tabindex="0"
                aria-label=label
                aria-describedby="chart-readout"
                aria-keyshortcuts="ArrowLeft ArrowRight Home End PageUp PageDown Plus Minus"
                data-testid="chart-svg"
                on:pointermove=on_move
                on:pointerdown=on_down
                on:pointerup=on_up
                on:pointercancel=on_cancel
                on:keydown=on_key
                on:focus=on_focus
            >
                <g transform=format!("translate({},{})", MARGIN.0, MARGIN.2) inner_html=move || drawing.with(|g| g.as_ref().map(markup).unwrap_or_default())></g>
                <g transform=format!("translate({},{})", MARGIN.0, MARGIN.2) inner_html=move || cross_markup(cross(), dots(), selection())></g>
            </svg>
            <p class="readout" id="chart-readout" data-testid="readout" aria-live="polite">{readout}</p>
            {legend}
        </div>
    }
}

/// Text for SVG markup: `&`, `<` and `>` escaped.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The axes, threshold lines and lines of a drawing as SVG markup: written as one string, this
/// costs the browser bundle far less than a view per element, and the whole of it changes with
/// every sample anyway.
fn markup(g: &Drawing) -> String {
    use std::fmt::Write;
    let (w, h) = (g.plot.w.round(), g.plot.h.round());
    let mut out = String::with_capacity(4096);
    for (y, text) in &g.y_ticks {
        let _ = write!(
            out,
            r#"<line class="grid" x1="0" x2="{w}" y1="{y:.0}" y2="{y:.0}"/><text class="tick y" x="-8" y="{:.0}">{}</text>"#,
            y + 4.0,
            esc(text)
        );
    }
    for (x, text) in &g.x_ticks {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.0}" x2="{x:.0}" y1="0" y2="{h}"/><text class="tick x" x="{x:.0}" y="{:.0}">{}</text>"#,
            h + 18.0,
            esc(text)
        );
    }
    for (y, class, text) in &g.thresholds {
        let _ = write!(
            out,
            r#"<line class="threshold {class}" x1="0" x2="{w}" y1="{y:.0}" y2="{y:.0}"/><text class="threshold-label {class}" x="{:.0}" y="{:.0}">{}</text>"#,
            w - 4.0,
            y - 4.0,
            esc(text)
        );
    }
    for (a, b) in &g.gaps {
        let _ = write!(out, r#"<rect class="gap" x="{a:.0}" y="0" width="{:.0}" height="{h}"/>"#, b - a);
    }
    for (c, d) in &g.bands {
        let _ = write!(out, r#"<path class="band s{c}" d="{d}"/>"#);
    }
    for (c, d) in &g.lines {
        let _ = write!(out, r#"<path class="line s{c}" d="{d}"/>"#);
    }
    out
}

/// The span being selected, the crosshair at `x` and a dot on each line, as SVG markup.
fn cross_markup(x: Option<f64>, dots: Vec<(usize, f64, f64)>, selection: Option<(f64, f64)>) -> String {
    use std::fmt::Write;
    let h = HEIGHT - MARGIN.2 - MARGIN.3;
    let mut out = String::new();
    if let Some((a, b)) = selection {
        let _ = write!(
            out,
            r#"<rect class="selection" data-testid="selection" x="{:.0}" y="0" width="{:.0}" height="{h:.0}"/>"#,
            a.min(b),
            (a - b).abs()
        );
    }
    let Some(x) = x else { return out };
    let _ = write!(out, r#"<line class="crosshair" x1="{x:.0}" x2="{x:.0}" y1="0" y2="{h:.0}"/>"#);
    for (c, cx, cy) in dots {
        let _ = write!(out, r#"<circle class="dot s{c}" cx="{cx:.0}" cy="{cy:.0}" r="4"/>"#);
    }
    out
}

/// Keeps the pointer's events coming to the chart while a drag goes on outside it.
fn capture_pointer(svg: &NodeRef<leptos::svg::Svg>, pointer_id: i32) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = svg.get_untracked() {
        let _ = el.set_pointer_capture(pointer_id);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (svg, pointer_id);
}

/// The x of a pointer at `client_x` inside the chart, in its user units (CSS pixels).
fn pointer_x(svg: &NodeRef<leptos::svg::Svg>, client_x: i32) -> Option<f64> {
    #[cfg(feature = "hydrate")]
    {
        let rect = svg.get_untracked()?.get_bounding_client_rect();
        Some(f64::from(client_x) - rect.left())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (svg, client_x);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_drawn_with_bands_under_lines_broken_at_gaps() {
        use super::super::data::{ChartData, Line};
        use std::sync::Arc;
        let settings = Arc::new(livedash::settings::SeriesSettings::resolve(&[], "x"));
        let minute = 60_000;
        let points: Vec<(u64, f64)> = (0..10).chain(20..30).map(|m| (m * minute, 5.0)).collect();
        let bands = points.iter().map(|&(t, v)| (t, v - 1.0, v + 1.0)).collect();
        let line = Line { label: "x".into(), settings: settings.clone(), points, bands };
        let data = ChartData {
            label: "X".into(),
            settings,
            lines: vec![line],
            t: (0, 30 * minute),
            gaps: vec![(9 * minute + 1, 20 * minute - 1)],
        };
        let g = draw(&data, 600.0, &[], 0);
        let svg = markup(&g);
        let band = svg.find(r#"<path class="band s0""#).expect("a band");
        let line = svg.find(r#"<path class="line s0""#).expect("a line");
        assert!(band < line, "the band is under the line");
        assert_eq!(g.lines[0].1.matches('M').count(), 2, "the line breaks at the gap");
        assert_eq!(g.bands[0].1.matches('Z').count(), 2, "so does the band");
        assert_eq!(svg.matches(r#"<rect class="gap""#).count(), 1);
        assert_eq!(g.x_ticks.get(1).map(|t| t.1.as_str()), Some("00:10"), "no seconds over half an hour");
    }

    #[test]
    fn values_are_read_at_or_before_the_cursor() {
        let pts = [(10, 1.0), (20, 2.0), (30, 3.0)];
        assert_eq!(value_at(&pts, 25), Some((20, 2.0)));
        assert_eq!(value_at(&pts, 30), Some((30, 3.0)));
        assert_eq!(value_at(&pts, 5), None);
    }
}
