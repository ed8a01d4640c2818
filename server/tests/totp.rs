//! The second factor against the real binary: enrolled from `/account/totp` with a code computed
//! here from the secret the page shows; then the password alone no longer lets Basic in while an
//! API token still does; the login form's code step takes a current code once (the enrolment's
//! code and a code already used are refused), a recovery code once; the factor is removed with a
//! code, and the password alone works again. Kept across a restart. Enrolling takes the account's
//! password as well: a session alone (a stolen cookie) cannot enrol a factor.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{PASSWORD, basic, free_addr, get, livedash, post, temp_dir, wait_listening};

const FORM: &str = "application/x-www-form-urlencoded";

fn users(dir: &Path) -> PathBuf {
    let path = dir.join("users");
    std::fs::write(&path, format!("ann:{}\n", livedash_server::auth::password::hash_password(PASSWORD)))
        .expect("users");
    path
}

/// The server on `addr` with its data in `dir` and ann in `users`, once it listens.
async fn serve(addr: SocketAddr, dir: &Path, users: &Path) -> tokio::process::Child {
    let server = livedash(addr, dir).arg("--users-file").arg(users).spawn().expect("spawn");
    assert!(wait_listening(addr, Duration::from_secs(20)).await, "the server did not come up");
    server
}

/// The code of the base32 `secret` for the time step `now + offset` (computed with totp-rs here,
/// apart from the server's code path).
fn code(secret: &str, offset: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned()).to_bytes().expect("base32");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let at = now.checked_add_signed(offset * 30).expect("in range");
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, bytes).generate(at)
}

/// The text between `before` and the next `<` or `"` after it.
fn between<'a>(html: &'a str, before: &str) -> &'a str {
    let start = html.find(before).unwrap_or_else(|| panic!("{before:?} in {html}")) + before.len();
    let rest = &html[start..];
    &rest[..rest.find(['<', '"']).expect("an end")]
}

/// The test password as a form field's value.
fn form_password() -> String {
    PASSWORD.replace(' ', "+")
}

fn same_origin(auth: &str) -> Vec<(&str, &str)> {
    vec![("Authorization", auth), ("Sec-Fetch-Site", "same-origin")]
}

/// The login form's first step for ann: the code step's `pending` value.
async fn password_step(addr: SocketAddr) -> String {
    let body = format!("username=ann&password={}", PASSWORD.replace(' ', "+"));
    let r = post(addr, "/login", FORM, &body, &[("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!(r.status, 200, "the code step: {}", r.body);
    assert!(r.header("set-cookie").is_none_or(|c| !c.contains("livedash_session=")), "no session before the code");
    between(&r.body, "name=\"pending\" value=\"").to_owned()
}

/// The code step with `code`: the session cookie (`name=value`) when it was taken.
async fn code_step(addr: SocketAddr, pending: &str, code: &str) -> Option<String> {
    let body = format!("pending={pending}&code={code}");
    let r = post(addr, "/login/code", FORM, &body, &[("Sec-Fetch-Site", "same-origin")]).await;
    let cookie =
        r.headers.iter().find(|(n, v)| n.eq_ignore_ascii_case("set-cookie") && v.starts_with("livedash_session="));
    match cookie {
        Some((_, v)) if !v.contains("Max-Age=0") => {
            assert!(matches!(r.status, 204 | 303), "{}", r.body);
            Some(v.split(';').next().expect("name=value").to_owned())
        }
        _ => {
            assert!(r.status == 401 || r.status == 429, "{}: {}", r.status, r.body);
            None
        }
    }
}

/// The audit file's text once it holds `count` lines containing `part` (its writer runs behind
/// the requests; at most 5 s).
async fn audit_lines(dir: &Path, part: &str, count: usize) -> String {
    let path = dir.join("audit.log");
    for _ in 0..100 {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.lines().filter(|l| l.contains(part)).count() >= count {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::read_to_string(&path).unwrap_or_default()
}

async fn snapshot(addr: SocketAddr, headers: &[(&str, &str)]) -> u16 {
    get(addr, "/api/snapshot", headers).await.status
}

/// Stops the server with SIGTERM (it writes what its store was handed) and waits for it.
async fn stop(mut child: tokio::process::Child) {
    let pid = child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("stops").expect("exit status");
}

#[tokio::test]
async fn enrol_then_codes_once_recovery_once_password_alone_refused_token_kept() {
    let dir = temp_dir("totp");
    let users = users(&dir);
    let addr = free_addr();
    let server = serve(addr, &dir, &users).await;
    let password = basic("ann", PASSWORD);

    // Enrol from the page: a code computed here from the secret it shows.
    let page = get(addr, "/account/totp", &[("Authorization", &password)]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg") && page.body.contains("otpauth://totp/livedash:ann?secret="));
    let secret = between(&page.body, "data-testid=\"totp-secret\">").to_owned();
    let wrong = format!("action=confirm&secret={secret}&code=000000&password={}", form_password());
    let r = post(addr, "/account/totp", FORM, &wrong, &same_origin(&password)).await;
    assert_eq!(r.status, 422, "a wrong first code: {}", r.body);
    assert!(r.body.contains(&secret), "the same secret is shown again");
    let first = code(&secret, 0);
    let confirm = format!("action=confirm&secret={secret}&code={first}&password={}", form_password());
    let r = post(addr, "/account/totp", FORM, &confirm, &[("Authorization", &password)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let recovery: Vec<String> = r.body.split("<li><code>").skip(1).map(|c| c[..11].to_owned()).collect();
    assert_eq!(recovery.len(), 10, "{}", r.body);
    let r = post(addr, "/account/totp", FORM, &confirm, &[("Authorization", &password)]).await;
    assert_eq!(r.status, 401, "the password alone no longer lets Basic in, even to enrol again");

    // Basic with the password alone is refused; a token keeps scripts working.
    assert_eq!(snapshot(addr, &[("Authorization", &password)]).await, 401);
    let store = dir.join("history.db");
    let place: [&std::ffi::OsStr; 4] =
        ["--store".as_ref(), store.as_os_str(), "--users-file".as_ref(), users.as_os_str()];
    let (_, token, err) = common::token_cli(&["create", "--user", "ann", "--name", "script"], &place).await;
    assert!(token.starts_with("ldt_"), "{err}");
    assert_eq!(snapshot(addr, &[("Authorization", &format!("Bearer {token}"))]).await, 200);
    assert_eq!(snapshot(addr, &[("Authorization", &basic("ann", &token))]).await, 200);

    // The login form: the enrolment's code is spent; the next step's code once; a recovery code once.
    assert_eq!(code_step(addr, &password_step(addr).await, &first).await, None, "the enrolment's code again");
    let next = code(&secret, 1);
    let session = code_step(addr, &password_step(addr).await, &next).await.expect("a current code");
    assert_eq!(snapshot(addr, &[("Cookie", &session)]).await, 200);
    assert_eq!(code_step(addr, &password_step(addr).await, &next).await, None, "the same code twice");
    let with_recovery = code_step(addr, &password_step(addr).await, &recovery[0]).await;
    assert!(with_recovery.is_some(), "a recovery code");
    assert_eq!(code_step(addr, &password_step(addr).await, &recovery[0]).await, None, "a recovery code once");

    // Kept across a restart: still enrolled, the spent recovery code still spent.
    stop(server).await;
    let mut server = serve(addr, &dir, &users).await;
    assert_eq!(snapshot(addr, &[("Authorization", &password)]).await, 401, "still enrolled");
    assert_eq!(code_step(addr, &password_step(addr).await, &recovery[0]).await, None, "still spent");
    let session = code_step(addr, &password_step(addr).await, &recovery[1]).await.expect("another recovery code");

    // Removed with a code (from the session's page), then the password alone works again.
    let page = get(addr, "/account/totp", &[("Cookie", &session)]).await;
    assert!(page.body.contains("8 recovery codes left"), "{}", page.body);
    let headers = [("Cookie", session.as_str()), ("Sec-Fetch-Site", "same-origin")];
    let r = post(addr, "/account/totp", FORM, "action=remove&code=000000", &headers).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let remove = format!("action=remove&code={}", recovery[2]);
    let r = post(addr, "/account/totp", FORM, &remove, &headers).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("The second step is off."), "{}", r.body);
    assert_eq!(snapshot(addr, &[("Authorization", &password)]).await, 200);

    // The second factor's records name the client's address (before: none did).
    let audit = audit_lines(&dir, r#""kind":"totp_remove""#, 1).await;
    server.kill().await.expect("kill");
    for kind in ["totp_enrol", "recovery_used", "totp_remove"] {
        let line = audit.lines().find(|l| l.contains(&format!(r#""kind":"{kind}""#))).expect(kind);
        assert!(line.contains(r#""addr":"127.0.0.1""#), "{line}");
    }
}

#[tokio::test]
async fn a_session_alone_cannot_enrol_a_second_factor() {
    let dir = temp_dir("totp-stolen");
    let users = users(&dir);
    let addr = free_addr();
    let mut server = serve(addr, &dir, &users).await;
    // A session cookie, as a thief would replay it (ann has no second factor yet).
    let login = format!("username=ann&password={}", form_password());
    let r = post(addr, "/login", FORM, &login, &[("Sec-Fetch-Site", "same-origin")]).await;
    let session = r
        .headers
        .iter()
        .find(|(n, v)| n.eq_ignore_ascii_case("set-cookie") && v.starts_with("livedash_session="))
        .map(|(_, v)| v.split(';').next().expect("name=value").to_owned())
        .expect("a session");
    let headers = [("Cookie", session.as_str()), ("Sec-Fetch-Site", "same-origin")];
    let page = get(addr, "/account/totp", &headers).await;
    assert!(page.body.contains(r#"autocomplete="current-password""#), "the page asks for it: {}", page.body);
    let secret = between(&page.body, "data-testid=\"totp-secret\">").to_owned();
    let now = code(&secret, 0);
    for password in ["", "&password=", "&password=not+the+password"] {
        let body = format!("action=confirm&secret={secret}&code={now}{password}");
        let r = post(addr, "/account/totp", FORM, &body, &headers).await;
        // Before: 200 and the recovery codes: the session alone enrolled a factor.
        assert_eq!(r.status, 422, "{password:?}: {}", r.body);
        assert!(r.body.contains("That password is not right: nothing was changed."), "{}", r.body);
        assert!(r.body.contains("class=\"notice notice-bad\""), "shown as an error: {}", r.body);
        assert!(r.body.contains(&secret) && !r.body.contains("recovery-codes"), "{}", r.body);
    }
    assert_eq!(snapshot(addr, &[("Authorization", &basic("ann", PASSWORD))]).await, 200, "nothing enrolled");
    let body = format!("action=confirm&secret={secret}&code={now}&password={}", form_password());
    let r = post(addr, "/account/totp", FORM, &body, &headers).await;
    assert_eq!(r.status, 200, "with the password: {}", r.body);
    assert!(r.body.contains("recovery-codes"), "{}", r.body);
    assert_eq!(snapshot(addr, &[("Authorization", &basic("ann", PASSWORD))]).await, 401, "enrolled");
    let audit = audit_lines(&dir, r#""via":"totp_enrol""#, 3).await;
    server.kill().await.expect("kill");
    let refused = audit.lines().filter(|l| l.contains(r#""via":"totp_enrol""#)).count();
    assert_eq!(refused, 3, "each wrong password recorded: {audit}");
}

#[tokio::test]
async fn wrong_codes_spend_the_password_budgets_until_the_login_is_refused() {
    let dir = temp_dir("totp-throttle");
    let users = users(&dir);
    let addr = free_addr();
    let server = serve(addr, &dir, &users).await;
    let password = basic("ann", PASSWORD);
    let page = get(addr, "/account/totp", &[("Authorization", &password)]).await;
    let secret = between(&page.body, "data-testid=\"totp-secret\">").to_owned();
    let confirm = format!("action=confirm&secret={secret}&code={}&password={}", code(&secret, 0), form_password());
    assert_eq!(post(addr, "/account/totp", FORM, &confirm, &[("Authorization", &password)]).await.status, 200);

    // Wrong codes from one address: past the budget (5 a minute for an address and a user) the
    // answer is 429 with Retry-After, at the code step or already at the password step (a
    // throttled subject is refused even with the right password, as for Basic).
    let login = format!("username=ann&password={}", PASSWORD.replace(' ', "+"));
    let mut throttled = None;
    for _ in 0..12 {
        let r = post(addr, "/login", FORM, &login, &[("Sec-Fetch-Site", "same-origin")]).await;
        if r.status == 429 {
            throttled = Some(r);
            break;
        }
        let body = format!("pending={}&code=000000", between(&r.body, "name=\"pending\" value=\""));
        let r = post(addr, "/login/code", FORM, &body, &[("Sec-Fetch-Site", "same-origin")]).await;
        if r.status == 429 {
            throttled = Some(r);
            break;
        }
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = throttled.expect("throttled within 12 wrong codes");
    assert!(r.header("retry-after").is_some() && r.body.contains("Too many attempts"), "{}", r.body);
    let r = post(addr, "/login", FORM, &login, &[("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!(r.status, 429, "still refused with the right password: no code can be tried");
    let mut server = server;
    server.kill().await.expect("kill");
}
