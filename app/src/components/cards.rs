//! One card per series (or group of series): a label that opens the card's chart, its alert when
//! one fires or is pending (in words: state and rule), the value (or each member's, or a row of
//! bars for percentages), a caption, a sparkline, and controls to pin the card to the top or hide
//! it. The card's structure is built once per shape; a sample only
//! changes its texts, its path data and its level class.

use std::sync::Arc;

use leptos::prelude::*;
use livedash::series::Level;

use crate::card::{CardView, SPARK_H, SPARK_W};
use crate::chart::{OpenedHere, chart_query, use_kiosk};
use crate::layout::{Arrangement, card_id};
use crate::model::Model;
use crate::route::{in_page_click, use_query};

/// What a card's markup depends on: changes rarely, so the card is rebuilt only then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    value: bool,
    caption: bool,
    members: usize,
    bars: usize,
    spark: bool,
}

fn shape(c: &CardView) -> Shape {
    Shape {
        value: c.value.is_some(),
        caption: c.caption.is_some(),
        members: c.members.len(),
        bars: c.bars.len(),
        spark: c.spark.is_some(),
    }
}

/// One card.
#[component]
pub fn Card(model: RwSignal<Model>, source: Arc<str>, key: String, show_source: bool) -> impl IntoView {
    let id = card_id(&source, &key);
    let kiosk = use_kiosk();
    let href = chart_query(
        &source,
        &key,
        &crate::chart::range::Range::Last(crate::chart::range::DEFAULT),
        kiosk.get_untracked(),
    );
    let source_name = show_source.then(|| source.to_string());
    let data_series = key.clone();
    let fallback = key.clone();
    let card = Memo::new(move |_| model.with(|m| m.card(&source, &key)));
    let shape = Memo::new(move |_| card.with(|c| c.as_ref().map(shape)));
    let label = card.with_untracked(|c| c.as_ref().map_or(fallback, |c| c.label.clone()));
    let arrangement = use_context::<Arrangement>().unwrap_or_default();
    let opened = use_context::<OpenedHere>();
    let query = use_query();
    let pinned = {
        let id = id.clone();
        move || arrangement.layout.with(|l| l.pinned.contains(&id))
    };
    let toggle_pin = {
        let id = id.clone();
        move |_| arrangement.update(|l| l.toggle_pin(&id))
    };
    let hide = move |_| arrangement.update(|l| l.hide(&id));
    let level = move || card.with(|c| c.as_ref().map_or(Level::Normal, |c| c.level).class());
    let pin_label = format!("Pin {label} to the top");
    let hide_label = format!("Hide {label}");
    view! {
        <article class=move || format!("card level-{}", level()) data-series=data_series data-level=level>
            <h3 class="card-label">
                <a class="card-open" href=href.clone() on:click=move |ev| {
                    if in_page_click(&ev) {
                        ev.prevent_default();
                        if let Some(o) = opened {
                            o.0.set(true);
                        }
                        query.go(&href, false);
                    }
                }>
                    {label.clone()}
                </a>
                {source_name.map(|s| view! { <span class="card-source">{s}</span> })}
            </h3>
            <div class="card-tools">
                <button type="button" class="tool" title=pin_label.clone() aria-label=pin_label aria-pressed=move || if pinned() { "true" } else { "false" } on:click=toggle_pin>
                    "Pin"
                </button>
                <button type="button" class="tool" title=hide_label.clone() aria-label=hide_label on:click=hide>
                    "Hide"
                </button>
            </div>
            // Empty (and not shown) without an alert: the card's structure does not change with it.
            <p class=move || card.with(|c| alert_class(c.as_ref().map_or("", |c| &c.alert))) data-testid="card-alert">
                {move || card.with(|c| c.as_ref().map(|c| c.alert.clone()).unwrap_or_default())}
            </p>
            {move || shape.get().map(|s| view! { <CardBody card shape=s /> })}
        </article>
    }
}

/// The class of a card's alert line: its state's colour repeats its first word.
fn alert_class(alert: &str) -> &'static str {
    if alert.starts_with("Firing") { "card-alert alert-firing" } else { "card-alert alert-pending" }
}

/// The card's value, members or bars, caption and sparkline, for one shape.
#[component]
fn CardBody(card: Memo<Option<CardView>>, shape: Shape) -> impl IntoView {
    let read = move |f: fn(&CardView) -> String| move || card.with(|c| c.as_ref().map(f).unwrap_or_default());
    let value = shape.value.then(|| {
        view! {
            <div class="card-value" data-testid="value">
                <span class="num">{read(|c| c.value.as_ref().map(|v| v.value.clone()).unwrap_or_default())}</span>
                <span class="unit">{read(|c| c.value.as_ref().map(|v| v.unit.clone()).unwrap_or_default())}</span>
                {shape.caption.then(|| view! { <span class="caption">{read(|c| c.caption.clone().unwrap_or_default())}</span> })}
            </div>
        }
    });
    let members = (shape.members > 0).then(|| {
        let member = move |i: usize, f: fn(&crate::card::MemberView) -> String| {
            move || card.with(|c| c.as_ref().and_then(|c| c.members.get(i)).map(f).unwrap_or_default())
        };
        view! {
            <div class="card-values" data-testid="value">
                {(0..shape.members)
                    .map(|i| {
                        view! {
                            <span class="member">
                                <span class="num">{member(i, |m| m.value.value.clone())}</span>
                                <span class="unit">{member(i, |m| m.value.unit.clone())}</span>
                                <span class="index">{member(i, |m| m.label.clone())}</span>
                            </span>
                        }
                    })
                    .collect_view()}
            </div>
        }
    });
    let bars = (shape.bars > 0).then(|| {
        let bar = move |i: usize| card.with(|c| c.as_ref().and_then(|c| c.bars.get(i).cloned()));
        view! {
            <svg
                class="bars"
                viewBox=format!("0 0 {} 100", shape.bars * 10)
                preserveAspectRatio="none"
                role="img"
                aria-label=format!("{} bars, one per member", shape.bars)
            >
                {(0..shape.bars)
                    .map(|i| {
                        let h = move || bar(i).map_or(2.0, |b| b.0.max(2.0));
                        view! {
                            <rect class="track" x=format!("{}", i * 10 + 1) y="0" width="8" height="100"></rect>
                            <rect
                                class=move || format!("bar level-{}", bar(i).map_or("normal", |b| b.1.class()))
                                x=format!("{}", i * 10 + 1)
                                y=move || format!("{:.1}", 100.0 - h())
                                width="8"
                                height=move || format!("{:.1}", h())
                            >
                                <title>{move || bar(i).map(|b| b.2).unwrap_or_default()}</title>
                            </rect>
                        }
                    })
                    .collect_view()}
            </svg>
        }
    });
    let spark = shape.spark.then(|| {
        let path = move |area: bool| {
            move || {
                card.with(|c| {
                    c.as_ref()
                        .and_then(|c| c.spark.as_ref())
                        .map(|s| if area { s.1.clone() } else { s.0.clone() })
                        .unwrap_or_default()
                })
            }
        };
        view! {
            <svg class="spark" viewBox=format!("0 0 {SPARK_W} {SPARK_H}") preserveAspectRatio="none" aria-hidden="true">
                <path class="spark-area" d=path(true)></path>
                <path class="spark-line" d=path(false) vector-effect="non-scaling-stroke"></path>
            </svg>
        }
    });
    view! { {value} {members} {bars} {spark} }
}
