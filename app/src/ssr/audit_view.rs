//! The audit view (`/audit`, admins only): rendered on the server only, never hydrated. The
//! newest records of the audit log (logins, failures, throttles, logouts, revocations, tokens,
//! second factors, silences, acknowledgements, tests, role refusals), newest first, filtered by
//! kind and user with a plain GET form; times in UTC. The server gathers the rows
//! ([`AuditPage`]); this file only draws them.

use leptos::prelude::*;

use super::alerts_rows::time;
use super::shell::{Here, head, table, top_bar};

/// One record as the view shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditLine {
    /// When (ms since the epoch).
    pub ts_ms: u64,
    /// What (`login`, `login_failed`, ...).
    pub kind: String,
    /// Who, when known.
    pub user: Option<String>,
    /// From where, when known.
    pub addr: Option<String>,
    /// The rest, as `key: value` pairs.
    pub detail: Vec<(String, String)>,
}

/// What the audit view shows, gathered by the server.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    /// The base path (`""` or `/dash`).
    pub base: String,
    /// This response's CSP nonce, for the theme's script.
    pub nonce: String,
    /// Every kind's word, for the filter.
    pub kinds: Vec<&'static str>,
    /// The kind filtered on.
    pub kind: Option<String>,
    /// The user filtered on.
    pub who: Option<String>,
    /// The records, newest first.
    pub lines: Vec<AuditLine>,
    /// How many the view shows at most.
    pub limit: usize,
}

/// The whole document.
pub fn document(page: &AuditPage) -> String {
    let base = page.base.clone();
    let filtered = page.kind.is_some() || page.who.is_some();
    let count = match (page.lines.len(), filtered) {
        (0, true) => "No record matches.".to_owned(),
        (0, false) => "No record yet.".to_owned(),
        (n, _) if n >= page.limit => format!("The newest {n} records, newest first."),
        (n, _) => format!("{n} record{}, newest first.", if n == 1 { "" } else { "s" }),
    };
    let view = view! {
        <!DOCTYPE html>
        <html lang="en">
            {head(&base, Some(page.nonce.clone()), "Audit log · livedash".to_owned())}
            <body class="alerts-page">
                {top_bar(&base, Here::Audit, true)}
                <main class="alerts" id="main">
                    <h1>"Audit log"</h1>
                    {filter_form(page)}
                    <p class="muted" data-testid="audit-count">{count}</p>
                    {(!page.lines.is_empty()).then(|| records(&page.lines))}
                    <p class="muted">
                        "Also written, one JSON line per record, to audit.log in the server's data directory."
                    </p>
                </main>
            </body>
        </html>
    };
    view.to_html()
}

fn filter_form(page: &AuditPage) -> impl IntoView + use<> {
    let selected = page.kind.clone().unwrap_or_default();
    let options = page
        .kinds
        .iter()
        .map(|k| {
            let word = (*k).to_owned();
            view! { <option value=word.clone() selected=selected == word>{word.replace('_', " ")}</option> }
        })
        .collect_view();
    view! {
        <form method="get" action=format!("{}/audit", page.base) class="hush-form" role="search" data-testid="audit-filter">
            <label for="audit-kind">"What"</label>
            <select id="audit-kind" name="kind">
                <option value="" selected=selected.is_empty()>"everything"</option>
                {options}
            </select>
            <label for="audit-user">"User"</label>
            <input id="audit-user" name="user" value=page.who.clone().unwrap_or_default() maxlength="128" size="16" />
            <button type="submit" class="bar-button">"Show"</button>
        </form>
    }
}

/// The records, newest first.
fn records(lines: &[AuditLine]) -> impl IntoView + use<> {
    let rows = lines
        .iter()
        .map(|l| {
            let detail = l.detail.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
            view! {
                <tr data-kind=l.kind.clone()>
                    <td class="num">{time(l.ts_ms)}</td>
                    <td class="state-word">{l.kind.replace('_', " ")}</td>
                    <td>{l.user.clone().unwrap_or_else(|| "–".to_owned())}</td>
                    <td class="num">{l.addr.clone().unwrap_or_else(|| "–".to_owned())}</td>
                    <td class="answer">{detail}</td>
                </tr>
            }
        })
        .collect_view();
    let headings = vec!["When", "What", "Who", "From", "Detail"];
    table("audit-log", "Audit records, newest first", headings, None, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_drawn_escaped_with_the_filter_kept() {
        let page = AuditPage {
            base: "/dash".into(),
            kinds: vec!["login", "login_failed"],
            kind: Some("login_failed".into()),
            who: Some("<b>".into()),
            lines: vec![AuditLine {
                ts_ms: 1_000,
                kind: "login_failed".into(),
                user: Some("<b>".into()),
                addr: Some("192.0.2.1".into()),
                detail: vec![("via".into(), "basic".into())],
            }],
            limit: 200,
            ..AuditPage::default()
        };
        let html = document(&page);
        assert!(html.contains(r#"action="/dash/audit""#), "{html}");
        assert!(html.contains("&lt;b&gt;") && !html.contains("<b>"), "{html}");
        assert!(html.contains("login failed") && html.contains("via: basic") && html.contains("192.0.2.1"), "{html}");
        assert!(html.contains("1 record, newest first."), "{html}");
        assert!(html.contains(r#"<option value="login_failed" selected"#), "{html}");
        let none = document(&AuditPage { lines: Vec::new(), ..page });
        assert!(none.contains("No record matches.") && !none.contains("<table"), "{none}");
    }
}
