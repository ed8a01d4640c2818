//! The chart's element: an SVG sized to its box in CSS pixels (so text is never stretched) whose
//! content [`super::drawing`] writes, a crosshair that the pointer and the arrow keys move (the
//! value and time under it written in a live region beside the chart), dragging across it to
//! select a span to zoom to, and + and - to zoom around the crosshair.

use leptos::prelude::*;
use livedash::series;

use super::alerts::words;
use super::data::ChartData;
use super::drawing::{COLOURS, HEIGHT, MARGIN, Zoom, cross_markup, draw, markup, value_at};
use crate::clock::Clock;
use crate::plot::{clock, date_time, same_day};

/// How far (CSS pixels) a press must be dragged to select a span rather than click.
const DRAG_MIN_PX: f64 = 6.0;

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
    // The alerts in words, with dates when the range spans days.
    let alerts_text = move || {
        let tz = tz.get();
        data.with(|d| {
            let Some(d) = d else { return String::new() };
            let days = !same_day(d.t.0, d.t.1, tz);
            words(&d.alerts, |t| if days { date_time(t, tz) } else { clock(t, tz, true) })
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
            <p class="chart-alerts" data-testid="chart-alerts">{alerts_text}</p>
            {legend}
        </div>
    }
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
