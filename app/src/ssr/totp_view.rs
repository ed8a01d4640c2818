//! The second factor's page (`/account/totp`): rendered on the server only, never hydrated. For a
//! user without a second factor it shows a new secret as a QR code (SVG) and as text, with a form
//! to confirm it with the account's password and a first code (the form carries the secret back:
//! the server keeps nothing until then); once confirmed, the ten recovery codes, shown this once; for an enrolled user, how
//! many recovery codes are left and a form to remove the factor with a current code. Every form
//! posts to the same path (same-origin checked by the server).

use leptos::prelude::*;

use super::shell::{Here, head, top_bar};

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TotpStep {
    /// No second factor yet: a new secret to enrol.
    Start {
        /// The secret in base32.
        secret: String,
        /// The QR code of its `otpauth://` URI, an `<svg>` element made by the server.
        svg: String,
        /// The URI itself (a link for a phone reading this page).
        uri: String,
    },
    /// Just enrolled: the recovery codes, shown once.
    Codes(Vec<String>),
    /// Enrolled: recovery codes left.
    Enrolled {
        /// How many.
        recovery_left: usize,
    },
}

/// The page's content, gathered by the server.
#[derive(Debug, Clone)]
pub struct TotpPage {
    /// The base path (`""` or `/dash`).
    pub base: String,
    /// This response's CSP nonce.
    pub nonce: String,
    /// Who is looking.
    pub user: String,
    /// What to show.
    pub step: TotpStep,
    /// What went wrong with the last form ("That code is not right."), or what it did.
    pub notice: Option<String>,
    /// Whether the notice says something failed (shown as an error, not as a confirmation).
    pub notice_failed: bool,
}

/// The whole document.
pub fn document(page: &TotpPage) -> String {
    let base = page.base.clone();
    let action = format!("{base}/account/totp");
    let view = view! {
        <!DOCTYPE html>
        <html lang="en">
            {head(&base, Some(page.nonce.clone()), "Two-step login · livedash".to_owned())}
            <body class="alerts-page">
                {top_bar(&base, Here::Elsewhere, false)}
                <main class="alerts" id="main">
                    <h1>"Two-step login"</h1>
                    <p class="muted">{format!("Signed in as {}.", page.user)}</p>
                    {page.notice.clone().map(|n| {
                        let class = if page.notice_failed { "notice notice-bad" } else { "notice" };
                        view! { <p class=class role="status" data-testid="notice">{n}</p> }
                    })}
                    {step(&page.step, &action)}
                </main>
            </body>
        </html>
    };
    view.to_html()
}

fn step(step: &TotpStep, action: &str) -> AnyView {
    let action = action.to_owned();
    match step.clone() {
        TotpStep::Start { secret, svg, uri } => view! {
            <section class="alerts-section" aria-labelledby="enrol-heading">
                <h2 id="enrol-heading">"Turn on a second step"</h2>
                <p>"Scan this code with an authenticator app, or type the secret into it, then enter the six-digit code it shows."</p>
                <div class="qr" data-testid="totp-qr" inner_html=svg></div>
                <p>"Secret: " <code data-testid="totp-secret">{secret.clone()}</code></p>
                <p><a href=uri>"Open in an authenticator app on this device"</a></p>
                <form method="post" action=action class="hush-form" data-testid="totp-confirm">
                    <input type="hidden" name="action" value="confirm" />
                    <input type="hidden" name="secret" value=secret />
                    <label for="totp-password">"Your password"</label>
                    <input id="totp-password" type="password" name="password" autocomplete="current-password" required=true />
                    <label for="totp-code">"Code"</label>
                    <input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" size="8" required=true />
                    <button type="submit" class="bar-button">"Turn on"</button>
                </form>
            </section>
        }
        .into_any(),
        TotpStep::Codes(codes) => view! {
            <section class="alerts-section" aria-labelledby="codes-heading">
                <h2 id="codes-heading">"Recovery codes"</h2>
                <p>"The second step is on. Keep these ten codes somewhere safe: each logs you in once without the app. They are shown only now."</p>
                <ul data-testid="recovery-codes">
                    {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                </ul>
            </section>
        }
        .into_any(),
        TotpStep::Enrolled { recovery_left } => view! {
            <section class="alerts-section" aria-labelledby="on-heading">
                <h2 id="on-heading">"The second step is on"</h2>
                <p data-testid="totp-on">{format!("{recovery_left} recovery codes left.")}</p>
                <form method="post" action=action class="hush-form" data-testid="totp-remove">
                    <input type="hidden" name="action" value="remove" />
                    <label for="totp-remove-code">"Current code"</label>
                    <input id="totp-remove-code" name="code" autocomplete="one-time-code" maxlength="64" size="12" required=true />
                    <button type="submit" class="bar-button">"Turn off"</button>
                </form>
            </section>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_shows_its_form_and_escapes_the_user() {
        let page = |step| TotpPage {
            base: "/dash".into(),
            nonce: "n".into(),
            user: "<ann>".into(),
            step,
            notice: None,
            notice_failed: false,
        };
        let start = document(&page(TotpStep::Start {
            secret: "ABC".into(),
            svg: "<svg></svg>".into(),
            uri: "otpauth://x".into(),
        }));
        assert!(
            start.contains(r#"action="/dash/account/totp""#) && start.contains(r#"name="secret" value="ABC""#),
            "{start}"
        );
        assert!(start.contains("<svg></svg>") && start.contains("&lt;ann&gt;"), "{start}");
        assert!(
            start.contains(r#"type="password" name="password" autocomplete="current-password""#),
            "the enrolment asks for the password: {start}"
        );
        let codes = document(&page(TotpStep::Codes(vec!["abcde-fghjk".into()])));
        // No form in the page's content (the top bar's logout form is outside <main>).
        let main = codes.split("<main").nth(1).expect("a <main>");
        assert!(main.contains("abcde-fghjk") && !main.contains("<form"), "{codes}");
        let on = document(&page(TotpStep::Enrolled { recovery_left: 9 }));
        assert!(on.contains("9 recovery codes left") && on.contains(r#"value="remove""#), "{on}");
    }
}
