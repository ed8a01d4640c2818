//! The Alerts view's silence form for one alert, opened by a message's silence link
//! (`/alerts?silence=RULE&source=S&series=X`): the view shows the form filled in and focused;
//! only its POST (to `/api/alerts/silence`, same-origin and by a user who may act) silences.
//! Outside the part the page refreshes, so nothing disturbs it while it is filled in.

use leptos::prelude::*;

/// The alert a silence link names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SilenceAsk {
    /// The rule.
    pub rule: String,
    /// The source (`None`: every source of the rule).
    pub source: Option<String>,
    /// The series (`None`: every series of the rule on the source).
    pub series: Option<String>,
    /// Whether a rule of that name exists.
    pub known: bool,
}

/// The form, for a user who may act; for a viewer, why there is none.
pub fn silence_section(ask: &SilenceAsk, base: &str, can_write: bool) -> impl IntoView + use<> {
    let mut name = ask.rule.clone();
    if let Some(source) = &ask.source {
        name.push_str(&format!(" on {source}"));
    }
    if let Some(series) = &ask.series {
        name.push_str(&format!(" · {series}"));
    }
    let body = match (ask.known, can_write) {
        (false, _) => view! { <p class="empty">{format!("No rule is named “{}”.", ask.rule)}</p> }.into_any(),
        (true, false) => {
            view! { <p class="muted">"You are a read-only user: ask someone who may act to silence it."</p> }.into_any()
        }
        (true, true) => view! {
            <form method="post" action=format!("{base}/api/alerts/silence") class="hush-form" data-testid="silence-form">
                <input type="hidden" name="rule" value=ask.rule.clone() />
                <input type="hidden" name="source" value=ask.source.clone().unwrap_or_default() />
                <input type="hidden" name="series" value=ask.series.clone().unwrap_or_default() />
                <label for="silence-link-for">"For"</label>
                <input id="silence-link-for" name="for" value="1h" placeholder="30m, 2h, 1d" size="8" autofocus=true />
                <label for="silence-link-comment">"Comment"</label>
                <input id="silence-link-comment" name="comment" maxlength="1000" size="24" />
                <button type="submit" class="bar-button">"Silence"</button>
            </form>
        }
        .into_any(),
    };
    view! {
        <section aria-labelledby="silence-heading" class="alerts-section silence-link" id="silence">
            <h2 id="silence-heading">{format!("Silence {name}")}</h2>
            {body}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_filled_in_for_an_editor_only() {
        let ask =
            SilenceAsk { rule: "hot <x>".into(), source: Some("up".into()), series: Some("temp".into()), known: true };
        let html = silence_section(&ask, "/dash", true).to_html();
        assert!(html.contains(r#"action="/dash/api/alerts/silence""#), "{html}");
        assert!(html.contains(r#"name="rule" value="hot &lt;x&gt;""#) && html.contains(r#"value="temp""#), "{html}");
        assert!(html.contains("Silence hot &lt;x&gt; on up · temp") && html.contains("autofocus"), "{html}");
        let viewer = silence_section(&ask, "/dash", false).to_html();
        assert!(!viewer.contains("<form") && viewer.contains("read-only"), "{viewer}");
        let unknown = silence_section(&SilenceAsk { known: false, ..ask }, "", true).to_html();
        assert!(!unknown.contains("<form") && unknown.contains("No rule"), "{unknown}");
    }
}
