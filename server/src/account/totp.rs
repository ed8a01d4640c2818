//! `/account/totp`: the signed-in user's second factor. `GET` shows a new secret to enrol (QR code
//! and text) or, once enrolled, the recovery codes left and the removal form. `POST` (same-origin,
//! form-encoded `action=confirm&secret=..&code=..&password=..` or `action=remove&code=..`)
//! confirms an enrolment with the account's password and a first code (then shows the ten recovery
//! codes once) or removes the factor with a current code or a recovery code. The password is
//! checked as a login's is ([`crate::auth::Auth::check_password`]: the same budgets, 429 past
//! them), so that a stolen session cannot put a factor of its own on an account that had none; a
//! wrong one changes nothing and says so. Removal codes spend the password budgets too. Not for
//! API tokens: a token is for scripts, and must not be able to change how its user logs in.

use axum::extract::{Form, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::Account;
use crate::audit::{AuditEvent, AuditKind};
use crate::auth::attempts::CodeError;
use crate::auth::{AuthError, Principal, Via};
use crate::http::client_ip::ClientIp;
use crate::http::origin::SameOrigin;
use crate::ui::{TotpPage, TotpStep, totp_document};

/// The fields of the page's forms.
#[derive(Debug, serde::Deserialize)]
pub struct TotpForm {
    /// `confirm` or `remove`.
    action: String,
    /// The secret being enrolled (confirm).
    #[serde(default)]
    secret: String,
    /// The code.
    #[serde(default)]
    code: String,
    /// The account's password (confirm).
    #[serde(default)]
    password: String,
}

/// `GET /account/totp`.
pub async fn page(State(account): State<Account>, principal: Principal) -> Response {
    let step = current(&account, &principal.user);
    render(&account, &principal.user, step, None, StatusCode::OK)
}

fn current(account: &Account, user: &str) -> TotpStep {
    let totp = &account.gate.totp;
    if totp.enrolled(user) {
        return TotpStep::Enrolled { recovery_left: totp.recovery_left(user) };
    }
    let e = totp.begin(user);
    TotpStep::Start { secret: e.secret, svg: e.svg, uri: e.uri }
}

/// `POST /account/totp`.
pub async fn post(
    _: SameOrigin,
    State(account): State<Account>,
    principal: Principal,
    client: ClientIp,
    headers: HeaderMap,
    Form(form): Form<TotpForm>,
) -> Response {
    let user = principal.user.clone();
    if matches!(principal.via, Via::Token(_)) {
        let notice = "An API token cannot change how its user logs in: log in with your password.";
        return render(&account, &user, current(&account, &user), Some(notice.into()), StatusCode::FORBIDDEN);
    }
    let totp = &account.gate.totp;
    match form.action.as_str() {
        "confirm" if !totp.enrolled(&user) => {
            let again = |notice: String, status: StatusCode| {
                let step = totp.resume(&user, &form.secret).map_or_else(
                    || current(&account, &user),
                    |e| TotpStep::Start { secret: e.secret, svg: e.svg, uri: e.uri },
                );
                render(&account, &user, step, Some(notice), status)
            };
            let checked = account.gate.auth.check_password(&user, form.password.clone(), &headers, client).await;
            match checked {
                Ok(_) => {}
                Err(AuthError::Throttled(wait)) => {
                    let notice = format!("Too many attempts: try again in {} s.", wait.as_secs().max(1));
                    return again(notice, StatusCode::TOO_MANY_REQUESTS);
                }
                Err(AuthError::Busy) => {
                    return again(
                        "Too many logins at once: try again in a moment.".into(),
                        StatusCode::SERVICE_UNAVAILABLE,
                    );
                }
                Err(AuthError::Invalid | AuthError::Missing) => {
                    let event = AuditEvent::new(AuditKind::LoginFailed, Some(&user), Some(client.addr));
                    account.gate.audit.record(event.with("via", "totp_enrol"));
                    let notice = "That password is not right: nothing was changed.";
                    return again(notice.into(), StatusCode::UNPROCESSABLE_ENTITY);
                }
            }
            match totp.confirm(&user, &form.secret, &form.code, client).await {
                Ok(codes) => render(&account, &user, TotpStep::Codes(codes), None, StatusCode::OK),
                Err(_) => again(
                    "That code is not right: enter the code the app shows now.".into(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
            }
        }
        "confirm" => {
            let notice = "The second step is already on: turn it off first to enrol another app.";
            render(&account, &user, current(&account, &user), Some(notice.into()), StatusCode::CONFLICT)
        }
        "remove" => {
            let spent = account.gate.auth.spend_attempt(&user, &headers, client).await;
            let result = match spent {
                Err(crate::auth::AuthError::Throttled(wait)) => Err(CodeError::Throttled(wait)),
                Err(_) => Err(CodeError::Wrong),
                Ok(()) => totp.remove(&user, &form.code, client).await.map_err(|_| CodeError::Wrong),
            };
            match result {
                Ok(()) => {
                    let notice = "The second step is off.";
                    render(&account, &user, current(&account, &user), Some(notice.into()), StatusCode::OK)
                }
                Err(CodeError::Throttled(wait)) => {
                    let notice = format!("Too many attempts: try again in {} s.", wait.as_secs().max(1));
                    render(&account, &user, current(&account, &user), Some(notice), StatusCode::TOO_MANY_REQUESTS)
                }
                Err(CodeError::Wrong) => {
                    let event = AuditEvent::new(AuditKind::LoginFailed, Some(&user), Some(client.addr));
                    account.gate.audit.record(event.with("via", "totp_remove"));
                    let notice = "That code is not right.";
                    render(
                        &account,
                        &user,
                        current(&account, &user),
                        Some(notice.into()),
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                }
            }
        }
        _ => (StatusCode::BAD_REQUEST, "action: `confirm` or `remove`\n").into_response(),
    }
}

fn render(account: &Account, user: &str, step: TotpStep, notice: Option<String>, status: StatusCode) -> Response {
    let nonce = base64::engine::general_purpose::STANDARD.encode(crate::auth::accounts::random::<16>());
    let notice_failed = status.is_client_error() || status.is_server_error();
    let page = TotpPage {
        base: account.base.to_string(),
        nonce: nonce.clone(),
        user: user.to_owned(),
        step,
        notice,
        notice_failed,
    };
    let csp = crate::ui::page_csp(&nonce);
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (CACHE_CONTROL, "no-store".to_owned()),
            (CONTENT_SECURITY_POLICY, csp),
        ],
        totp_document(&page),
    )
        .into_response()
}
