use super::*;
use crate::auth::session::{NewSession, SessionPolicy, Sessions};
use crate::auth::token::Tokens;
use crate::auth::totp::Totp;
use crate::auth::{LoginLimits, Users};

fn gate(mode: LoginMode) -> Gate {
    Gate {
        auth: Arc::new(Auth::new(Users::single("admin", "pw"), LoginLimits::default())),
        sessions: Arc::new(Sessions::new(SessionPolicy::default())),
        tokens: Arc::new(Tokens::default()),
        totp: Arc::new(Totp::default()),
        audit: crate::audit::Audit::default(),
        mode,
        tls: false,
    }
}

fn client() -> ClientIp {
    let ip = std::net::IpAddr::from([127, 0, 0, 1]);
    ClientIp { addr: ip, group: ip }
}

fn with_cookie(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(axum::http::header::COOKIE, HeaderValue::from_str(value).expect("ascii"));
    h
}

async fn session_of(gate: &Gate) -> (String, super::super::principal::Handle) {
    let new = NewSession::admin("admin", gate.auth.user_version("admin").expect("user"));
    let (secret, s) = gate.sessions.create(new).await;
    (secret, s.handle)
}

#[tokio::test]
async fn a_session_cookie_made_by_sessions_create_is_a_principal() {
    let gate = gate(LoginMode::Form);
    let (secret, handle) = session_of(&gate).await;
    let found = identify(&gate, &with_cookie(&format!("livedash_session={secret}")), client()).await.expect("in");
    assert_eq!(found.principal, Principal { user: Arc::from("admin"), role: Role::Admin, via: Via::Session(handle) });
    let refused = identify(&gate, &with_cookie("livedash_session=forged"), client()).await.expect_err("out");
    assert!(refused.stale_cookie && refused.unannounced);
    assert_eq!(refused.error, AuthError::Invalid);
    gate.sessions.end(handle, EndReason::Logout).await;
    assert!(identify(&gate, &with_cookie(&format!("livedash_session={secret}")), client()).await.is_err());
}

#[tokio::test]
async fn basic_mode_ignores_session_cookies_and_a_password_change_ends_the_session() {
    let basic = gate(LoginMode::Basic);
    let (secret, _) = session_of(&basic).await;
    let cookie = with_cookie(&format!("livedash_session={secret}"));
    assert_eq!(identify(&basic, &cookie, client()).await.expect_err("basic only").error, AuthError::Missing);
    let form = gate(LoginMode::Form);
    let (secret, handle) = session_of(&form).await;
    form.auth.replace_users(Users::single("admin", "new"));
    let cookie = with_cookie(&format!("livedash_session={secret}"));
    assert!(identify(&form, &cookie, client()).await.is_err());
    assert!(!form.sessions.is_live(handle), "ended, not only refused");
}

#[tokio::test]
async fn tokens_work_as_bearer_and_as_a_basic_password_of_their_user_only() {
    use base64::Engine;
    let gate = gate(LoginMode::Form);
    let (token, made) = gate.tokens.create("admin", Role::Viewer, "script", None).await;
    let header = |v: String| {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(&v).expect("ascii"));
        h
    };
    let found = identify(&gate, &header(format!("Bearer {token}")), client()).await.expect("bearer");
    assert_eq!(found.principal.via, Via::Token(made.handle));
    assert_eq!(found.principal.role, Role::Viewer, "the token's lower role");
    let basic = |who: &str| {
        header(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{who}:{token}"))))
    };
    assert!(identify(&gate, &basic("admin"), client()).await.is_ok());
    assert!(identify(&gate, &basic("mallory"), client()).await.is_err(), "another user's name");
    assert!(identify(&gate, &header("Bearer ldt_nope".to_owned()), client()).await.is_err());
}

fn parts(method: Method, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut request = axum::http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.body(()).expect("request").into_parts().0
}

#[test]
fn navigations_are_told_from_scripts_and_go_to_the_login_form_with_their_path() {
    assert!(navigation(&parts(Method::GET, "/", &[("sec-fetch-mode", "navigate")])));
    assert!(!navigation(&parts(Method::GET, "/api/snapshot", &[("sec-fetch-mode", "cors")])));
    assert!(navigation(&parts(Method::GET, "/", &[("accept", "text/html,application/xhtml+xml")])));
    assert!(!navigation(&parts(Method::GET, "/", &[("accept", "*/*")])), "curl");
    assert!(!navigation(&parts(Method::GET, "/", &[])));
    let p = parts(Method::GET, "/chart?series=cpu.total&range=1h", &[]);
    assert_eq!(login_location("/dash", &p), "/dash/login?next=/dash/chart%3Fseries%3Dcpu.total%26range%3D1h");
    assert_eq!(login_location("", &parts(Method::POST, "/api/alerts/ack", &[])), "/login");
}

/// A keep that answers nothing and counts what it is asked.
#[derive(Default)]
struct Counting(std::sync::atomic::AtomicUsize);

impl crate::auth::session::Keep for Counting {
    fn made(&self, _: &crate::store::auth::sessions::SessionRow) -> futures_util::future::BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    fn seen(&self, _: super::super::principal::Handle, _: u64) {}
    fn ended(&self, _: super::super::principal::Handle, _: EndReason, _: u64) {}
    fn find(
        &self,
        _: super::super::principal::Handle,
    ) -> futures_util::future::BoxFuture<'_, Option<crate::store::auth::sessions::SessionRow>> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Box::pin(async { None })
    }
    fn all(&self) -> futures_util::future::BoxFuture<'_, Vec<crate::store::auth::sessions::SessionRow>> {
        Box::pin(async { Vec::new() })
    }
}

#[tokio::test]
async fn forged_cookies_from_one_address_are_throttled_and_stop_costing_lookups() {
    let gate = gate(LoginMode::Form);
    let keep = Arc::new(Counting::default());
    gate.sessions.keep_in(keep.clone());
    let mut throttled = 0;
    for i in 0..100 {
        match identify(&gate, &with_cookie(&format!("livedash_session=forged{i}")), client()).await {
            Err(Refused { error: AuthError::Throttled(_), .. }) => throttled += 1,
            other => assert_eq!(other.expect_err("refused").error, AuthError::Invalid),
        }
    }
    assert!(throttled >= 30, "past the budget of refusals: 429 ({throttled})");
    let asked = keep.0.load(std::sync::atomic::Ordering::Relaxed);
    assert!(asked <= 100 - throttled + 1, "a throttled address asks the keeps nothing: {asked} lookups");
}
