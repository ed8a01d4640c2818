//! The page below `<body>`: the top bar (summary, wall screen, pause, theme, layout reset,
//! log out, connection badge), the connection problem line, and the cards or the chart the URL names.

use std::sync::Arc;

use leptos::either::Either;
use leptos::prelude::*;

use super::panels::{PinnedPanel, SourcePanel};
use super::summary::{Announcer, Summary};
use crate::chart::{ChartPage, OpenedHere, use_chart_route};
use crate::clock::Clock;
use crate::layout::Arrangement;
use crate::live::Connection;
use crate::model::Model;
use crate::pause::{Pause, PauseToggle};
use crate::route::Query;
use crate::theme::ThemeToggle;

/// The whole page below the `<body>`.
#[component]
pub fn Dashboard(model: RwSignal<Model>, connection: RwSignal<Connection>, pause: Pause) -> impl IntoView {
    let sources = Memo::new(move |_| model.with(|m| m.sources.keys().cloned().collect::<Vec<Arc<str>>>()));
    provide_context(Clock::start(model.with_untracked(|m| m.server_time_ms)));
    let arrangement = Arrangement::new();
    provide_context(arrangement);
    provide_context(OpenedHere(RwSignal::new(false)));
    Query::provide();
    let chart = use_chart_route();
    let base = crate::base_path();
    view! {
        <header class="topbar">
            <div class="brand">
                <span class="logo" aria-hidden="true"></span>
                "livedash"
            </div>
            <Summary model />
            <div class="bar-end">
                <Show when=move || !arrangement.layout.with(|l| l.is_empty())>
                    <button type="button" class="bar-button" data-testid="reset-layout" on:click=move |_| arrangement.update(|l| *l = Default::default())>
                        "Reset layout"
                    </button>
                </Show>
                {(crate::fleet_hosts() > 0).then(|| view! {
                    <a class="bar-button kiosk-enter" rel="external" data-testid="fleet-link" href=format!("{base}/fleet")>"Fleet"</a>
                })}
                <a class="bar-button kiosk-enter" rel="external" href=format!("{base}/?kiosk")>"Wall screen"</a>
                <a class="bar-button kiosk-exit" rel="external" href=format!("{base}/")>"Exit wall screen"</a>
                <PauseToggle model pause />
                <ThemeToggle />
                // A plain form: logging out works whatever state the app is in.
                <form method="post" action=format!("{base}/logout") class="logout-form account">
                    <button type="submit" class="bar-button" data-testid="logout">"Log out"</button>
                </form>
                <ConnectionBadge connection />
            </div>
        </header>
        <ConnectionProblem connection />
        <StoreProblem model />
        <ClusterProblem model />
        <Announcer model />
        <main class="sources">
            {move || match chart.get() {
                Some(route) => Either::Left(view! { <ChartPage model route /> }),
                None => Either::Right(view! {
                    <Show when=move || sources.with(Vec::is_empty)>
                        <p class="empty">"No data yet: waiting for the first sample."</p>
                    </Show>
                    <PinnedPanel model />
                    <For each=move || sources.get() key=Arc::clone let:source>
                        <SourcePanel model source />
                    </For>
                }),
            }}
        </main>
    }
}

/// Why history is not being saved, in a line under the top bar, while it is not (live updates
/// go on regardless).
#[component]
fn StoreProblem(model: RwSignal<Model>) -> impl IntoView {
    let problem = Memo::new(move |_| {
        model.with(|m| m.store.as_ref().filter(|s| !s.saving).map(|s| s.error.clone().unwrap_or_default()))
    });
    view! { <ProblemLine problem lead="History is not being saved. " test_id="store-problem" /> }
}

/// Why this server fetches every source itself instead of sharing one fetch with the other
/// servers (Redis unreachable), while it does (live updates go on regardless).
#[component]
fn ClusterProblem(model: RwSignal<Model>) -> impl IntoView {
    let problem = Memo::new(move |_| {
        model.with(|m| m.cluster.as_ref().filter(|c| !c.shared).map(|c| c.error.clone().unwrap_or_default()))
    });
    view! { <ProblemLine problem lead="Shared fetching is unavailable: this server fetches by itself. " test_id="cluster-problem" /> }
}

/// A problem that does not stop live updates, in a line under the top bar while there is one.
#[component]
fn ProblemLine(problem: Memo<Option<String>>, lead: &'static str, test_id: &'static str) -> impl IntoView {
    view! {
        <Show when=move || problem.with(Option::is_some)>
            <p class="store-problem" role="status" data-testid=test_id>
                <strong>{lead}</strong>
                "Live updates go on. "
                {move || problem.get().unwrap_or_default()}
            </p>
        </Show>
    }
}

/// Live, connecting or reconnecting: always visible at the top right (the fleet pages show it too).
#[component]
pub fn ConnectionBadge(connection: RwSignal<Connection>) -> impl IntoView {
    let now = use_context::<Clock>().map_or_else(|| Signal::from(0), |c| c.now.into());
    view! {
        <div
            class=move || format!("conn conn-{}", connection.with(Connection::class))
            data-testid="connection"
            data-state=move || connection.with(Connection::class)
            role="status"
            aria-live="polite"
            title=move || connection.with(Connection::detail)
        >
            <span class="dot" aria-hidden="true"></span>
            <span class="conn-text">{move || connection.with(|c| c.text_at(now.get()))}</span>
        </div>
    }
}

/// Why the page is not live, in a line under the top bar, once reconnecting has failed more than
/// once (a single dropped socket that comes straight back is not worth a banner).
#[component]
fn ConnectionProblem(connection: RwSignal<Connection>) -> impl IntoView {
    let problem = move || connection.with(|c| c.lasting_problem().map(str::to_owned));
    view! {
        <Show when=move || problem().is_some()>
            <p class="conn-problem" role="alert" data-testid="connection-problem">
                <strong>"Live updates paused. "</strong>
                {move || problem().unwrap_or_default()}
            </p>
        </Show>
    }
}
