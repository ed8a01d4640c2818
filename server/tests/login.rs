//! The login form against the real binary: the cookie and its flags, one answer for every refused
//! login, the same-origin check of the form's post, `next` kept to this site's paths, a new session
//! id at every login (fixation), logout and "log out everywhere", and who may revoke whose session.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Response, get, post};
use livedash_server::auth::password::hash_password;
use livedash_server::auth::principal::Handle;

const FORM: &str = "application/x-www-form-urlencoded";
/// What a browser's form post from livedash's own page carries.
const BROWSER: [(&str, &str); 3] =
    [("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Mode", "navigate"), ("Accept", "text/html")];
const VIEWER_PASSWORD: &str = "viewer password";

/// The binary on a free port with a users file: `admin` (the test password), the viewer `vera`,
/// and `long` with a 2000-byte password; killed when dropped.
struct Server {
    addr: SocketAddr,
    _child: tokio::process::Child,
    long_password: String,
}

async fn server(name: &str) -> Server {
    let dir = common::temp_dir(name);
    let long_password: String = "pässwörd ".repeat(200).chars().take(1800).collect();
    assert!(long_password.len() >= 2000, "{}", long_password.len());
    let users = dir.join("users");
    std::fs::write(
        &users,
        format!(
            "admin:{}\nvera:{}:viewer\nlong:{}\n",
            hash_password(common::PASSWORD),
            hash_password(VIEWER_PASSWORD),
            hash_password(&long_password)
        ),
    )
    .unwrap();
    let addr = common::free_addr();
    let child = common::livedash(addr, &dir).arg("--users-file").arg(&users).spawn().expect("spawn livedash");
    assert!(common::wait_listening(addr, Duration::from_secs(10)).await, "livedash did not listen on {addr}");
    Server { addr, _child: child, long_password }
}

/// `text` percent-encoded for a form field.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Posts the login form as a browser on this site would, with `extra` headers.
async fn login(addr: SocketAddr, fields: &[(&str, &str)], extra: &[(&str, &str)]) -> Response {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
    let mut headers: Vec<(&str, &str)> =
        BROWSER.iter().filter(|(n, _)| !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(n))).copied().collect();
    headers.extend_from_slice(extra);
    post(addr, "/login", FORM, &body.join("&"), &headers).await
}

/// Every `Set-Cookie` of `r`.
fn set_cookies(r: &Response) -> Vec<&str> {
    r.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect()
}

/// The session cookie `r` sets: its whole `Set-Cookie` line and its value.
fn session_cookie(r: &Response) -> Option<(String, String)> {
    let line = set_cookies(r).into_iter().find(|c| c.starts_with("livedash_session="))?;
    let value = line["livedash_session=".len()..].split(';').next()?.to_owned();
    Some((line.to_owned(), value))
}

/// The session cookie of a successful browser login of `user`.
async fn session_of(addr: SocketAddr, user: &str, password: &str) -> String {
    let r = login(addr, &[("username", user), ("password", password)], &[]).await;
    assert_eq!(r.status, 303, "{r:?}");
    session_cookie(&r).expect("a session cookie").1
}

/// `GET /sessions` with the session cookie `value`: its status.
async fn sessions_page(addr: SocketAddr, value: &str) -> Response {
    let cookie = format!("livedash_session={value}");
    get(addr, "/sessions", &[("Cookie", &cookie), ("Accept", "application/json")]).await
}

#[tokio::test]
async fn the_form_logs_in_with_a_cookie_of_its_flags() {
    let s = server("login-cookie").await;
    let page = get(s.addr, "/login?next=/alerts", &[]).await;
    assert_eq!(page.status, 200);
    for want in [
        r#"autocomplete="username""#,
        r#"autocomplete="current-password""#,
        r#"maxlength="4096""#,
        r#"name="remember""#,
        r#"name="next" value="/alerts""#,
    ] {
        assert!(page.body.contains(want), "the form lacks {want}: {}", page.body);
    }
    assert!(!page.body.contains("onpaste"), "pasting is allowed");

    // A browser: 303 to next, a session cookie for this browser's session only.
    let r = login(s.addr, &[("username", "admin"), ("password", common::PASSWORD), ("next", "/alerts")], &[]).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/alerts")), "{r:?}");
    let (line, value) = session_cookie(&r).expect("a session cookie");
    assert_eq!(value.len(), 43, "256 random bits in base64url: {line}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(line.split("; ").any(|f| f == flag), "{flag} missing: {line}");
    }
    assert!(!line.contains("Max-Age") && !line.contains("Secure"), "no TLS, not remembered: {line}");
    assert_eq!(sessions_page(s.addr, &value).await.status, 200, "the cookie is a session");

    // "Remember this device": the cookie outlives the browser's session.
    let r = login(s.addr, &[("username", "admin"), ("password", common::PASSWORD), ("remember", "1")], &[]).await;
    let (line, _) = session_cookie(&r).expect("a session cookie");
    assert!(line.contains("Max-Age=2592000"), "{line}");

    // A script: 204 and the cookie.
    let r = post(s.addr, "/login", FORM, &format!("username=admin&password={}", enc(common::PASSWORD)), &[]).await;
    assert_eq!(r.status, 204, "{r:?}");
    assert!(session_cookie(&r).is_some());

    // A password of 2000 bytes, pasted as a password manager would.
    let r = login(s.addr, &[("username", "long"), ("password", &s.long_password)], &[]).await;
    assert_eq!(r.status, 303, "{r:?}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_bytes() {
    let s = server("login-same").await;
    let wrong = login(s.addr, &[("username", "admin"), ("password", "not it"), ("next", "/x")], &[]).await;
    let unknown = login(s.addr, &[("username", "nobody"), ("password", "not it"), ("next", "/x")], &[]).await;
    assert_eq!(wrong.status, 401);
    let without_date =
        |r: &Response| r.headers.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("date")).cloned().collect::<Vec<_>>();
    assert_eq!((wrong.status, without_date(&wrong)), (unknown.status, without_date(&unknown)));
    assert_eq!(wrong.body, unknown.body, "the same bytes");
    assert!(wrong.body.contains("Wrong user name or password."));
    assert!(session_cookie(&wrong).is_none());
    assert!(!wrong.body.contains("nobody") && !wrong.body.contains("admin"), "no name echoed");
}

#[tokio::test]
async fn a_login_posted_from_another_site_is_refused() {
    let s = server("login-origin").await;
    let fields = [("username", "admin"), ("password", common::PASSWORD)];
    let r = login(s.addr, &fields, &[("Sec-Fetch-Site", "cross-site")]).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert!(session_cookie(&r).is_none());
    // A browser that sends no Sec-Fetch-Site: judged by its Origin.
    let body = format!("username=admin&password={}", enc(common::PASSWORD));
    let r = post(s.addr, "/login", FORM, &body, &[("Origin", "https://evil.example")]).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert!(session_cookie(&r).is_none());
    let own = format!("http://{}", s.addr);
    let r = post(s.addr, "/login", FORM, &body, &[("Origin", &own)]).await;
    assert_eq!(r.status, 204, "{r:?}");
}

#[tokio::test]
async fn next_leads_only_to_paths_of_this_site() {
    let s = server("login-next").await;
    for (next, want) in [
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/chart/local/cpu?range=1h", "/chart/local/cpu?range=1h"),
    ] {
        let r = login(s.addr, &[("username", "admin"), ("password", common::PASSWORD), ("next", next)], &[]).await;
        assert_eq!((r.status, r.header("location")), (303, Some(want)), "next={next}");
        // The form keeps it the same way.
        let page = get(s.addr, &format!("/login?next={}", enc(next)), &[]).await;
        assert!(page.body.contains(&format!(r#"name="next" value="{}""#, want.replace('&', "&amp;"))), "{next}");
    }
}

#[tokio::test]
async fn a_cookie_sent_before_the_login_is_not_the_one_after() {
    let s = server("login-fixation").await;
    // A value planted by an attacker is never taken as a session id.
    let planted = "livedash_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let r = login(s.addr, &[("username", "admin"), ("password", common::PASSWORD)], &[("Cookie", planted)]).await;
    let first = session_cookie(&r).expect("a session cookie").1;
    assert_ne!(format!("livedash_session={first}"), planted);
    // Logging in again from a browser with a live session: a new id, and the old one ends.
    let cookie = format!("livedash_session={first}");
    let r = login(s.addr, &[("username", "admin"), ("password", common::PASSWORD)], &[("Cookie", &cookie)]).await;
    let second = session_cookie(&r).expect("a session cookie").1;
    assert_ne!(first, second);
    assert_ne!(sessions_page(s.addr, &first).await.status, 200, "the session from before the login ended");
    assert_eq!(sessions_page(s.addr, &second).await.status, 200);
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_site() {
    let s = server("login-logout").await;
    let one = session_of(s.addr, "admin", common::PASSWORD).await;
    let cookie = format!("livedash_session={one}");
    // Not from another site.
    let r = post(s.addr, "/logout", FORM, "", &[("Cookie", &cookie), ("Sec-Fetch-Site", "cross-site")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(sessions_page(s.addr, &one).await.status, 200);
    let r = post(s.addr, "/logout", FORM, "", &[("Cookie", &cookie), ("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login?done=logout")), "{r:?}");
    assert_eq!(r.header("clear-site-data"), Some(r#""cookies", "storage""#));
    assert!(set_cookies(&r).iter().any(|c| c.starts_with("livedash_session=;") && c.contains("Max-Age=0")));
    assert_ne!(sessions_page(s.addr, &one).await.status, 200, "ended on the server");

    // Everywhere: every session of the user, and only theirs.
    let (a, b) =
        (session_of(s.addr, "admin", common::PASSWORD).await, session_of(s.addr, "admin", common::PASSWORD).await);
    let vera = session_of(s.addr, "vera", VIEWER_PASSWORD).await;
    let cookie = format!("livedash_session={a}");
    let r = post(s.addr, "/logout?everywhere=1", FORM, "", &[("Cookie", &cookie)]).await;
    assert_eq!(r.status, 303);
    assert_ne!(sessions_page(s.addr, &a).await.status, 200);
    assert_ne!(sessions_page(s.addr, &b).await.status, 200);
    assert_eq!(sessions_page(s.addr, &vera).await.status, 200, "another user's session stays");
}

#[tokio::test]
async fn a_viewer_may_revoke_their_own_sessions_only() {
    let s = server("login-revoke").await;
    let admin = session_of(s.addr, "admin", common::PASSWORD).await;
    let vera = session_of(s.addr, "vera", VIEWER_PASSWORD).await;
    let vera_other = session_of(s.addr, "vera", VIEWER_PASSWORD).await;
    let revoke = |who: &str, target: &str| {
        let cookie = format!("livedash_session={who}");
        let body = format!("session={}", Handle::of(target.as_bytes()).hex());
        async move { post(s.addr, "/sessions/revoke", FORM, &body, &[("Cookie", &cookie)]).await }
    };
    // The viewer sees only their own sessions.
    let page = sessions_page(s.addr, &vera).await;
    assert_eq!(page.body.matches("data-testid=\"session-row\"").count(), 2, "{}", page.body);
    assert_eq!(revoke(&vera, &admin).await.status, 403, "a viewer revoking another's session");
    assert_eq!(sessions_page(s.addr, &admin).await.status, 200, "still live");
    assert_eq!(revoke(&vera, &vera_other).await.status, 303, "their own");
    assert_ne!(sessions_page(s.addr, &vera_other).await.status, 200);
    // An admin sees everyone's and may revoke anyone's.
    let page = sessions_page(s.addr, &admin).await;
    assert_eq!(page.body.matches("data-testid=\"session-row\"").count(), 2, "{}", page.body);
    assert_eq!(revoke(&admin, &vera).await.status, 303);
    assert_ne!(sessions_page(s.addr, &vera).await.status, 200);
    // Malformed handles are a 400.
    let cookie = format!("livedash_session={admin}");
    for body in ["session=xyz", "", "token=12"] {
        let r = post(s.addr, "/sessions/revoke", FORM, body, &[("Cookie", &cookie)]).await;
        assert_eq!(r.status, 400, "{body}");
    }
}

#[tokio::test]
async fn under_login_basic_the_form_is_off() {
    let dir = common::temp_dir("login-basic");
    let addr = common::free_addr();
    let _child = common::livedash(addr, &dir).args(["--login", "basic"]).spawn().expect("spawn livedash");
    assert!(common::wait_listening(addr, Duration::from_secs(10)).await, "livedash did not listen on {addr}");
    let page = get(addr, "/login", &[]).await;
    assert_eq!((page.status, page.header("location")), (303, Some("/")), "to the dashboard's Basic challenge");
    let r = login(addr, &[("username", "admin"), ("password", common::PASSWORD)], &[]).await;
    assert_eq!(r.status, 404, "{r:?}");
    assert!(session_cookie(&r).is_none());
}
