//! The routes: `/healthz` open (counts only), `/ws` behind its own admission, the login form and
//! logout open (they check what they are sent themselves), everything else (the page, its files,
//! the Alerts view, the Sessions view, the audit view, `/api/*` with the detailed `/api/health`, the alerts and the
//! notifications, `/metrics`) behind the authentication layer ([`auth::layer`]: API tokens, Basic,
//! the session cookie); all of it under the base path of
//! `--public-url` when there is one. Holds [`AppState`], from which each sub-system takes its part.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use leptos::config::LeptosOptions;

use crate::account;
use crate::alerts::Alerts;
use crate::api;
use crate::auth::{self, Auth};
use crate::cluster::state::State as ClusterState;
use crate::fleet::hosts_health::TargetsHealth;
use crate::http::origin::SiteOrigin;
use crate::http::{self, headers};
use crate::login;
use livedash::{ClusterStatus, SourceState, StoreStatus};

use crate::live::hub::{Health, Hub};
use crate::live::ws::{self, WsState};
use crate::metrics::{self, Observed};
use crate::notify::Notifier;
use crate::store::Store;
use crate::ui::{self, AlertsView, UiBackend};

/// Everything a request may need; each handler and extractor takes only its part (`FromRef`).
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Where the built site is and what it is called (for leptos_axum).
    pub leptos: LeptosOptions,
    /// Credentials and tickets.
    pub auth: Arc<Auth>,
    /// Who a request is: accounts, sessions, tokens, second factors, the audit.
    pub gate: auth::Gate,
    /// The login form, logout and the Sessions view.
    pub login: login::LoginState,
    /// The fan-out hub (snapshot, health).
    pub hub: Arc<Hub>,
    /// What the WebSocket endpoint needs.
    pub ws: WsState,
    /// What `/metrics` reads.
    pub metrics: Observed,
    /// The history store, if there is one.
    pub store: Option<Arc<Store>>,
    /// What the detailed health tells.
    pub detail: Detail,
    /// The server's own origin, for the same-origin guard of write actions.
    pub site: SiteOrigin,
    /// The alerts (rules, instances, events, silences).
    pub alerts: Alerts,
    /// What the Alerts view reads.
    pub alerts_view: AlertsView,
    /// The notifications (channels, deliveries, tests).
    pub notifier: Notifier,
    /// The fleet's hosts (what a page renders from, whether the dashboard links to the overview).
    pub directory: crate::fleet::Directory,
    /// The site's files (the wasm, its script, the CSS, the public files): the router's fallback.
    pub files: crate::site::Site,
}

/// The audit, for the write actions' [`auth::role::Writer`] and the records of their handlers.
impl FromRef<AppState> for crate::audit::Audit {
    fn from_ref(state: &AppState) -> Self {
        state.gate.audit.clone()
    }
}

/// The whole HTTP surface under `base` (`""` or `/dash`), with the security headers on every
/// response (HSTS when `tls`).
pub fn app(state: AppState, base: Arc<str>, tls: bool) -> Router {
    let routes = routes(state, base.clone());
    let app = if base.is_empty() {
        routes
    } else {
        Router::new().fallback(move |req| under_base(base.clone(), routes.clone(), req))
    };
    app.layer(middleware::map_response_with_state(tls, headers::add))
}

/// The routes at the root, as if there were no base path.
fn routes(state: AppState, base: Arc<str>) -> Router {
    let account = account::Account { gate: state.gate.clone(), base: base.clone(), site: state.site.clone() };
    ui::set_basic_login(state.gate.mode == auth::LoginMode::Basic);
    let backend = UiBackend {
        auth: state.auth.clone(),
        hub: state.hub.clone(),
        ws: state.ws.config.clone(),
        basic_login: state.gate.mode == auth::LoginMode::Basic,
        fleet: state.directory.clone(),
        summary: state.ws.summary.clone(),
    };
    let base_path = base.clone();
    let protected = ui::pages(Router::new(), &state, backend, base)
        .route("/metrics", get(metrics::handler))
        .route("/api/health", get(health_detail))
        .route("/api/history", get(api::history::history))
        .route("/api/series", get(api::history::series))
        .route("/api/fleet/history", get(api::fleet::history))
        .route("/alerts", get(ui::alerts_page))
        .route("/audit", get(api::audit::page))
        .route("/api/audit", get(api::audit::list))
        .route("/api/alerts", get(api::alerts::list))
        .route("/api/alerts/events", get(api::alerts::events))
        .route("/api/alerts/silence", post(api::alerts::silence))
        .route("/api/alerts/ack", post(api::alerts::ack))
        .route("/api/notify", get(api::notify::channels))
        .route("/api/notify/deliveries", get(api::notify::deliveries))
        .route("/api/notify/test", post(api::notify::test))
        .route("/sessions", get(login::view::page))
        .route("/sessions/revoke", post(login::view::revoke))
        .merge(account::protected(account.clone()))
        .layer(middleware::from_fn_with_state(
            auth::GateLayer { gate: state.gate.clone(), base: base_path },
            auth::authenticate,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/ws", get(ws::handler))
        .merge(account::open(account))
        .route("/login", get(login::form::page).post(login::form::submit))
        .route("/login/code", post(login::form::code))
        .route("/logout", post(login::logout::logout))
        .merge(protected)
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

/// The loopback listener of `--metrics-listen`, without authentication: `/metrics` and the
/// detailed `/healthz`, for requests addressed to a loopback host only (421 for any other `Host`,
/// so that a page rebinding its DNS name to loopback cannot read them: [`http::host`]).
pub fn metrics_only(observed: Observed, detail: Detail) -> Router {
    Router::new()
        .route("/metrics", get(metrics::handler))
        .with_state(observed)
        .merge(Router::new().route("/healthz", get(health_detail)).with_state(detail))
        .layer(middleware::from_fn(http::host::loopback_only))
}

/// What the detailed health reads: the hub, and this instance's view of the cluster if any.
#[derive(Clone)]
pub struct Detail {
    /// Sources and the store's state.
    pub hub: Arc<Hub>,
    /// The cluster, when there is one.
    pub cluster: Option<Arc<ClusterState>>,
    /// The history store, when there is one (its clock and maintenance).
    pub store: Option<Arc<Store>>,
    /// The targets file's state, when there is one.
    pub targets: Option<TargetsHealth>,
}

/// Serves `routes` under `base` (`/dash`): `/dash/x` reaches them as `/x`; `/dash` redirects to
/// `/dash/` (so that the page's URLs resolve under it); any other path is not found, with a hint
/// for the proxy that strips the prefix.
async fn under_base(base: Arc<str>, routes: Router, mut request: axum::extract::Request) -> axum::response::Response {
    let uri = request.uri();
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    match uri.path().strip_prefix(&*base) {
        Some("") => axum::response::Redirect::permanent(&format!("{base}/{query}")).into_response(),
        Some(rest) if rest.starts_with('/') => {
            let Ok(inner) = axum::http::Uri::try_from(format!("{rest}{query}")) else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            *request.uri_mut() = inner;
            match tower::ServiceExt::oneshot(routes, request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
        _ => (
            StatusCode::NOT_FOUND,
            format!(
                "404 Not Found: livedash serves everything under {base}/ (its --public-url). A reverse proxy \
                 in front of it must pass the path on unchanged.\n"
            ),
        )
            .into_response(),
    }
}

/// `GET /healthz` without credentials: whether the process serves (always 200 while it does) and
/// how many sources are ok, failing or stale: `{"status":"ok"|"degraded","sources":3,"ok":2,
/// "failing":1,"stale":0,"history":..}`, and in a cluster `"cluster":"shared"|"alone"`. No names
/// (often internal `host:port`) and no data.
async fn healthz(State(hub): State<Arc<Hub>>) -> impl IntoResponse {
    let sources = hub.health();
    let count = |state| sources.iter().filter(|h| h.state == state).count();
    let (ok, failing, stale) = (count(SourceState::Ok), count(SourceState::Failing), count(SourceState::Stale));
    let store = hub.store_status();
    let cluster = hub.cluster();
    let mut body = serde_json::json!({
        "status": status(&sources, store.as_ref(), cluster.as_ref()), "sources": sources.len(), "ok": ok,
        "failing": failing, "stale": stale, "history": history_state(store.as_ref()),
    });
    if let Some(c) = &cluster {
        body["cluster"] = (if c.shared { "shared" } else { "alone" }).into();
    }
    (StatusCode::OK, axum::Json(body))
}

/// `GET /api/health` (behind authentication) and `/healthz` on the metrics listener: each
/// source's name, state and the age of its last good sample,
/// `{"status":..,"sources":[{"source","state","last_good_age_ms"}]}`, and with a targets file
/// `"targets":{"path","hosts","changes","error","line","column"}`. No data values.
async fn health_detail(State(Detail { hub, cluster, store: disk, targets }): State<Detail>) -> impl IntoResponse {
    let sources = hub.health();
    let store = hub.store_status();
    let shared = hub.cluster();
    let mut body = serde_json::json!({
        "status": status(&sources, store.as_ref(), shared.as_ref()), "sources": sources,
        "history": history_state(store.as_ref()), "history_error": store.and_then(|s| s.error),
    });
    if let Some(disk) = disk {
        body["history_store"] = disk.shared.health();
    }
    if let Some(cluster) = cluster {
        body["cluster"] = serde_json::to_value(cluster.health()).unwrap_or_default();
    }
    if let Some(targets) = targets.map(|t| t.report()) {
        // A file refused: the last good hosts run on, but not what the file says now.
        if targets.error.is_some() {
            body["status"] = "degraded".into();
        }
        body["targets"] = serde_json::to_value(targets).unwrap_or_default();
    }
    (StatusCode::OK, axum::Json(body))
}

/// `ok` when every source is, history is being saved (or kept in memory only by choice), and in a
/// cluster the sources are shared (alone, this instance fetches everything itself).
fn status(sources: &[Health], store: Option<&StoreStatus>, cluster: Option<&ClusterStatus>) -> &'static str {
    let saving = store.is_none_or(|s| s.saving);
    let shared = cluster.is_none_or(|c| c.shared);
    if saving && shared && sources.iter().all(|h| h.state == SourceState::Ok) { "ok" } else { "degraded" }
}

/// `saving`, `failing` (history is not being saved) or `memory` (no store, by choice).
fn history_state(store: Option<&StoreStatus>) -> &'static str {
    match store {
        None => "memory",
        Some(s) if s.saving => "saving",
        Some(_) => "failing",
    }
}
