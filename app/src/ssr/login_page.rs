//! The login form (`/login`) and its second step (the code of an authenticator app), rendered on
//! the server only and never hydrated: they work before (and without) any WebAssembly, and cost
//! the browser bundle nothing. Everything they need is inside the document (the theme script and
//! [`STYLE`], allowed by their hashes in the page's policy), because the site's files are behind
//! the login. Both themes as the dashboard has them: the system's, or the one chosen on the
//! dashboard (applied before the first paint).
//!
//! Friendly to password managers: `autocomplete="username"` and `"current-password"`, pasting
//! allowed, passwords up to 4096 characters; the code field is `one-time-code`.

use leptos::prelude::*;
use livedash::account::{CodePage, LoginPage};

use super::shell::meta_tags;
use crate::theme::PREPAINT_SCRIPT;

/// The longest password the form takes (the server takes longer ones too).
pub const MAX_PASSWORD: usize = 4096;

/// The pages' style sheet, inside the document (see the module's documentation).
pub const STYLE: &str = "\
:root{color-scheme:light dark;--bg:light-dark(#f6f8fa,#0d1117);--panel:light-dark(#fff,#151b23);\
--border:light-dark(#d0d7de,#2a3340);--text:light-dark(#1f2328,#e6edf3);--muted:light-dark(#57606a,#8b98a8);\
--accent:light-dark(#0969da,#4fa3ff);--on-accent:light-dark(#fff,#0d1117);--crit:light-dark(#a40e26,#f85149);\
--ok:light-dark(#116329,#3fb950)}\
:root[data-theme=light]{color-scheme:light}:root[data-theme=dark]{color-scheme:dark}\
*{box-sizing:border-box}\
html,body{margin:0;background:var(--bg);color:var(--text);\
font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}\
main{max-width:24rem;margin:12vh auto 2rem;padding:0 1rem}\
h1{display:flex;align-items:center;gap:.6rem;font-size:1.3rem;margin:0 0 1rem}\
.logo{width:14px;height:14px;border-radius:4px;background:var(--accent)}\
form{display:grid;gap:.9rem;padding:1.4rem;background:var(--panel);border:1px solid var(--border);border-radius:12px}\
label{display:grid;gap:.3rem;font-weight:600;font-size:.9rem}\
input[type=text],input[type=password]{font:inherit;padding:.5rem .6rem;color:var(--text);background:var(--bg);\
border:1px solid var(--border);border-radius:8px;width:100%}\
input:focus-visible,button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}\
.check{display:flex;align-items:center;gap:.5rem;font-weight:400}\
button{font:inherit;font-weight:600;padding:.55rem;border:0;border-radius:8px;background:var(--accent);\
color:var(--on-accent);cursor:pointer}\
.error{margin:0;padding:.5rem .7rem;border:1px solid var(--crit);border-radius:8px;color:var(--crit)}\
.notice{margin:0 0 1rem;padding:.5rem .7rem;border:1px solid var(--ok);border-radius:8px;color:var(--ok)}\
.muted{color:var(--muted);font-size:.85rem;margin:0}";

/// The login form's document.
pub fn login_document(page: &LoginPage) -> String {
    let action = format!("{}/login", page.base);
    let form = view! {
        {page.notice.clone().map(|n| view! { <p class="notice" role="status">{n}</p> })}
        <form method="post" action=action data-testid="login-form">
            {page.error.clone().map(|e| view! { <p class="error" role="alert" data-testid="login-error">{e}</p> })}
            <label>
                "User name"
                <input type="text" name="username" id="username" autocomplete="username" autocapitalize="none"
                    spellcheck="false" required maxlength="256" autofocus />
            </label>
            <label>
                "Password"
                <input type="password" name="password" id="password" autocomplete="current-password" required
                    maxlength=MAX_PASSWORD.to_string() />
            </label>
            <label class="check">
                <input type="checkbox" name="remember" value="1" />
                {format!("Remember this device ({})", page.remember_for)}
            </label>
            <input type="hidden" name="next" value=page.next.clone() />
            <button type="submit">"Log in"</button>
        </form>
    };
    document("Log in · livedash", form)
}

/// The second step's document: the code of the authenticator app (or a recovery code).
pub fn code_document(page: &CodePage) -> String {
    let action = format!("{}/login/code", page.base);
    let form = view! {
        <form method="post" action=action data-testid="code-form">
            {page.error.clone().map(|e| view! { <p class="error" role="alert" data-testid="login-error">{e}</p> })}
            <p class="muted">"Your password was right. Enter the code your authenticator app shows now, or one of your recovery codes."</p>
            <label>
                "Code"
                <input type="text" name="code" id="code" autocomplete="one-time-code" inputmode="numeric"
                    autocapitalize="none" spellcheck="false" required maxlength="64" autofocus />
            </label>
            <input type="hidden" name="pending" value=page.pending.clone() />
            <button type="submit">"Verify"</button>
        </form>
        <p class="muted"><a href=format!("{}/login", page.base)>"Start again"</a></p>
    };
    document("Log in: code · livedash", form)
}

fn document(title: &'static str, body: impl IntoView + 'static) -> String {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                {meta_tags()}
                // No request for a favicon: the site's files are behind the login.
                <link rel="icon" href="data:," />
                <script inner_html=PREPAINT_SCRIPT></script>
                <style inner_html=STYLE></style>
                <title>{title}</title>
            </head>
            <body>
                <main>
                    <h1><span class="logo" aria-hidden="true"></span>"livedash"</h1>
                    {body}
                </main>
            </body>
        </html>
    }
    .to_html()
}
