//! Thresholds and alerts that people notice: a summary in the top bar of how many alerts fire
//! (a link to the Alerts view) and how many cards are in warning and critical, and an `aria-live`
//! announcement when a card crosses into (or out of) warning or critical, or an alert starts
//! firing: once per crossing or firing, not on every sample.

use std::collections::BTreeMap;

use leptos::either::Either;
use leptos::prelude::*;
use livedash::series::Level;

use crate::layout::{Arrangement, card_id};
use crate::model::Model;

/// Every shown card's `(id, label, source, level)`.
fn levels(model: &Model, hidden: &[String]) -> Vec<(String, String, String, Level)> {
    let mut out = Vec::new();
    for (source, src) in &model.sources {
        for key in &src.cards {
            let id = card_id(source, key);
            if hidden.contains(&id) {
                continue;
            }
            if let Some((label, level)) = model.card_level(source, key) {
                out.push((id, label, source.to_string(), level));
            }
        }
    }
    out
}

/// The memo of every shown card's level, shared by the summary and the announcer.
fn use_levels(model: RwSignal<Model>) -> Memo<Vec<(String, String, String, Level)>> {
    if let Some(memo) = use_context::<LevelsMemo>() {
        return memo.0;
    }
    let arrangement = use_context::<Arrangement>();
    let memo = Memo::new(move |_| {
        let hidden = arrangement.map(|a| a.layout.with(|l| l.hidden.clone())).unwrap_or_default();
        model.with(|m| levels(m, &hidden))
    });
    provide_context(LevelsMemo(memo));
    memo
}

#[derive(Clone, Copy)]
struct LevelsMemo(Memo<Vec<(String, String, String, Level)>>);

/// "2 firing" (a link to the Alerts view), then "2 critical · 1 warning", or "All normal" when no
/// card is past a threshold and nothing fires.
#[component]
pub fn Summary(model: RwSignal<Model>) -> impl IntoView {
    let levels = use_levels(model);
    let count = move |level: Level| levels.with(|l| l.iter().filter(|c| c.3 == level).count());
    // Read on every update without a memo: two numbers, cheaper than a memo's code in the bundle.
    let alerts = move || model.with(|m| m.alerts.as_ref().map_or((0, 0), |a| (a.firing, a.pending)));
    let alerts_text = move || match alerts() {
        (0, 0) => "Alerts".to_owned(),
        (0, p) => format!("{p} pending"),
        (f, _) => format!("{f} firing"),
    };
    let alerts_class = move || match alerts() {
        (0, 0) => "sum",
        (0, _) => "sum sum-warn",
        _ => "sum sum-critical",
    };
    view! {
        <div class="summary" data-testid="summary">
            <a class=alerts_class href=format!("{}/alerts", crate::base_path()) rel="external" data-testid="summary-alerts">{alerts_text}</a>
            {move || {
                let (crit, warn) = (count(Level::Critical), count(Level::Warn));
                // "All normal" only when nothing fires either: never beside "1 firing".
                if crit + warn == 0 {
                    Either::Left((alerts().0 == 0).then(|| view! { <span class="sum sum-ok">"All normal"</span> }))
                } else {
                    Either::Right(view! {
                        {(crit > 0).then(|| view! {
                            <span class="sum sum-critical" data-testid="summary-critical">{crit} " critical"</span>
                        })}
                        {(warn > 0).then(|| view! {
                            <span class="sum sum-warn" data-testid="summary-warn">{warn} " warning"</span>
                        })}
                    })
                }
            }}
        </div>
    }
}

/// What changed between two level maps, in words: cards that rose or fell.
pub fn crossings(before: &BTreeMap<String, Level>, now: &[(String, String, String, Level)]) -> Vec<String> {
    now.iter()
        .filter_map(|(id, label, source, level)| {
            let was = before.get(id)?;
            (was != level).then(|| match level {
                Level::Critical => format!("{label} on {source} is critical"),
                Level::Warn if *was < Level::Warn => format!("{label} on {source} is in warning"),
                Level::Warn => format!("{label} on {source} is down to warning"),
                Level::Normal => format!("{label} on {source} is back to normal"),
            })
        })
        .collect()
}

/// Each firing alert instance: `(what identifies this firing, what to say)`.
fn firing(model: &Model) -> Vec<(String, String)> {
    let Some(alerts) = &model.alerts else { return Vec::new() };
    alerts
        .instances
        .iter()
        .filter(|i| i.state == livedash::alerts::AlertState::Firing)
        .map(|i| {
            let series = i.series.as_deref().unwrap_or("");
            let key = format!("{}\u{1f}{}\u{1f}{series}\u{1f}{}", i.rule, i.source, i.since_ms);
            let on = if series.is_empty() { i.source.to_string() } else { format!("{series} on {}", i.source) };
            (key, format!("Alert {} is firing: {on}", i.rule))
        })
        .collect()
}

/// The firings in `now` not in `seen`, in words; `seen` then holds those of `now` (so it stays as
/// small as what fires, and an alert that resolves and fires again is news again: a new `since`).
pub fn new_firings(seen: &mut Vec<String>, now: Vec<(String, String)>) -> Vec<String> {
    let news = now.iter().filter(|(key, _)| !seen.contains(key)).map(|(_, text)| text.clone()).collect();
    *seen = now.into_iter().map(|(key, _)| key).collect();
    news
}

/// A visually hidden live region that says each crossing and each new firing once.
#[component]
pub fn Announcer(model: RwSignal<Model>) -> impl IntoView {
    let levels = use_levels(model);
    let text = RwSignal::new(String::new());
    let count = RwSignal::new(0usize);
    let before = StoredValue::new(None::<BTreeMap<String, Level>>);
    // The firings already there when the page opened are not news.
    let seen = StoredValue::new(model.with_untracked(firing).into_iter().map(|f| f.0).collect::<Vec<_>>());
    Effect::new(move |_| {
        let now = model.with(firing);
        let news = seen.try_update_value(|seen| new_firings(seen, now)).unwrap_or_default();
        if !news.is_empty() {
            text.set(news.join(". "));
            count.update(|c| *c += 1);
        }
    });
    Effect::new(move |_| {
        levels.with(|now| {
            let changes = before.with_value(|b| b.as_ref().map(|b| crossings(b, now)).unwrap_or_default());
            before.set_value(Some(now.iter().map(|(id, _, _, l)| (id.clone(), *l)).collect()));
            if !changes.is_empty() {
                text.set(changes.join(". "));
                count.update(|c| *c += 1);
            }
        });
    });
    view! {
        <div class="visually-hidden" aria-live="polite" role="status" data-testid="announcer" data-count=move || count.get().to_string()>
            {move || text.get()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firing_is_news_once() {
        let mut seen = vec!["old".to_owned()];
        let now = vec![("old".to_owned(), "A".to_owned()), ("new".to_owned(), "B".to_owned())];
        assert_eq!(new_firings(&mut seen, now.clone()), ["B"]);
        assert!(new_firings(&mut seen, now).is_empty(), "the same firing again is not news");
    }

    #[test]
    fn crossings_are_named_once() {
        let row = |id: &str, level| (id.to_owned(), "CPU".to_owned(), "local".to_owned(), level);
        let before = BTreeMap::from([("a".to_owned(), Level::Normal), ("b".to_owned(), Level::Critical)]);
        let now = [row("a", Level::Critical), row("b", Level::Warn), row("new", Level::Critical)];
        assert_eq!(
            crossings(&before, &now),
            ["CPU on local is critical", "CPU on local is down to warning"],
            "a card seen for the first time is not a crossing"
        );
        let same = [row("a", Level::Normal), row("b", Level::Critical)];
        assert!(crossings(&before, &same).is_empty());
    }
}
