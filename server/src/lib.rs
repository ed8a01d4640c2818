//! livedash's server: the axum service behind the `livedash` binary.
//!
//! [`app`] builds the router from an [`AppState`]; [`start`] wires config, hub, sources and router
//! onto a listener the caller bound, so that tests run the real server on `127.0.0.1:0`.

pub mod auth;
pub mod config;
pub mod credentials;
pub mod headers;
pub mod hub;
pub mod metrics;
pub mod serve;
pub mod sources;
pub mod state;
pub mod tls;
pub mod users;
pub mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::auth::Auth;
use crate::config::{Config, TlsMode, UsersSource};
use crate::hub::{HistoryLimits, Hub};
use crate::serve::ServeOptions;
use crate::state::{AppState, UiBackend};
use crate::users::Users;
use crate::ws::{Connections, WsConfig};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The users file is unreadable or has a bad line.
    #[error(transparent)]
    Users(#[from] users::UsersError),
    /// The TLS certificate or key could not be loaded or made.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The users file lists nobody: nobody could log in.
    #[error("users file {0}: no users in it (add lines `name:hash`; see `livedash hash-password`)")]
    NoUsers(PathBuf),
    /// The listener has no address.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}

/// Where the built site is and what it is called. The binary runs from the repository root after
/// `scripts/build.sh`; under `cargo leptos watch`, cargo-leptos passes its own `LEPTOS_*` settings.
pub fn leptos_options(listen: SocketAddr) -> LeptosOptions {
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

/// The whole HTTP surface: `/healthz` open, everything else behind authentication; all of it
/// under the base path of `--public-url` when there is one.
pub fn app(state: AppState) -> Router {
    let tls = state.ws.tls;
    let base = state.base.clone();
    let routes = routes(state);
    let app = if base.is_empty() {
        routes
    } else {
        Router::new().fallback(move |req| under_base(base.clone(), routes.clone(), req))
    };
    app.layer(middleware::map_response_with_state(tls, headers::add))
}

/// The routes at the root, as if there were no base path.
fn routes(state: AppState) -> Router {
    let backend = app::ssr::BackendContext(Arc::new(UiBackend {
        auth: state.auth.clone(),
        hub: state.hub.clone(),
        ws: state.ws.clone(),
    }));
    let base = app::ssr::BasePath(state.base.clone());
    let context = move || {
        leptos::prelude::provide_context(backend.clone());
        leptos::prelude::provide_context(base.clone());
    };
    let routes = generate_route_list(app::App);
    let leptos = state.leptos.clone();
    let protected = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), move || app::shell(leptos.clone()))
        .route("/metrics", get(metrics::handler))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, app::shell))
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_basic));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/ws", get(ws::handler))
        .merge(protected)
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
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

/// `{"status":"ok"|"degraded","sources":[{"source","state","last_good_age_ms"}]}`: whether the
/// process serves (always 200 while it does) and how fresh each source is. No data values.
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    let sources = state.hub.health();
    let all_ok = sources.iter().all(|h| h.state == livedash::SourceState::Ok);
    let status = if all_ok { "ok" } else { "degraded" };
    (StatusCode::OK, axum::Json(serde_json::json!({ "status": status, "sources": sources })))
}

/// Resolves once `shutdown` says stop (or its sender is gone, when nobody can say it any more).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // Either outcome means stop; the borrowed value is dropped here, not held across awaits.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// A running server: its address, and the switch and handle to stop it.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The admin password when it was generated (to be shown once).
    pub generated_password: Option<String>,
    /// The TLS certificate's SHA-256 fingerprint and file, when serving TLS.
    pub tls: Option<(String, PathBuf)>,
    /// Where `/metrics` is served without authentication, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// The accounts (to replace them on SIGHUP).
    pub auth: Arc<Auth>,
    /// The open sockets.
    pub connections: Arc<Connections>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    /// Closes every socket, stops the sources and waits (a few seconds at most) for all of it.
    pub async fn stop(self) {
        self.trigger_shutdown();
        self.wait().await;
    }

    /// Asks everything to stop; [`Running::wait`] then returns once it has.
    pub fn trigger_shutdown(&self) {
        // send_replace cannot fail, whether or not anyone still listens.
        self.shutdown.send_replace(true);
    }

    /// Resolves when the server has stopped and every socket is closed (or 5 s have passed).
    pub async fn wait(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the server task failed");
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.connections.open() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Re-reads the users file into `auth`; on error the accounts in force stay and the error is
/// returned. Returns how many users the file has.
pub fn reload_users(auth: &Auth, path: &std::path::Path) -> Result<usize, StartError> {
    let users = Users::load(path)?;
    if users.is_empty() {
        return Err(StartError::NoUsers(path.to_owned()));
    }
    let n = users.len();
    auth.replace_users(users);
    Ok(n)
}

/// Starts everything on `listener`: accounts, TLS, hub, local source and HTTP service.
pub fn start(config: &Config, listener: TcpListener) -> Result<Running, StartError> {
    let addr = listener.local_addr()?;
    let (users, generated_password) = match &config.users {
        UsersSource::File(path) => {
            let users = Users::load(path)?;
            if users.is_empty() {
                return Err(StartError::NoUsers(path.clone()));
            }
            (users, None)
        }
        UsersSource::Admin(Some(password)) => (Users::single(config::ADMIN_USER, password), None),
        UsersSource::Admin(None) => {
            let password = auth::generate_password();
            (Users::single(config::ADMIN_USER, &password), Some(password))
        }
    };
    let tls = match &config.tls {
        TlsMode::Off => None,
        TlsMode::Files { cert, key } => Some(tls::from_pem_files(cert, key)?),
        TlsMode::SelfSigned { names } => Some(tls::self_signed(&config.data_dir, names)?),
    };
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let hub = Arc::new(Hub::new(HistoryLimits { max_age: config.history, max_len: config.history_len }));
    let source_metrics = metrics::SourceMetrics::default();
    for spec in &config.sources {
        sources::spawn(hub.clone(), source_metrics.clone(), spec.clone(), shutdown_rx.clone());
    }
    let auth = Arc::new(Auth::new(users, config.login_limits));
    spawn_housekeeping(auth.clone(), hub.clone(), shutdown_rx.clone());
    let connections = Arc::new(Connections::default());
    let state = AppState {
        leptos: leptos_options(addr),
        auth: auth.clone(),
        hub,
        base: config.public_url.as_ref().map_or_else(|| Arc::from(""), |u| Arc::from(u.base.as_str())),
        ws: Arc::new(WsConfig {
            public_origin: config.public_url.as_ref().map(|u| u.origin.clone()),
            allowed_origins: config.allowed_origins.clone(),
            tls: tls.is_some(),
            max_connections: config.max_connections,
            max_connections_per_ip: config.max_connections_per_ip,
            idle_timeout: config.ws_idle_timeout,
        }),
        connections: connections.clone(),
        source_metrics,
        shutdown: shutdown_rx.clone(),
    };
    let options = ServeOptions {
        tls: tls.as_ref().map(|t| TlsAcceptor::from(t.config.clone())),
        header_timeout: config.header_timeout,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
    };
    let mut metrics_addr = None;
    if let Some(addr) = config.metrics_listen {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let metrics_listener = TcpListener::from_std(std_listener)?;
        metrics_addr = Some(metrics_listener.local_addr()?);
        let router = Router::new().route("/metrics", get(metrics::handler)).with_state(state.clone());
        let options = ServeOptions { tls: None, ..options.clone() };
        tokio::spawn(serve::serve(metrics_listener, router, options, shutdown_rx.clone()));
    }
    let task = tokio::spawn(serve::serve(listener, app(state), options, shutdown_rx));
    Ok(Running {
        addr,
        generated_password,
        tls: tls.map(|t| (t.fingerprint, t.cert_path)),
        metrics_addr,
        auth,
        connections,
        shutdown: shutdown_tx,
        task,
    })
}

/// Forgets idle throttling state and expired cache entries once a minute; marks sources stale
/// that have gone quiet (checked twice a second).
fn spawn_housekeeping(auth: Arc<Auth>, hub: Arc<Hub>, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut minutely = tokio::time::interval(Duration::from_secs(60));
        let mut stale_check = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = minutely.tick() => auth.forget_idle(),
                _ = stale_check.tick() => hub.mark_stale(hub::now_ms()),
                () = stopped(&mut shutdown) => break,
            }
        }
    });
}
