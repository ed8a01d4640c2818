//! The UI's port into the server: [`UiBackend`] implements `app::ssr::Backend`, which the page uses
//! while it renders and in its server functions; the page routes (the site's files: [`crate::site`]);
//! the server-rendered Alerts view ([`alerts_page`], never hydrated: alerts, channels, deliveries,
//! silence links) and the admin's audit view ([`audit_document`]). The only file naming `app` types.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::http::request::Parts;
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use livedash::Hello;

use crate::alerts::Alerts;
use crate::auth::{Auth, Principal};
use crate::fleet::{Directory, HostKind};
use crate::live::hub::Hub;
use crate::live::subscription::{Filter, Subs, SummaryWants};
use crate::live::summary::SummaryFeed;
use crate::live::ws::{WsConfig, origin};
use crate::notify::{ChannelState, Delivery, Notifier};

/// What the UI asks of the server while rendering or answering a server function.
pub struct UiBackend {
    /// Tickets, and the state of one for the page's diagnosis.
    pub auth: Arc<Auth>,
    /// The snapshot.
    pub hub: Arc<Hub>,
    /// The socket's Origin policy, for the page's diagnosis.
    pub ws: Arc<WsConfig>,
    /// Whether browsers log in by Basic (`--login basic`): no logout to offer.
    pub basic_login: bool,
    /// The fleet's hosts: which sources a `configured` page leaves out, and how many there are.
    pub fleet: Directory,
    /// The fleet's summary: the overview's rows for its first render.
    pub summary: Arc<dyn SummaryFeed>,
}

impl app::ssr::Backend for UiBackend {
    fn snapshot(&self) -> Hello {
        self.hub.snapshot()
    }

    /// The `hello` of what the page subscribes to, as its socket would get it (the hub's snapshot
    /// for the subscription: `configured` leaves the targets file's hosts out, a host's page holds
    /// that host alone, the fleet pages no source), with the overview's rows for the overview.
    fn page_snapshot(&self, sub: &str) -> Hello {
        let Ok(subs) = Subs::parse(Some(sub)).map(Arc::new) else { return self.hub.snapshot() };
        let mut hello = self.hub.snapshot_for(&mut Filter::new(subs.clone(), Arc::new(self.fleet.clone())));
        if subs.summary.overview && !subs.all {
            let start = self.summary.start(SummaryWants { overview: true, figures: 0 }, None);
            hello.fleet = start.hello_fleet.and_then(|text| serde_json::from_str(&text).ok());
        }
        hello
    }

    /// The targets file's hosts: this machine alone makes no fleet worth a link.
    fn fleet_hosts(&self) -> usize {
        self.fleet.snapshot().values().filter(|h| h.kind == HostKind::Figures).count()
    }

    fn issue_ticket(&self, user: &str, request: &Parts) -> String {
        match request.extensions.get::<Principal>().map(|p| p.via) {
            Some(crate::auth::Via::Session(handle)) => self.auth.issue_session_ticket(user, handle),
            _ => self.auth.issue_ticket(user),
        }
    }

    fn socket_problem(&self, page_origin: &str, ticket: &str, user: &str, request: &Parts) -> String {
        origin::socket_problem(page_origin, ticket, user, request, &self.auth, &self.ws)
    }

    fn user(&self, request: &Parts) -> Option<Arc<str>> {
        request.extensions.get::<Principal>().map(|p| p.user.clone())
    }

    fn basic_login(&self) -> bool {
        self.basic_login
    }
}

/// The context every render and server function gets: the backend and the base path.
fn context(backend: UiBackend, base: Arc<str>) -> impl Fn() + Clone + Send + Sync + 'static {
    let backend = app::ssr::BackendContext(Arc::new(backend));
    let base = app::ssr::BasePath(base);
    move || {
        leptos::prelude::provide_context(backend.clone());
        leptos::prelude::provide_context(base.clone());
    }
}

/// `router` with the page's routes (the dashboard, `/fleet`, `/fleet/metric`: server-rendered,
/// with `backend` and `base` in their context) and, as its fallback, the site's files or the app's 404.
pub fn pages<S>(router: Router<S>, state: &S, backend: UiBackend, base: Arc<str>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    LeptosOptions: FromRef<S>,
    crate::site::Site: FromRef<S>,
{
    let context = context(backend, base);
    let options = LeptosOptions::from_ref(state);
    // The fleet pages: the same app, which picks the page by its path (`app::route::Page`).
    let fleet_options = options.clone();
    let fleet_page =
        leptos_axum::render_app_to_stream_with_context(context.clone(), move || app::shell(fleet_options.clone()));
    router
        .leptos_routes_with_context(state, generate_route_list(app::App), context.clone(), move || {
            app::shell(options.clone())
        })
        .route("/fleet", axum::routing::get(fleet_page.clone()))
        .route("/fleet/metric", axum::routing::get(fleet_page))
        .fallback(crate::site::serve::fallback::<S, _>(FromRef::from_ref(state), context, app::shell))
}

/// What the built site is called, for the page's script tags (its files are [`crate::site`]'s);
/// under `cargo leptos watch`, cargo-leptos passes its own `LEPTOS_*` settings.
pub fn site_options(listen: SocketAddr) -> LeptosOptions {
    let from_cargo_leptos = std::env::var_os("LEPTOS_OUTPUT_NAME")
        .is_some()
        .then(|| leptos::config::get_configuration(None).ok())
        .flatten();
    let mut options = from_cargo_leptos.map_or_else(
        || {
            let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".to_owned());
            LeptosOptions::builder().output_name(app::OUTPUT_NAME).site_root(site_root).site_pkg_dir("pkg").build()
        },
        |c| c.leptos_options,
    );
    options.site_addr = listen;
    options
}

/// What the Alerts view reads.
#[derive(Clone)]
pub struct AlertsView {
    /// The alerts' states and events.
    pub alerts: Alerts,
    /// The notifications' channels and deliveries.
    pub notifier: Notifier,
    /// The base path (`""` or `/dash`).
    pub base: Arc<str>,
    /// How often the view refreshes its live part: the shortest source interval, from 250 ms to 5 s.
    pub refresh: std::time::Duration,
}

impl AlertsView {
    /// The view of `alerts` and `notifier` under `base`, with the source intervals
    /// of `config`.
    pub fn new(alerts: Alerts, notifier: Notifier, base: Arc<str>, config: &crate::config::Config) -> Self {
        let shortest = config.sources.iter().map(|s| s.interval).min().unwrap_or(config.interval);
        Self {
            alerts,
            notifier,
            base,
            refresh: shortest.clamp(std::time::Duration::from_millis(250), std::time::Duration::from_secs(5)),
        }
    }
}

/// How many events the view lists (the newest of the last week).
const VIEW_EVENTS: usize = 50;
/// How many deliveries the view lists, and how many failed ones.
const VIEW_DELIVERIES: usize = 50;
const VIEW_FAILED: usize = 20;

/// `GET /alerts`: the Alerts view (`?part=live`: only its live part, for its refresh, answered 304
/// when the `If-None-Match` it sends still matches).
pub async fn alerts_page(
    axum::extract::State(view): axum::extract::State<AlertsView>,
    axum::extract::Query(query): axum::extract::Query<std::collections::BTreeMap<String, String>>,
    parts: Parts,
) -> axum::response::Response {
    use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
    use axum::response::IntoResponse;
    use base64::Engine;

    let now = crate::clock::now_ms();
    let principal = parts.extensions.get::<Principal>();
    let can_write = principal.is_some_and(|p| p.role.can_write());
    let user = principal.map(|p| p.user.to_string()).unwrap_or_default();
    let mut events = match view.alerts.events(now.saturating_sub(7 * 24 * 3_600_000), now, VIEW_EVENTS).await {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(error = %e, "the alerts view cannot read the event log");
            Vec::new()
        }
    };
    events.sort_by_key(|e| std::cmp::Reverse((e.ts_ms, e.id)));
    let (deliveries, failed) =
        tokio::join!(view.notifier.deliveries(None, VIEW_DELIVERIES), view.notifier.failed(VIEW_FAILED));
    let rows = |read: Result<Vec<Delivery>, crate::notify::NotifyError>| match read {
        Ok(rows) => rows.into_iter().map(delivery_row).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "the alerts view cannot read the notifications");
            Vec::new()
        }
    };
    let silence = query.get("silence").map(|r| r.trim()).filter(|r| !r.is_empty()).map(|rule| {
        let given = |k: &str| query.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        app::ssr::silence_form::SilenceAsk {
            rule: rule.to_owned(),
            source: given("source"),
            series: given("series"),
            known: view.alerts.rules().iter().any(|r| &*r.name == rule),
        }
    });
    let nonce = base64::engine::general_purpose::STANDARD.encode(crate::auth::accounts::random::<16>());
    let page = app::ssr::alerts_view::AlertsPage {
        base: view.base.to_string(),
        nonce: nonce.clone(),
        can_write,
        user,
        now_ms: now,
        refresh_ms: u64::try_from(view.refresh.as_millis()).unwrap_or(1000),
        status: view.alerts.status(),
        events,
        rules: view.alerts.rules().len(),
        notice: notice(&query),
        notice_failed: query.get("done").is_some_and(|d| d == "test") && query.contains_key("failed"),
        channels: view.notifier.channels().into_iter().map(channel_row).collect(),
        deliveries: rows(deliveries),
        failed: rows(failed),
        silence,
    };
    if query.get("part").map(String::as_str) == Some("live") {
        let html = app::ssr::alerts_view::live_part(&page);
        let tag = format!("\"{:016x}\"", {
            use std::hash::{Hash, Hasher};
            let mut h = std::hash::DefaultHasher::new();
            html.hash(&mut h);
            h.finish()
        });
        if parts.headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
            return (axum::http::StatusCode::NOT_MODIFIED, [(ETAG, tag)]).into_response();
        }
        return ([(CONTENT_TYPE, "text/html; charset=utf-8".to_owned()), (ETAG, tag)], html).into_response();
    }
    let html = app::ssr::alerts_view::document(&page);
    ([(CONTENT_SECURITY_POLICY, app::ssr::page_csp(&nonce))], axum::response::Html(html)).into_response()
}

/// What the last action did, from the query its redirect came back with.
fn notice(query: &std::collections::BTreeMap<String, String>) -> Option<String> {
    let done = match query.get("done")?.as_str() {
        "silence" => "Silenced",
        "ack" => "Acknowledged",
        "test" => return test_notice(query),
        _ => return None,
    };
    let matched: usize = query.get("matched")?.parse().ok()?;
    let rule = query.get("rule").map(String::as_str).unwrap_or("the rule");
    let plural = if matched == 1 { "" } else { "s" };
    Some(format!("{done} {matched} instance{plural} of {rule}."))
}

/// What a test through a channel came to (the receiver's answer or why it failed), from the
/// query of the test form's redirect.
fn test_notice(query: &std::collections::BTreeMap<String, String>) -> Option<String> {
    let channel = query.get("channel")?;
    if let Some(why) = query.get("failed") {
        return Some(format!("The test to {channel} failed: {why}"));
    }
    let code = query.get("code")?;
    let answer = query.get("answer").map(String::as_str).unwrap_or("").trim();
    let said = if answer.is_empty() { String::new() } else { format!(": “{answer}”") };
    Some(format!("The test to {channel} was accepted: the receiver answered {code}{said}"))
}

/// A channel as the view shows it.
fn channel_row(c: ChannelState) -> app::ssr::notify_rows::ChannelRow {
    app::ssr::notify_rows::ChannelRow {
        name: c.name,
        kind: c.kind.to_owned(),
        target: c.target,
        sent: c.sent,
        retried: c.retried,
        failed: c.failed,
        waiting: c.waiting,
        quiet_now: c.quiet_now,
        last: c.last,
        fallback: c.fallback,
    }
}

/// A delivery as the view shows it.
fn delivery_row(d: Delivery) -> app::ssr::notify_rows::DeliveryRow {
    let status = match d.status {
        crate::notify::Status::Firing => "firing",
        crate::notify::Status::Resolved => "resolved",
    };
    app::ssr::notify_rows::DeliveryRow {
        id: d.id,
        channel: d.channel,
        rule: d.rule,
        source: d.source,
        series: d.series,
        status: status.to_owned(),
        state: d.state.as_str().to_owned(),
        attempts: d.attempts,
        last: d.last,
        created_ms: d.created_ms,
        next_ms: d.next_ms,
        done_ms: d.done_ms,
    }
}

/// The account pages (the login form, its code step, the Sessions view) and their policy: the
/// pages' one script and one style sheet are allowed by their SHA-256, so that a page is the same
/// bytes every time (a refused login for an unknown user reads exactly as one for a wrong
/// password).
pub struct AccountPages {
    csp: String,
}

impl AccountPages {
    /// The pages, with their policy worked out once.
    pub fn new() -> Self {
        use base64::Engine;
        use sha2::Digest;
        let hash = |text: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()));
        let (script, style) = (hash(app::theme::PREPAINT_SCRIPT), hash(app::ssr::login_page::STYLE));
        Self {
            csp: format!(
                "default-src 'none'; script-src 'sha256-{script}'; style-src 'self' 'sha256-{style}'; \
                 img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
        }
    }
}

impl Default for AccountPages {
    fn default() -> Self {
        Self::new()
    }
}

impl crate::login::Pages for AccountPages {
    fn login(&self, page: &livedash::account::LoginPage) -> String {
        app::ssr::login_page::login_document(page)
    }

    fn code(&self, page: &livedash::account::CodePage) -> String {
        app::ssr::login_page::code_document(page)
    }

    fn sessions(&self, page: &livedash::account::SessionsPage) -> String {
        app::ssr::sessions_page::document(page)
    }

    fn csp(&self) -> &str {
        &self.csp
    }
}

/// The second factor's page (`/account/totp`), server-rendered.
pub use app::ssr::shell::set_basic_login;
pub use app::ssr::totp_view::{TotpPage, TotpStep};

/// The whole document of the second factor's page.
pub fn totp_document(page: &TotpPage) -> String {
    app::ssr::totp_view::document(page)
}

/// The Content-Security-Policy of a server-rendered page whose scripts carry `nonce`.
pub fn page_csp(nonce: &str) -> String {
    app::ssr::page_csp(nonce)
}

/// The audit view's document (drawn by `app::ssr::audit_view`): `rows` newest first, filtered on
/// `kind` and `who`, at most `limit` of them; the page's script carries `nonce`.
pub fn audit_document(
    base: &str,
    nonce: &str,
    (kind, who): (Option<String>, Option<String>),
    rows: Vec<crate::store::auth::audit::AuditRow>,
    limit: usize,
) -> String {
    let line = |row: crate::store::auth::audit::AuditRow| {
        let detail = match serde_json::from_str::<serde_json::Value>(&row.detail) {
            Ok(serde_json::Value::Object(map)) => map
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect(),
            _ => Vec::new(),
        };
        app::ssr::audit_view::AuditLine { ts_ms: row.ts_ms, kind: row.kind, user: row.user, addr: row.addr, detail }
    };
    app::ssr::audit_view::document(&app::ssr::audit_view::AuditPage {
        base: base.to_owned(),
        nonce: nonce.to_owned(),
        kinds: crate::audit::AuditKind::ALL.iter().map(|k| k.as_str()).collect(),
        kind,
        who,
        lines: rows.into_iter().map(line).collect(),
        limit,
    })
}
