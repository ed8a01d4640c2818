//! The large chart of one card, at its own URL (`?chart=KEY&source=SOURCE&range=1h`): a time axis
//! with clock labels (and dates over days), a value axis with round ticks in the series' unit,
//! threshold lines, the alerts that fired on its series (a band per firing span, a mark per state
//! change, and the same in words), one line per member with a legend that toggles each, min–max bands for
//! rolled-up history, and a crosshair that follows the pointer and the arrow keys. The range is a
//! preset from the page's memory (1 to 10 minutes) or the server's store (1 hour to 30 days), or a
//! span zoomed to by dragging, by + and -, or typed in. Back, the Esc key or "← Dashboard" return
//! to the cards.
//!
//! - [`range`]: the range and its place in the URL (pure, tested).
//! - [`history`]: fetching history from `/api/history`.
//! - [`data`]: what the chart draws, derived from the model and the history (pure, tested).
//! - [`alerts`]: the alerts' firing spans and state changes in the range (pure, tested), and
//!   fetching the events from `/api/alerts/events`.
//! - [`drawing`]: what one state of the chart draws, as values and SVG markup (pure, tested).
//! - [`svg`]: the chart's element: measuring its width, the crosshair, zooming by pointer and keys.

pub mod alerts;
pub mod data;
pub mod drawing;
pub mod history;
pub mod range;
pub mod svg;

use leptos::prelude::*;

use self::drawing::{DEFAULT_WIDTH, Zoom};
use self::history::Load;
use self::range::{PRESETS, Range};
use self::svg::ChartSvg;
use crate::clock::Clock;
use crate::model::Model;
use crate::plot::{local_input, parse_local_input};
use crate::route::{Query, in_page_click, use_query};

/// What the URL asks to chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRoute {
    /// The source's name.
    pub source: String,
    /// The card's key.
    pub key: String,
    /// The range.
    pub range: Range,
}

/// The chart the current URL asks for, if any.
pub fn use_chart_route() -> Memo<Option<ChartRoute>> {
    let query = use_query();
    Memo::new(move |_| {
        let key = query.param("chart")?;
        let source = query.param("source")?;
        let range = query.0.with(|q| Range::from_query(q));
        Some(ChartRoute { source, key, range })
    })
}

/// The query string of a chart: `?chart=..&source=..&range=..`, keeping the wall-screen view.
pub fn chart_query(source: &str, key: &str, range: &Range, kiosk: bool) -> String {
    let enc = crate::layout::encode_component;
    format!("?chart={}&source={}&{}{}", enc(key), enc(source), range.query(), if kiosk { "&kiosk" } else { "" })
}

/// Whether the page is the wall-screen view (`?kiosk`).
pub fn use_kiosk() -> Memo<bool> {
    let query = use_query();
    Memo::new(move |_| query.param("kiosk").is_some())
}

/// Set when a card opened the chart in this page, so that leaving goes back in history (to the
/// same scroll position) rather than forward to a new dashboard entry.
#[derive(Clone, Copy)]
pub struct OpenedHere(pub RwSignal<bool>);

/// Leaves the chart for the dashboard: back past the chart's entry and every zoom pushed on it
/// when a card opened it in this page.
pub fn close_chart(query: Query, opened_here: bool, kiosk: bool) {
    #[cfg(feature = "hydrate")]
    if opened_here && window().history().and_then(|h| h.go_with_delta(-(crate::route::depth() + 1))).is_ok() {
        return;
    }
    let _ = opened_here;
    query.go(if kiosk { "?kiosk" } else { "" }, true);
}

/// Whether the keyboard's focus is in a text field (where Esc belongs to the field).
fn typing() -> bool {
    #[cfg(feature = "hydrate")]
    {
        document().active_element().is_some_and(|e| e.tag_name() == "INPUT")
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// The chart page.
#[component]
pub fn ChartPage(model: RwSignal<Model>, route: ChartRoute) -> impl IntoView {
    let ChartRoute { source, key, range } = route;
    let width = RwSignal::new(DEFAULT_WIDTH);
    let oldest = {
        let (source, key) = (source.clone(), key.clone());
        move || model.with(|m| m.oldest(&source, &key))
    };
    let needs_history = Memo::new(move |_| range.needs_history(oldest()));
    let load = RwSignal::new(if needs_history.get_untracked() { Load::Loading } else { Load::Memory });
    // The alerts' events of the range, fetched apart (see `alerts::follow`).
    let events = RwSignal::new(Vec::new());
    let data = Memo::new({
        let (source, key) = (source.clone(), key.clone());
        let names = model.with_untracked(|m| m.chart_series(&source, &key));
        move |_| {
            model.with(|m| {
                let mut d = load.with(|l| m.chart(&source, &key, range, l.fetched()))?;
                d.alerts = events.with(|ev| alerts::chart_alerts(ev, m.alerts.as_ref(), &source, &names, d.t));
                Some(d)
            })
        }
    });
    fetch_history(model, (&source, &key), range, load, needs_history, width);
    let kiosk = use_kiosk();
    let opened = use_context::<OpenedHere>().map(|o| o.0);
    let query = use_query();
    let leave = move || close_chart(query, opened.is_some_and(|o| o.get_untracked()), kiosk.get_untracked());
    let esc = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && !typing() {
            leave();
        }
    });
    on_cleanup(move || esc.remove());
    // The newest data: where a range ending now ends, and past which no zoom goes.
    let newest = Callback::new({
        let source = source.clone();
        move |()| {
            let page = model.with_untracked(|m| m.sources.get(source.as_str()).map_or(0, |s| s.last_ts_ms));
            page.max(load.with_untracked(|l| l.fetched().map_or(0, |f| f.t.1)))
        }
    });
    let go = Callback::new({
        let (source, key) = (source.clone(), key.clone());
        move |next: Range| {
            if next != range {
                query.push_deeper(&chart_query(&source, &key, &next, kiosk.get_untracked()));
            }
        }
    });
    let zoom = Callback::new(move |z: Zoom| {
        let end = newest.run(());
        go.run(match z {
            Zoom::Select(a, b) => range.select(a, b, end),
            Zoom::By(factor, centre) => range.zoom(factor, centre, end),
        });
    });
    alerts::follow(model, range, newest, events);
    // A link, so that it works before (or without) the WebAssembly too.
    let home = format!("{}/{}", crate::base_path(), if kiosk.get_untracked() { "?kiosk" } else { "" });
    let title = {
        let key = key.clone();
        move || data.with(|d| d.as_ref().map(|d| d.label.clone()).unwrap_or_else(|| key.clone()))
    };
    let presets = PRESETS
        .iter()
        .map(|preset| {
            let href = chart_query(&source, &key, &Range::Last(preset), kiosk.get_untracked());
            view! {
                <button
                    type="button"
                    class="range"
                    aria-pressed=if range == Range::Last(preset) { "true" } else { "false" }
                    on:click=move |_| query.go(&href, true)
                >
                    {preset.label}
                </button>
            }
        })
        .collect_view();
    let reset = matches!(range, Range::Span { .. }).then(|| {
        view! {
            <button type="button" class="bar-button" data-testid="reset-zoom" on:click=move |_| go.run(range.reset(newest.run(())))>
                "Reset zoom"
            </button>
        }
    });
    view! {
        <section class="chart-page" aria-labelledby="chart-title" data-testid="chart">
            <header class="chart-head">
                <a class="bar-button" href=home on:click=move |ev| {
                    if in_page_click(&ev) {
                        ev.prevent_default();
                        leave();
                    }
                }>
                    "← Dashboard"
                </a>
                <h2 id="chart-title">{title} <span class="chart-source">{source.clone()}</span></h2>
                <div class="ranges" role="group" aria-label="Time range">{presets}</div>
            </header>
            <div class="chart-tools">
                {reset}
                <CustomRange range newest go />
                <p class=move || if load.with(|l| matches!(l, Load::NoStore(_) | Load::Failed(_))) { "chart-status problem" } else { "chart-status" }
                    role="status" data-testid="chart-status">
                    {move || load.with(status_text)}
                </p>
            </div>
            <ChartSvg data width zoom />
        </section>
    }
}

/// What the line above the chart says about where its data comes from.
fn status_text(load: &Load) -> String {
    match load {
        Load::Memory => String::new(),
        Load::Loading => "Loading history…".to_owned(),
        Load::Done(f) => match f.tier() {
            Some("1m") => "History in one-minute means; the band shows each minute's lowest and highest.".to_owned(),
            Some("1h") => "History in hourly means; the band shows each hour's lowest and highest.".to_owned(),
            Some(_) => "History of every sample, thinned to the chart's width (each column's lowest and highest kept)."
                .to_owned(),
            None => "No stored history for this series yet: showing what the page holds.".to_owned(),
        },
        Load::NoStore(why) => {
            format!("No history on this server ({why}): only the last 10 minutes, held by the page, can be shown.")
        }
        Load::Failed(why) => format!("Could not load history ({why}): showing what the page holds."),
    }
}

/// Fetches the history `range` needs (in the browser, once hydrated) into `load`: when it starts
/// to need it, and again when the page's memory no longer reaches back to where the last answer
/// ended (a range ending now, left open for more than ten minutes): never on every sample.
fn fetch_history(
    model: RwSignal<Model>,
    (source, key): (&str, &str),
    range: Range,
    load: RwSignal<Load>,
    needs_history: Memo<bool>,
    width: RwSignal<f64>,
) {
    #[cfg(feature = "hydrate")]
    {
        let (source, key) = (source.to_owned(), key.to_owned());
        // Counts the fetches: only the latest one's answer is kept.
        let asked = StoredValue::new(0u32);
        let lost = Memo::new({
            let (source, key) = (source.clone(), key.clone());
            move |_| {
                let Some(end) = load.with(|l| l.fetched().map(|f| f.t.1)) else { return false };
                range.follows() && model.with(|m| m.oldest(&source, &key)).is_some_and(|o| o > end)
            }
        });
        Effect::new(move |_| {
            let again = lost.get();
            if !needs_history.get() {
                load.set(Load::Memory);
                return;
            }
            if !again && load.with_untracked(|l| l.fetched().is_some()) {
                return;
            }
            if !again {
                load.set(Load::Loading);
            }
            let names = model.with_untracked(|m| m.chart_series(&source, &key));
            let (from, to) = match range {
                Range::Last(p) => (format!("now-{}", p.value), "now".to_owned()),
                Range::Span { from, to, .. } => (from.to_string(), to.to_string()),
            };
            // About one point per pixel column of the plot.
            let points = ((width.get_untracked() - 80.0).round() as usize).clamp(100, 4000);
            let source = source.clone();
            asked.update_value(|n| *n += 1);
            let current = asked.get_value();
            leptos::task::spawn_local(async move {
                let answer = history::fetch(&source, &names, (&from, &to), points).await;
                if asked.try_get_value() == Some(current) {
                    load.try_set(answer);
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (model, source, key, range, load, needs_history, width);
}

/// "Custom range": a from and a to in the browser's time zone, in a disclosure that fills them
/// with the chart's range when it opens.
#[component]
fn CustomRange(range: Range, newest: Callback<(), u64>, go: Callback<Range>) -> impl IntoView {
    let tz = use_context::<Clock>().map_or_else(|| Signal::from(0), |c| c.tz_offset_min.into());
    let from_ref = NodeRef::<leptos::html::Input>::new();
    let to_ref = NodeRef::<leptos::html::Input>::new();
    let problem = RwSignal::new(String::new());
    let fill = move |_| {
        let (a, b) = range.times(newest.run(()));
        for (input, t) in [(from_ref, a), (to_ref, b)] {
            if let Some(el) = input.get_untracked() {
                el.set_value(&local_input(t, tz.get_untracked()));
            }
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let read = |r: NodeRef<leptos::html::Input>| {
            r.get_untracked().and_then(|el| parse_local_input(&el.value(), tz.get_untracked()))
        };
        problem.set(match (read(from_ref), read(to_ref)) {
            (Some(from), Some(to)) if to > from + 1000 => {
                let base = match range {
                    Range::Last(p) => Some(p),
                    Range::Span { base, .. } => base,
                };
                go.run(Range::Span { from, to, base });
                String::new()
            }
            (Some(_), Some(_)) => "The end must be after the start.".to_owned(),
            _ => "Give a date and time for both.".to_owned(),
        });
    };
    view! {
        <details class="custom-range" on:toggle=fill>
            <summary class="bar-button">"Custom range"</summary>
            <form on:submit=submit>
                <label>"From " <input type="datetime-local" node_ref=from_ref required /></label>
                <label>"To " <input type="datetime-local" node_ref=to_ref required /></label>
                <button type="submit" class="bar-button">"Show"</button>
                <span class="form-problem" role="alert">{move || problem.get()}</span>
            </form>
        </details>
    }
}
