//! The dashboard's parts: the top bar with the connection badge, one panel per source, one card
//! per series (or group of series) with its value and a sparkline.
//!
//! Everything is derived from the [`Model`] signal through memos, so a sample re-renders only the
//! text and paths that changed, and the server and the browser render the same HTML.

use std::sync::Arc;

use leptos::prelude::*;
use livedash::SourceState;
use livedash::series::{self, Unit};

use crate::clock::{Clock, age};
use crate::live::Connection;
use crate::model::{CardView, Model};
use crate::pause::{Pause, PauseToggle};
use crate::theme::ThemeToggle;

/// The whole page below the `<body>`.
#[component]
pub fn Dashboard(model: RwSignal<Model>, connection: RwSignal<Connection>, pause: Pause) -> impl IntoView {
    let sources = Memo::new(move |_| model.with(|m| m.sources.keys().cloned().collect::<Vec<Arc<str>>>()));
    provide_context(Clock::start(model.with_untracked(|m| m.server_time_ms)));
    view! {
        <header class="topbar">
            <div class="brand">
                <span class="logo" aria-hidden="true"></span>
                "livedash"
            </div>
            <div class="bar-end">
                <a class="bar-button kiosk-enter" rel="external" href=format!("{}/?kiosk", crate::base_path())>"Wall screen"</a>
                <a class="bar-button kiosk-exit" rel="external" href=format!("{}/", crate::base_path())>"Exit wall screen"</a>
                <PauseToggle model pause />
                <ThemeToggle />
                <ConnectionBadge connection />
            </div>
        </header>
        <ConnectionProblem connection />
        <main class="sources">
            <Show when=move || sources.with(Vec::is_empty)>
                <p class="empty">"No data yet: waiting for the first sample."</p>
            </Show>
            <For each=move || sources.get() key=Arc::clone let:source>
                <SourcePanel model source />
            </For>
        </main>
    }
}

/// Live, connecting or reconnecting: always visible at the top right.
#[component]
fn ConnectionBadge(connection: RwSignal<Connection>) -> impl IntoView {
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

/// One source: its name, host, status and cards.
#[component]
fn SourcePanel(model: RwSignal<Model>, source: Arc<str>) -> impl IntoView {
    let keys = Memo::new({
        let source = source.clone();
        move |_| model.with(|m| m.card_keys(&source))
    });
    let host = Memo::new({
        let source = source.clone();
        move |_| model.with(|m| m.sources.get(&source).and_then(|s| s.host.clone()))
    });
    let state = Memo::new({
        let source = source.clone();
        move |_| {
            model.with(|m| m.sources.get(&source).and_then(|s| s.status.as_ref()).map(|s| (s.state, s.error.clone())))
        }
    });
    let interval = model.with_untracked(|m| m.interval_ms.get(&*source).copied());
    let name = source.to_string();
    let old = move || state.with(|s| s.as_ref().is_some_and(|(st, _)| *st != SourceState::Ok));
    let last_ts = Memo::new({
        let source = source.clone();
        move |_| model.with(|m| m.sources.get(&source).map_or(0, |s| s.last_ts_ms))
    });
    let now = use_context::<Clock>().map_or_else(|| Signal::from(0), |c| c.now.into());
    view! {
        <section class=move || if old() { "source source-old" } else { "source" } data-source=name.clone()>
            <header class="source-head">
                <h2>{name.clone()}</h2>
                {move || host.get().map(|h| view! { <span class="host">{h}</span> })}
                {move || {
                    state
                        .get()
                        .map(|(st, err)| {
                            let (class, text) = match st {
                                SourceState::Ok => ("ok", "ok"),
                                SourceState::Failing => ("failing", "failing"),
                                SourceState::Stale => ("stale", "stale"),
                            };
                            view! {
                                <span class=format!("pill pill-{class}") title=err.clone().unwrap_or_default()>
                                    {text}
                                </span>
                                {err.map(|e| view! { <span class="source-error">{e}</span> })}
                            }
                        })
                }}
                <Show when=move || old() && (last_ts.get() != 0)>
                    <span class="age" data-testid="age">
                        "last value " {move || age(now.get(), last_ts.get())} " ago"
                    </span>
                </Show>
                {interval
                    .map(|ms| {
                        view! {
                            <span class="interval">
                                "every " {series::format(ms as f64, Unit::Millis).to_string()}
                            </span>
                        }
                    })}
            </header>
            <div class="cards">
                <For each=move || keys.get() key=String::clone let:key>
                    <Card model source=source.clone() key />
                </For>
            </div>
        </section>
    }
    .into_any()
}

/// One series (or group): label, current value, sparkline, coloured by threshold.
#[component]
fn Card(model: RwSignal<Model>, source: Arc<str>, key: String) -> impl IntoView {
    let card = Memo::new({
        let key = key.clone();
        move |_| model.with(|m| m.card(&source, &key))
    });
    let label = card.with_untracked(|c| c.as_ref().map(|c| c.label.clone()).unwrap_or_default());
    view! {
        <article
            class=move || card.with(|c| format!("card level-{}", c.as_ref().map_or("normal", |c| c.level.class())))
            data-series=key
        >
            <h3 class="card-label">{label}</h3>
            {move || card.get().map(|c| view! { <CardBody card=c /> })}
        </article>
    }
    .into_any()
}

/// The value and sparkline of a card.
#[component]
fn CardBody(card: CardView) -> impl IntoView {
    let unit = card.unit;
    let value = if let [(_, x)] = card.latest.as_slice() {
        let f = series::format(*x, unit);
        view! {
            <div class="card-value" data-testid="value">
                <span class="num">{f.value}</span>
                <span class="unit">{f.unit}</span>
            </div>
        }
        .into_any()
    } else if unit == Unit::Percent {
        view! { <Bars values=card.latest.iter().map(|(_, x)| *x).collect() /> }.into_any()
    } else {
        view! {
            <div class="card-values" data-testid="value">
                {card
                    .latest
                    .iter()
                    .map(|(name, x)| {
                        let f = series::format(*x, unit);
                        let index = series::group_of(name).map(|(_, i)| i).unwrap_or_default();
                        view! {
                            <span class="member">
                                <span class="num">{f.value}</span>
                                <span class="unit">{f.unit}</span>
                                <span class="index">{index}</span>
                            </span>
                        }
                    })
                    .collect_view()}
            </div>
        }
        .into_any()
    };
    view! {
        {value}
        <Sparkline points=card.points unit />
    }
}

/// Percentages of a group (CPU cores) as a row of bars.
#[component]
fn Bars(values: Vec<f64>) -> impl IntoView {
    let mean = if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 };
    let f = series::format(mean, Unit::Percent);
    view! {
        <div class="card-value" data-testid="value">
            <span class="num">{f.value}</span>
            <span class="unit">{f.unit}</span>
            <span class="caption">"mean of " {values.len()}</span>
        </div>
        <svg
            class="bars"
            viewBox=format!("0 0 {} 100", values.len().max(1) * 10)
            preserveAspectRatio="none"
            role="img"
            aria-label=format!("{} bars, one per member", values.len())
        >
            {values
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    let level = series::Level::of(x, Unit::Percent).class();
                    let h = x.clamp(2.0, 100.0);
                    view! {
                        <rect class="track" x=format!("{}", i * 10 + 1) y="0" width="8" height="100"></rect>
                        <rect
                            class=format!("bar level-{level}")
                            x=format!("{}", i * 10 + 1)
                            y=format!("{:.1}", 100.0 - h)
                            width="8"
                            height=format!("{h:.1}")
                        >
                            <title>{series::format(x, Unit::Percent).to_string()}</title>
                        </rect>
                    }
                })
                .collect_view()}
        </svg>
    }
}

/// The sparkline's drawing area, in SVG user units.
const SPARK_W: f64 = 100.0;
const SPARK_H: f64 = 28.0;

/// A series' recent history as a line with a filled area under it.
#[component]
fn Sparkline(points: Vec<(u64, f64)>, unit: Unit) -> impl IntoView {
    let (line, area) = spark_paths(&points, unit);
    view! {
        <svg
            class="spark"
            viewBox=format!("0 0 {SPARK_W} {SPARK_H}")
            preserveAspectRatio="none"
            aria-hidden="true"
        >
            <path class="spark-area" d=area></path>
            <path class="spark-line" d=line vector-effect="non-scaling-stroke"></path>
        </svg>
    }
}

/// SVG path data for the line and the area under it. Percentages use a fixed 0–100 scale; other
/// units scale to the window's own range.
pub fn spark_paths(points: &[(u64, f64)], unit: Unit) -> (String, String) {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (String::new(), String::new());
    };
    let (lo, hi) = if unit == Unit::Percent {
        (0.0, 100.0)
    } else {
        let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &(_, y)| (lo.min(y), hi.max(y)));
        if (hi - lo).abs() < f64::EPSILON { (lo - 1.0, hi + 1.0) } else { (lo, hi) }
    };
    let span_t = (last.0 - first.0).max(1) as f64;
    let xy = |&(t, y): &(u64, f64)| {
        let x = if points.len() == 1 { SPARK_W } else { (t - first.0) as f64 / span_t * SPARK_W };
        let y = SPARK_H - ((y - lo) / (hi - lo)).clamp(0.0, 1.0) * (SPARK_H - 2.0) - 1.0;
        (x, y)
    };
    let mut line = String::with_capacity(points.len() * 12);
    for (i, p) in points.iter().enumerate() {
        let (x, y) = xy(p);
        line.push_str(&format!("{}{x:.1},{y:.1}", if i == 0 { 'M' } else { 'L' }));
    }
    let (x0, _) = xy(first);
    let (x1, _) = xy(last);
    let area = format!("{line}L{x1:.1},{SPARK_H}L{x0:.1},{SPARK_H}Z");
    (line, area)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_spans_the_box() {
        let (line, area) = spark_paths(&[(0, 0.0), (500, 50.0), (1000, 100.0)], Unit::Percent);
        assert_eq!(line, "M0.0,27.0L50.0,14.0L100.0,1.0");
        assert!(area.starts_with(&line) && area.ends_with('Z'));
    }

    #[test]
    fn flat_and_single_point_sparklines_draw_something() {
        let (line, _) = spark_paths(&[(5, 3.0)], Unit::Plain);
        assert_eq!(line, "M100.0,14.0");
        let (line, _) = spark_paths(&[(0, 3.0), (10, 3.0)], Unit::Plain);
        assert_eq!(line, "M0.0,14.0L100.0,14.0");
        assert_eq!(spark_paths(&[], Unit::Plain), (String::new(), String::new()));
    }
}
