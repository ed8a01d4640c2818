//! The overview page, `/fleet`: one row per host, rendered on the server from the `hello`'s full
//! fleet update (sorted, filtered and grouped by the settings cookie, so the first paint is the
//! person's view), then kept live over `/ws?sub=overview` (resuming with `fleet_since=`).

use leptos::either::Either;
use leptos::prelude::*;
use livedash::Frame;
use livedash::fleet::HostRow;

use super::format::{SPARK_H, SPARK_W, bar_pct, figure_text, spark_runs, status_text};
use super::settings::{self, Settings};
use super::table::Fleet;
use super::view::{Column, Filter, arrange, status_name};
use crate::clock::Clock;
use crate::components::ConnectionBadge;
use crate::layout::encode_component;
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
    let settings = RwSignal::new(Settings::parse(&settings::cookie_value().unwrap_or_default()));
    Effect::new(move |_| settings.with(|s| settings::store(&s.to_cookie())));
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
    let counts = move || fleet.with(|f| f.counts);
    view! {
        <header class="topbar">
            <div class="brand">
                <span class="logo" aria-hidden="true"></span>
                "livedash"
            </div>
            <h1 class="page-title">"Fleet"</h1>
            <p class="fleet-counts" data-testid="fleet-counts" aria-label="Hosts by status">
                <span class="count-up">{move || counts().up}" up"</span>
                <span class="count-stale">{move || counts().stale}" stale"</span>
                <span class="count-down">{move || counts().down}" down"</span>
                <span class="count-alerting">{move || counts().alerting}" alerting"</span>
            </p>
            <nav class="bar-end" aria-label="Pages">
                <a class="bar-button" rel="external" href=format!("{base}/")>"Dashboard"</a>
                <a class="bar-button kiosk-enter" rel="external" href=format!("{base}/fleet/metric")>"One metric"</a>
                <a class="bar-button kiosk-enter" rel="external" href=format!("{base}/fleet?kiosk")>"Wall screen"</a>
                <a class="bar-button kiosk-exit" rel="external" href=format!("{base}/fleet")>"Exit wall screen"</a>
                <ThemeToggle />
                <ConnectionBadge connection />
            </nav>
        </header>
        <main class="fleet">
            <Controls fleet settings />
            <Tables fleet settings kiosk base />
        </main>
    }
}

/// The filter box and the grouping select.
#[component]
fn Controls(fleet: RwSignal<Fleet>, settings: RwSignal<Settings>) -> impl IntoView {
    let keys = Memo::new(move |_| fleet.with(Fleet::tag_keys));
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
                <select data-testid="fleet-group" on:change=move |ev| settings.update(|s| s.group = event_target_value(&ev))>
                    <option value="" selected=move || settings.with(|s| s.group.is_empty())>"(none)"</option>
                    <For each=move || keys.get() key=Clone::clone let:key>
                        {
                            let (k, value) = (key.clone(), key.clone());
                            view! { <option value=value selected=move || settings.with(|s| s.group == k)>{key}</option> }
                        }
                    </For>
                </select>
            </label>
            <button type="button" class="bar-button" data-testid="fleet-reset" on:click=move |_| settings.set(Settings::default())>
                "Reset view"
            </button>
        </form>
    }
}

/// One line of a table body: a group's heading or a host.
#[derive(Clone, PartialEq)]
enum Line {
    Head(Option<String>, usize),
    Host(Box<HostRow>),
}

/// The table (two side by side on a wall screen with many hosts).
#[component]
fn Tables(fleet: RwSignal<Fleet>, settings: RwSignal<Settings>, kiosk: bool, base: String) -> impl IntoView {
    let lines = Memo::new(move |_| {
        fleet.with(|f| {
            settings.with(|s| {
                let filter = Filter::parse(&s.filter);
                let groups = arrange(f.rows.values(), &filter, s.sort, Some(s.group.as_str()));
                let grouped = !s.group.is_empty();
                let shown: usize = groups.iter().map(|g| g.rows.len()).sum();
                let mut lines = Vec::with_capacity(shown + groups.len());
                for g in groups {
                    if grouped {
                        lines.push(Line::Head(g.value.clone(), g.rows.len()));
                    }
                    lines.extend(g.rows.into_iter().map(|r| Line::Host(Box::new(r.clone()))));
                }
                (lines, shown, f.rows.len())
            })
        })
    });
    let base = StoredValue::new(base);
    move || {
        let (lines, shown, total) = lines.get();
        let halves = if kiosk && lines.len() > KIOSK_SPLIT {
            let mid = lines.len().div_ceil(2);
            vec![lines[..mid].to_vec(), lines[mid..].to_vec()]
        } else {
            vec![lines]
        };
        let caption = format!("{shown} of {total} hosts, {}", sort_words(settings.with(|s| s.sort)));
        view! {
            <div class="fleet-tables">
                {halves
                    .into_iter()
                    .map(|half| {
                        view! {
                            <table class="fleet-table" data-testid="fleet-table">
                                <caption>{caption.clone()}</caption>
                                <thead><Heads settings /></thead>
                                <tbody>{half.into_iter().map(|l| line_view(l, &base.get_value())).collect_view()}</tbody>
                            </table>
                        }
                    })
                    .collect_view()}
                {(total > 0 && shown == 0).then(|| view! { <p class="empty">"No host matches the filter."</p> })}
                {(total == 0).then(|| view! { <p class="empty">"No hosts yet: waiting for the fleet's first update."</p> })}
            </div>
        }
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

/// The headings: each a button that sorts by it, with `aria-sort`.
#[component]
fn Heads(settings: RwSignal<Settings>) -> impl IntoView {
    view! {
        <tr>
            {Column::ALL
                .into_iter()
                .map(|c| {
                    view! {
                        <th scope="col" class=format!("col-{}", c.key()) aria-sort=move || settings.with(|s| s.sort.aria(c))>
                            <button type="button" class="sort" data-sort=c.key() on:click=move |_| settings.update(|s| s.sort = s.sort.clicked(c))>
                                {c.head()}
                            </button>
                        </th>
                    }
                })
                .collect_view()}
            <th scope="col" class="col-spark">"CPU trend"</th>
            <th scope="col" class="col-alerts">"Alerts"</th>
        </tr>
    }
}

fn line_view(line: Line, base: &str) -> impl IntoView + use<> {
    match line {
        Line::Head(value, n) => Either::Left(view! {
            <tr class="group-head">
                <th scope="colgroup" colspan="11">{value.unwrap_or_else(|| "(no tag)".to_owned())}" · "{n}</th>
            </tr>
        }),
        Line::Host(row) => Either::Right(host_view(&row, base)),
    }
}

fn host_view(row: &HostRow, base: &str) -> impl IntoView + use<> {
    let now = use_context::<Clock>().map_or_else(|| Signal::from(0), |c| c.now.into());
    let href = format!("{base}/?host={}", encode_component(row.id()));
    let status = status_name(row.status);
    let (st, since) = (row.status, row.since_ms);
    let tags: Vec<String> = row.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let figures = (0..7)
        .map(|i| {
            let bar = bar_pct(row, i).map(|w| {
                let class = if w >= 90.0 {
                    "bar-fill crit"
                } else if w >= 75.0 {
                    "bar-fill warn"
                } else {
                    "bar-fill"
                };
                view! {
                    <svg class="bar" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">
                        <rect class="bar-bg" width="100" height="4"></rect>
                        <rect class=class width=format!("{w:.0}") height="4"></rect>
                    </svg>
                }
            });
            view! {
                <td class=format!("fig col-{}", Column::Figure(i).key())><span class="num">{figure_text(row, i)}</span>{bar}</td>
            }
        })
        .collect_view();
    let open = href.clone();
    view! {
        <tr class=format!("host host-{status}") data-host=row.id().to_owned() data-status=status on:click=move |ev| open_row(&ev, &open)>
            <th scope="row" class="col-name">
                <a href=href rel="external">{row.name.clone()}</a>
                {(!tags.is_empty()).then(|| view! { <span class="tags">{tags.join(" ")}</span> })}
            </th>
            <td class="col-status"><span class="dot" aria-hidden="true"></span>{move || status_text(st, since, now.get())}</td>
            {figures}
            <td class="col-spark">
                <svg class="cpu-spark" viewBox=format!("0 0 {SPARK_W} {SPARK_H}") aria-hidden="true">
                    {spark_runs(&row.cpu_spark).into_iter().map(|p| view! { <polyline points=p></polyline> }).collect_view()}
                </svg>
            </td>
            <td class="col-alerts">
                {(row.alerting > 0).then(|| view! { <span class="alerting" title="alerts firing">{format!("▲ {}", row.alerting)}</span> })}
            </td>
        </tr>
    }
}

/// A click anywhere on a row opens the host's dashboard, as its link does (which a click on the
/// link itself, or a keyboard, already follows).
fn open_row(ev: &leptos::ev::MouseEvent, href: &str) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let on_link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| e.closest("a").ok().flatten().is_some());
        if !on_link && crate::route::in_page_click(ev) {
            let _ = window().location().set_href(href);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, href);
}
