//! The Sessions view (`/sessions`): rendered on the server only, never hydrated. The user's
//! previous login (when, from where), their live sessions (device, address, started, last seen,
//! "this device" marked, a revoke button each), "log out everywhere", and their API tokens with a
//! revoke button each; an admin sees and may revoke everyone's. Every button is a plain form POST.

use leptos::prelude::*;
use livedash::account::{SessionRow, SessionsPage, TokenRow};

use super::alerts_rows::time;
use super::shell::{Here, head, table, top_bar};

/// The whole document.
pub fn document(page: &SessionsPage) -> String {
    let base = page.base.clone();
    let whose = if page.admin { "Everyone's sessions" } else { "Your sessions" };
    let tokens_heading = if page.admin { "Everyone's API tokens" } else { "Your API tokens" };
    let last = page.last_login.clone().map_or_else(
        || view! { <span>"none before this one"</span> }.into_any(),
        |(at, place)| view! { <span>{time(at)}" from "{place}</span> }.into_any(),
    );
    let view = view! {
        <!DOCTYPE html>
        <html lang="en">
            {head(&base, None, "Sessions · livedash".to_owned())}
            <body class="alerts-page">
                {top_bar(&base, Here::Sessions, page.admin)}
                <main class="alerts" id="main">
                    <h1>"Sessions"</h1>
                    {page.notice.clone().map(|n| view! { <p class="notice" role="status" data-testid="notice">{n}</p> })}
                    <p data-testid="last-login">
                        {format!("Logged in as {}. Last login: ", page.user)}
                        {last}
                    </p>
                    <section aria-labelledby="sessions-heading" class="alerts-section">
                        <h2 id="sessions-heading">{whose}</h2>
                        {sessions_table(&page.sessions, &base, page.admin)}
                        <form method="post" action=format!("{base}/logout?everywhere=1") class="sessions-actions">
                            <button type="submit" class="bar-button" data-testid="logout-everywhere">
                                "Log out everywhere"
                            </button>
                        </form>
                    </section>
                    <section aria-labelledby="tokens-heading" class="alerts-section">
                        <h2 id="tokens-heading">{tokens_heading}</h2>
                        {tokens_table(&page.tokens, &base, page.admin)}
                    </section>
                    <section aria-labelledby="totp-heading" class="alerts-section">
                        <h2 id="totp-heading">"Two-step login"</h2>
                        <p>
                            <a href=format!("{base}/account/totp") data-testid="totp-link">
                                "Turn on or off the code from an authenticator app"
                            </a>
                        </p>
                    </section>
                </main>
            </body>
        </html>
    };
    view.to_html()
}

fn revoke_form(base: &str, field: &'static str, handle: &str, what: String) -> impl IntoView + use<> {
    view! {
        <form method="post" action=format!("{base}/sessions/revoke") class="test-form">
            <input type="hidden" name=field value=handle.to_owned() />
            <button type="submit" class="link-button" aria-label=what>"Revoke"</button>
        </form>
    }
}

fn sessions_table(rows: &[SessionRow], base: &str, admin: bool) -> impl IntoView + use<> {
    if rows.is_empty() {
        return view! { <p class="empty">"No session (you came in with a password or a token)."</p> }.into_any();
    }
    let rows = rows
        .iter()
        .map(|s| {
            let device = format!("{} on {}", s.browser, s.os);
            let what = format!("Revoke the session of {} on {device} from {}", s.user, s.addr);
            view! {
                <tr data-testid="session-row" data-this=s.this_device.to_string()>
                    {admin.then(|| view! { <td>{s.user.clone()}</td> })}
                    <td>
                        {device}
                        {s.this_device.then(|| view! { <strong class="this-device">" (this device)"</strong> })}
                        {s.remember.then(|| view! { <span class="muted">" · remembered"</span> })}
                    </td>
                    <td class="num">{s.addr.clone()}</td>
                    <td class="num">{time(s.created_ms)}</td>
                    <td class="num">{time(s.seen_ms)}</td>
                    <td>{revoke_form(base, "session", &s.handle, what)}</td>
                </tr>
            }
        })
        .collect_view();
    table("sessions", "Sessions", with_user(admin, ["Device", "Address", "Started", "Last seen", "Action"]), None, rows)
        .into_any()
}

fn tokens_table(rows: &[TokenRow], base: &str, admin: bool) -> impl IntoView + use<> {
    if rows.is_empty() {
        return view! { <p class="empty">"No API token. Make one with "<code>"livedash token create"</code>"."</p> }
            .into_any();
    }
    let rows = rows
        .iter()
        .map(|t| {
            let what = format!("Revoke the token {} of {}", t.name, t.user);
            view! {
                <tr data-testid="token-row">
                    {admin.then(|| view! { <td>{t.user.clone()}</td> })}
                    <td>{t.name.clone()}</td>
                    <td>{t.role.clone()}</td>
                    <td class="num">{time(t.created_ms)}</td>
                    <td class="num">{t.used_ms.map_or_else(|| view! { "never" }.into_any(), |u| time(u).into_any())}</td>
                    <td class="num">{t.expires_ms.map_or_else(|| view! { "never" }.into_any(), |u| time(u).into_any())}</td>
                    <td>{revoke_form(base, "token", &t.handle, what)}</td>
                </tr>
            }
        })
        .collect_view();
    let headings = with_user(admin, ["Name", "Role", "Created", "Last used", "Expires", "Action"]);
    table("tokens", "API tokens", headings, None, rows).into_any()
}

/// A table's headings: a "User" column first for an admin (who sees everyone's), then `headings`.
fn with_user<const N: usize>(admin: bool, headings: [&'static str; N]) -> Vec<&'static str> {
    admin.then_some("User").into_iter().chain(headings).collect()
}
