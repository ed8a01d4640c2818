//! What every server-rendered page repeats: the `<meta>` tags of the document's head, the head of
//! a page that uses the site's style sheet (theme script, style sheet, icon, title), and the top
//! bar (brand, the pages' links with the current one marked, the logout button), and the frame of
//! their tables (caption, column headings, body). The login form
//! keeps its own head (its style and script inside the document, allowed by their hashes, since
//! the site's files are behind the login) but takes its `<meta>` tags from here.

use leptos::prelude::*;

use crate::theme::PREPAINT_SCRIPT;

/// Which of the top bar's pages is the one shown (marked `aria-current="page"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Here {
    /// The Alerts view.
    Alerts,
    /// The Sessions view.
    Sessions,
    /// The audit view.
    Audit,
    /// A page that is none of the bar's links (the second factor's page).
    Elsewhere,
}

/// The `<meta>` tags that open every server-rendered page's `<head>`.
pub fn meta_tags() -> impl IntoView + use<> {
    view! {
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        // Same-origin form posts then carry this origin (not `null`) for browsers that
        // send no Sec-Fetch-Site.
        <meta name="referrer" content="same-origin" />
    }
}

/// The `<head>` of a page with the site's style sheet: the theme's script (carrying `nonce` when
/// the page's policy allows scripts by nonce, none when it allows the script by its hash), the
/// style sheet, the icon and `title`.
pub fn head(base: &str, nonce: Option<String>, title: String) -> impl IntoView + use<> {
    let css = format!("{base}/pkg/{}.css", crate::OUTPUT_NAME);
    let icon = format!("{base}/favicon.svg");
    view! {
        <head>
            {meta_tags()}
            <script nonce=nonce inner_html=PREPAINT_SCRIPT></script>
            <link rel="stylesheet" href=css />
            <link rel="icon" href=icon type="image/svg+xml" />
            <title>{title}</title>
        </head>
    }
}

/// The top bar of a page with nothing between the brand and the links: [`brand`], then
/// [`pages_nav`].
pub fn top_bar(base: &str, here: Here, audit: bool) -> impl IntoView + use<> {
    view! {
        <header class="topbar">
            {brand()}
            {pages_nav(base, here, audit)}
        </header>
    }
}

/// The top bar's brand: the logo and the name.
pub fn brand() -> impl IntoView + use<> {
    view! {
        <div class="brand">
            <span class="logo" aria-hidden="true"></span>
            "livedash"
        </div>
    }
}

/// The top bar's links: the dashboard, the Alerts and Sessions views and (when `audit`) the audit
/// view, with `here` marked, and the logout button.
pub fn pages_nav(base: &str, here: Here, audit: bool) -> impl IntoView + use<> {
    let current = move |page: Here| (here == page).then_some("page");
    let audit_link = audit.then(|| {
        let test_id = (here != Here::Audit).then_some("audit-link");
        view! {
            <a class="bar-button" href=format!("{base}/audit") data-testid=test_id aria-current=current(Here::Audit)>
                "Audit"
            </a>
        }
    });
    view! {
        <nav class="bar-end" aria-label="Pages">
            <a class="bar-button" href=format!("{base}/")>"Dashboard"</a>
            <a class="bar-button" href=format!("{base}/alerts") aria-current=current(Here::Alerts)>"Alerts"</a>
            <a class="bar-button" href=format!("{base}/sessions") aria-current=current(Here::Sessions)>"Sessions"</a>
            {audit_link}
            {logout_form(base)}
        </nav>
    }
}

/// Whether the server runs with `--login basic`, where there is no session to end: set once at
/// start-up ([`set_basic_login`]). A process-wide flag rather than a field of every page's
/// struct, as the login mode is fixed for the process's life, like the site's base path.
static BASIC_LOGIN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells the server-rendered pages the login mode: under `--login basic` they show no "Log out".
pub fn set_basic_login(basic: bool) {
    BASIC_LOGIN.store(basic, std::sync::atomic::Ordering::Relaxed);
}

/// The top bar's logout button: a plain form, so that it works without any script; none under
/// `--login basic`.
pub fn logout_form(base: &str) -> impl IntoView + use<> {
    let action = format!("{base}/logout");
    (!BASIC_LOGIN.load(std::sync::atomic::Ordering::Relaxed)).then(|| {
        view! {
            <form method="post" action=action class="logout-form">
                <button type="submit" class="bar-button" data-testid="logout">"Log out"</button>
            </form>
        }
    })
}

/// A table of a server-rendered page: `test_id`, a `caption` for screen readers (hidden on
/// screen), the column `headings`, and the body `rows`; `body_id` names the body for a script that
/// merges fresh rows into it.
pub fn table(
    test_id: &'static str,
    caption: &'static str,
    headings: Vec<&'static str>,
    body_id: Option<&'static str>,
    rows: impl IntoView + 'static,
) -> impl IntoView {
    view! {
        <table class="alerts-table" data-testid=test_id>
            <caption class="visually-hidden">{caption}</caption>
            <thead>
                <tr>{headings.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}</tr>
            </thead>
            <tbody id=body_id>{rows}</tbody>
        </table>
    }
}
