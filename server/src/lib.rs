//! livedash's server: the axum service behind the `livedash` binary.
//!
//! [`app`] builds the router from an [`AppState`]; [`start`] wires config, hub, sources and router
//! onto a listener the caller bound, so that tests run the real server on `127.0.0.1:0`.

pub mod auth;
pub mod config;
pub mod hub;
pub mod sources;
pub mod state;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::Auth;
use crate::config::Config;
use crate::hub::{HistoryLimits, Hub};
use crate::state::{AppState, UiBackend};

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

/// The whole HTTP surface: `/healthz` open, everything else behind authentication.
pub fn app(state: AppState) -> Router {
    let backend = app::ssr::BackendContext(Arc::new(UiBackend { auth: state.auth.clone(), hub: state.hub.clone() }));
    let routes = generate_route_list(app::App);
    let leptos = state.leptos.clone();
    let protected = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || leptos::prelude::provide_context(backend.clone()),
            move || app::shell(leptos.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(SetResponseHeaderLayer::overriding(CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_basic));
    Router::new().route("/healthz", get(healthz)).route("/ws", get(ws::handler)).merge(protected).with_state(state)
}

async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, [(CACHE_CONTROL, "no-store")], axum::Json(serde_json::json!({ "status": "ok" })))
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
    /// The admin password in force (generated when the config had none).
    pub admin_password: String,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Closes every socket, stops the sources and waits for the server to finish.
    pub async fn stop(self) -> std::io::Result<()> {
        // Receivers only go away when everything already stopped.
        let _ = self.shutdown.send(true);
        self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Resolves when the server has stopped (after [`Running::trigger_shutdown`] or an error).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// A handle that stops the server when `true` is sent.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Starts everything on `listener`: hub, local source and HTTP service.
pub fn start(config: &Config, listener: TcpListener) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let admin_password = config.admin_password.clone().unwrap_or_else(auth::generate_password);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let interval_count = (config.history.as_millis() / config.interval.as_millis().max(1)).max(1);
    let hub = Arc::new(Hub::new(HistoryLimits {
        max_age: config.history,
        max_len: usize::try_from(interval_count).unwrap_or(usize::MAX).min(100_000),
    }));
    sources::spawn_local(hub.clone(), config.interval, shutdown_rx.clone());
    let state = AppState {
        leptos: leptos_options(addr),
        auth: Arc::new(Auth::new(config::ADMIN_USER, &admin_password)),
        hub,
        shutdown: shutdown_rx.clone(),
    };
    let router = app(state);
    let mut stop = shutdown_rx;
    let task = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move { stopped(&mut stop).await })
            .await
    });
    Ok(Running { addr, admin_password, shutdown: shutdown_tx, task })
}
