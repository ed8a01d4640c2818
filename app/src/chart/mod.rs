//! The large chart of one card, at its own URL (`?chart=KEY&source=SOURCE&window=5m`): a time axis
//! with clock labels, a value axis with round ticks in the series' unit, threshold lines, one line
//! per member with a legend that toggles each, and a crosshair that follows the pointer and the
//! arrow keys. Back, the Esc key or the "Dashboard" button return to the cards.
//!
//! - [`data`]: what the chart draws, derived from the model (pure, tested).
//! - [`svg`]: the drawing and the crosshair.

pub mod data;
pub mod svg;

use leptos::prelude::*;

use self::data::{WINDOWS, window_ms};
use self::svg::ChartSvg;
use crate::model::Model;
use crate::route::{Query, in_page_click, use_query};

/// What the URL asks to chart: `(source, key, window)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRoute {
    /// The source's name.
    pub source: String,
    /// The card's key.
    pub key: String,
    /// The window's query value (`5m`).
    pub window: &'static str,
}

/// The chart the current URL asks for, if any.
pub fn use_chart_route() -> Memo<Option<ChartRoute>> {
    let query = use_query();
    Memo::new(move |_| {
        let key = query.param("chart")?;
        let source = query.param("source")?;
        let (window, _) = window_ms(query.param("window").as_deref());
        Some(ChartRoute { source, key, window })
    })
}

/// The query string of a chart: `?chart=..&source=..&window=..`, keeping the wall-screen view.
pub fn chart_query(source: &str, key: &str, window: &str, kiosk: bool) -> String {
    let enc = crate::layout::encode_component;
    format!("?chart={}&source={}&window={window}{}", enc(key), enc(source), if kiosk { "&kiosk" } else { "" })
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

/// Leaves the chart for the dashboard.
pub fn close_chart(query: Query, opened_here: bool, kiosk: bool) {
    #[cfg(feature = "hydrate")]
    if opened_here && window().history().and_then(|h| h.back()).is_ok() {
        return;
    }
    let _ = opened_here;
    query.go(if kiosk { "?kiosk" } else { "" }, true);
}

/// The chart page.
#[component]
pub fn ChartPage(model: RwSignal<Model>, route: ChartRoute) -> impl IntoView {
    let ChartRoute { source, key, window } = route;
    let (_, window_len) = window_ms(Some(window));
    let data = Memo::new({
        let (source, key) = (source.clone(), key.clone());
        move |_| model.with(|m| m.chart(&source, &key, window_len))
    });
    let kiosk = use_kiosk();
    let opened = use_context::<OpenedHere>().map(|o| o.0);
    let query = use_query();
    let leave = move || close_chart(query, opened.is_some_and(|o| o.get_untracked()), kiosk.get_untracked());
    let esc = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            leave();
        }
    });
    on_cleanup(move || esc.remove());
    let key_for_links = key.clone();
    // A link, so that it works before (or without) the WebAssembly too.
    let home = format!("{}/{}", crate::base_path(), if kiosk.get_untracked() { "?kiosk" } else { "" });
    let title = move || data.with(|d| d.as_ref().map(|d| d.label.clone()).unwrap_or_else(|| key.clone()));
    let windows = WINDOWS
        .iter()
        .map(|&(value, label, _)| {
            let href = chart_query(&source, &key_for_links, value, kiosk.get_untracked());
            view! {
                <button
                    type="button"
                    class="window"
                    aria-pressed=if value == window { "true" } else { "false" }
                    on:click=move |_| query.go(&href, true)
                >
                    {label}
                </button>
            }
        })
        .collect_view();
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
                <div class="windows" role="group" aria-label="Time window">{windows}</div>
            </header>
            <ChartSvg data />
        </section>
    }
}
