//! The overview page, `/fleet`: one row per host, rendered on the server from the `hello`'s full
//! fleet update (sorted, filtered and grouped by the settings cookie, so the first paint is the
//! person's view), then kept live over `/ws?sub=overview` (resuming with `fleet_since=`).

use leptos::prelude::*;
use livedash::Frame;

use super::rows::{self, Line};
use super::settings::{self, Settings};
use super::table::Fleet;
use super::view::{Filter, arrange};
use crate::clock::Clock;
use crate::components::ConnectionBadge;
use crate::live::{self, Connection};
use crate::route::Query;
use crate::theme::ThemeToggle;

/// Above this many rows the wall screen splits the table in two side by side.
const KIOSK_SPLIT: usize = 40;

/// The overview, below `<body>`.
#[component]
pub fn FleetPage() -> impl IntoView {
    let hello = crate::page_snapshot();
    let mut initial = Fleet::default();
    let server_time = hello.as_ref().map_or(0, |h| h.server_time_ms);
    if let Some(mut update) = hello.and_then(|h| h.fleet) {
        update.full = true;
        initial.apply(*update);
    }
    let fleet = RwSignal::new(initial);
    let clock = Clock::start(server_time);
    provide_context(clock);
    let query = Query::provide();
    let kiosk = query.param("kiosk").is_some();
    let settings = RwSignal::new(Settings::parse(&crate::cookie::value(settings::COOKIE).unwrap_or_default()));
    Effect::new(move |_| settings.with(|s| crate::cookie::store(settings::COOKIE, &s.to_cookie())));
    let connection = RwSignal::new(Connection::Connecting { attempt: 0 });
    live::connect_with(
        connection,
        move || {
            fleet.with_untracked(|f| {
                f.seq.map_or_else(|| "sub=overview".to_owned(), |s| format!("sub=overview&fleet_since={s}"))
            })
        },
        move |frame| match frame {
            Frame::Hello(h) => {
                if let Some(mut update) = h.fleet {
                    update.full = true;
                    fleet.update(|f| f.apply(*update));
                }
            }
            Frame::Fleet(update) => fleet.update(|f| f.apply(update)),
            _ => {}
        },
    );
    let base = crate::base_path();
    let links = format!(
        r#"<a class="bar-button" href="{base}/">Dashboard</a><a class="bar-button kiosk-enter" href="{base}/fleet/metric">One metric</a><a class="bar-button kiosk-enter" href="{base}/fleet?kiosk">Wall screen</a><a class="bar-button kiosk-exit" href="{base}/fleet">Exit wall screen</a>"#
    );
    let counts = Signal::derive(move || fleet.with(|f| rows::counts(f.counts)));
    let problem = move || fleet.with(|f| f.problem.clone());
    view! {
        <FleetBar title="Fleet".to_owned() extra=counts links connection />
        <Show when=move || problem().is_some()>
            <p class="conn-problem" role="alert" data-testid="targets-problem">
                <strong>"The targets file is not used now; its last good hosts are shown. "</strong>
                {move || problem().unwrap_or_default()}
            </p>
        </Show>
        <main class="fleet">
            <Controls fleet settings />
            <Tables fleet settings kiosk base />
        </main>
    }
}

/// The fleet pages' top bar: the brand, the page's `title`, `extra` markup (the overview's
/// counts), the `links` markup, the theme toggle and the connection badge.
#[component]
pub fn FleetBar(
    title: String,
    extra: Signal<String>,
    links: String,
    connection: RwSignal<Connection>,
) -> impl IntoView {
    view! {
        <header class="topbar">
            <div class="brand">
                <span class="logo" aria-hidden="true"></span>
                "livedash"
            </div>
            <h1 class="page-title">{title}</h1>
            <p class="fleet-counts" data-testid="fleet-counts" aria-label="Hosts by status" inner_html=move || extra.get()></p>
            <nav class="bar-end" aria-label="Pages">
                <span class="bar-links" inner_html=links></span>
                <ThemeToggle />
                <ConnectionBadge connection />
            </nav>
        </header>
    }
}

/// The filter box and the grouping select.
#[component]
fn Controls(fleet: RwSignal<Fleet>, settings: RwSignal<Settings>) -> impl IntoView {
    view! {
        <form class="fleet-controls" on:submit=|ev| ev.prevent_default()>
            <label>
                "Filter "
                <input
                    type="search"
                    data-testid="fleet-filter"
                    placeholder="name or tag:value"
                    prop:value=move || settings.with(|s| s.filter.clone())
                    on:input=move |ev| settings.update(|s| s.filter = event_target_value(&ev))
                />
            </label>
            <label>
                "Group by "
                <select
                    data-testid="fleet-group"
                    on:change=move |ev| settings.update(|s| s.group = event_target_value(&ev))
                    inner_html=move || group_options(&fleet.with(Fleet::tag_keys), &settings.with(|s| s.group.clone()))
                ></select>
            </label>
            <button type="button" class="bar-button" data-testid="fleet-reset" on:click=move |_| settings.set(Settings::default())>
                "Reset view"
            </button>
        </form>
    }
}

/// The grouping select's options: none, and each tag key present (the chosen one selected).
fn group_options(keys: &[String], chosen: &str) -> String {
    let option = |value: &str, label: &str| {
        let selected = if value == chosen { " selected" } else { "" };
        format!(r#"<option value="{}"{selected}>{}</option>"#, rows::esc(value), rows::esc(label))
    };
    std::iter::once(option("", "(none)")).chain(keys.iter().map(|k| option(k, k))).collect()
}

/// The table: one, or on a wall screen with many hosts two side by side (the second hidden
/// otherwise). Its headings and bodies are markup ([`super::rows`]), their clicks read by one
/// handler on the tables (see [`on_click`]): far less browser bundle than a view per cell.
#[component]
fn Tables(fleet: RwSignal<Fleet>, settings: RwSignal<Settings>, kiosk: bool, base: String) -> impl IntoView {
    let now = use_context::<Clock>().map_or_else(|| Signal::from(0), |c| c.now.into());
    // The rows shown, in order, with group headings; how many are shown and how many there are.
    let arranged = move || {
        fleet.with(|f| {
            settings.with(|s| {
                let groups = arrange(&f.rows, &Filter::parse(&s.filter), s.sort, Some(s.group.as_str()));
                let shown: usize = groups.iter().map(|g| g.rows.len()).sum();
                let mut lines = Vec::with_capacity(shown + groups.len());
                for g in groups {
                    if !s.group.is_empty() {
                        lines.push(Line::Head(g.value.clone(), g.rows.len()));
                    }
                    lines.extend(g.rows.into_iter().map(|r| Line::Host(Box::new(r.clone()))));
                }
                (lines, shown, f.rows.len())
            })
        })
    };
    let base = StoredValue::new(base);
    let split = move |lines: usize| kiosk && lines > KIOSK_SPLIT;
    let table = move |which: usize| {
        // A memo: the clock's tick rebuilds the markup, but the page's rows only when it changed
        // (a status's "since" in minutes changes once a minute).
        let body = Memo::new(move |_| {
            let (lines, _, _) = arranged();
            let mid = if split(lines.len()) { lines.len().div_ceil(2) } else { lines.len() };
            let part = if which == 0 { &lines[..mid] } else { &lines[mid..] };
            base.with_value(|base| rows::body(part, base, now.get()))
        });
        view! {
            <table class="fleet-table" data-testid="fleet-table" hidden=move || which == 1 && !split(arranged().0.len())>
                <caption>
                    {move || {
                        let (_, shown, total) = arranged();
                        format!("{shown} of {total} hosts, {}", sort_words(settings.with(|s| s.sort)))
                    }}
                </caption>
                <thead inner_html=move || settings.with(|s| rows::heads(s.sort))></thead>
                <tbody inner_html=body></tbody>
            </table>
        }
    };
    view! {
        <div class="fleet-tables" on:click=move |ev| on_click(&ev, settings)>
            {table(0)}
            {table(1)}
        </div>
        <p class="empty">
            {move || match arranged() {
                (_, _, 0) => "No hosts yet: waiting for the fleet's first update.",
                (_, 0, _) => "No host matches the filter.",
                _ => "",
            }}
        </p>
    }
}

/// `sorted worst first`, `sorted by CPU, highest first`.
fn sort_words(sort: super::view::Sort) -> String {
    match sort.column {
        None => "sorted worst first".to_owned(),
        Some(c) => {
            format!("sorted by {}, {}", c.head(), if sort.descending { "highest first" } else { "lowest first" })
        }
    }
}

/// A click in the tables: on a heading's button, sorts by its column; anywhere else on a host's
/// row but its link, opens the host's dashboard as the link does (which a click on the link
/// itself, or the keyboard, already follows). Buttons take Enter and Space as clicks.
fn on_click(ev: &leptos::ev::MouseEvent, settings: RwSignal<Settings>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
            return;
        };
        let closest = |selector: &str| target.closest(selector).ok().flatten();
        if let Some(column) = closest("button[data-sort]").and_then(|b| b.get_attribute("data-sort")) {
            if let Some(column) = super::view::Column::from_key(&column) {
                settings.update(|s| s.sort = s.sort.clicked(column));
            }
            return;
        }
        let href = closest("tr[data-href]").and_then(|tr| tr.get_attribute("data-href"));
        if let Some(href) = href.filter(|_| closest("a").is_none() && crate::route::in_page_click(ev)) {
            let _ = window().location().set_href(&href);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, settings);
}
