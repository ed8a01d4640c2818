//! One panel per source (its name, host, status, age of its last value, interval and cards), and
//! the panel of cards the person pinned to the top.

use std::sync::Arc;

use leptos::prelude::*;
use livedash::SourceState;
use livedash::series::{self, Unit};

use super::cards::Card;
use crate::clock::{Clock, age};
use crate::layout::{Arrangement, card_id};
use crate::model::Model;

/// The cards pinned to the top, from any source, in the order they were pinned.
#[component]
pub fn PinnedPanel(model: RwSignal<Model>) -> impl IntoView {
    let arrangement = use_context::<Arrangement>().unwrap_or_default();
    let pinned = Memo::new(move |_| {
        arrangement.layout.with(|l| {
            l.pinned
                .iter()
                .filter_map(|id| {
                    let (source, key) = id.split_once('/')?;
                    model
                        .with(|m| m.sources.get(source).is_some_and(|s| s.cards.iter().any(|c| c == key)))
                        .then(|| (Arc::<str>::from(source), key.to_owned()))
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Show when=move || !pinned.with(Vec::is_empty)>
            <section class="source pinned" aria-labelledby="pinned-title">
                <header class="source-head">
                    <h2 id="pinned-title">"Pinned"</h2>
                </header>
                <div class="cards">
                    <For each=move || pinned.get() key=|(s, k)| card_id(s, k) let:item>
                        <Card model source=item.0 key=item.1 show_source=true />
                    </For>
                </div>
            </section>
        </Show>
    }
}

/// One source: its name, host, status and cards.
#[component]
pub fn SourcePanel(model: RwSignal<Model>, source: Arc<str>) -> impl IntoView {
    let arrangement = use_context::<Arrangement>().unwrap_or_default();
    let all_keys = Memo::new({
        let source = source.clone();
        move |_| model.with(|m| m.card_keys(&source))
    });
    let keys = Memo::new({
        let source = source.clone();
        move |_| {
            arrangement.layout.with(|l| {
                all_keys.with(|keys| {
                    keys.iter()
                        .filter(|k| {
                            let id = card_id(&source, k);
                            !l.hidden.contains(&id) && !l.pinned.contains(&id)
                        })
                        .cloned()
                        .collect::<Vec<_>>()
                })
            })
        }
    });
    let hidden_count = Memo::new({
        let source = source.clone();
        move |_| {
            arrangement
                .layout
                .with(|l| all_keys.with(|keys| keys.iter().filter(|k| l.hidden.contains(&card_id(&source, k))).count()))
        }
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
    let any_hidden = move || hidden_count.get() > 0;
    let show_all = {
        let source = source.clone();
        move |_| arrangement.update(|l| l.show_all(&source))
    };
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
                                SourceState::Gone => ("stale", "gone"),
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
                <Show when=any_hidden>
                    <button type="button" class="link-button" data-testid="show-hidden" on:click=show_all.clone()>
                        {move || format!("{} hidden · show", hidden_count.get())}
                    </button>
                </Show>
            </header>
            <div class="cards">
                <For each=move || keys.get() key=String::clone let:key>
                    <Card model source=source.clone() key show_source=false />
                </For>
            </div>
        </section>
    }
}
