//! livedash's server: the axum service behind the `livedash` binary.
//!
//! [`start`] wires configuration, accounts, TLS, hub, sources and routes onto a listener the
//! caller bound, so that tests run the real server on `127.0.0.1:0`; nothing else lives here.
//! The rooms below, and what each may import, are described in their own `mod.rs`:
//!
//! - [`config`]: flags, variables and the file, merged and validated;
//! - [`account`]: a user's second-factor page and the kiosk URL (an API token for a session);
//! - [`alerts`]: rules evaluated on every sample, their states, events and silences;
//! - [`notify`]: the alerts told through channels, from a durable outbox;
//! - [`auth`]: accounts, Basic credentials, tickets, throttling;
//! - [`http`]: the connection loop, security headers, client facts;
//! - [`tls`]: certificates and fingerprints;
//! - [`login`]: the login form, logout and the Sessions view;
//! - [`live`]: stamping, the hub, and the WebSocket endpoint;
//! - [`sources`]: the fetchers, one ticker each;
//! - [`targets`]: the fleet's hosts from a `file_sd` targets file, watched;
//! - [`fleet`]: host figures from any kind of source (node_exporter, livedash `local`);
//! - `boot`: start-up's settings and housekeeping helpers;
//! - [`store`]: history on disk (SQLite), fed and read back by [`persist`];
//! - [`cluster`]: several instances sharing their sources through Redis;
//! - [`api`]: `/api/history` and `/api/series`;
//! - [`ops`]: the commands beside serving (`check-config`, `users`, ...) and the PID file;
//! - [`site`]: the built site's files, embedded in the binary or read from a directory;
//! - [`service`]: readiness and the watchdog told to a service manager (`sd_notify`);
//! - [`router`] (routes, `/healthz`), [`ui`] (the UI's port), [`metrics`], and the shared
//!   [`clock`], [`shutdown`] and [`permissions`].

pub mod account;
pub mod alerts;
pub mod api;
pub mod audit;
pub mod auth;
mod boot;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod fleet;
pub mod http;
pub mod live;
pub mod login;
pub mod metrics;
pub mod notify;
pub mod ops;
pub mod permissions;
pub mod persist;
pub mod router;
pub mod service;
pub mod shutdown;
pub mod site;
pub mod sources;
pub mod store;
pub mod targets;
pub mod tls;
pub mod ui;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::auth::{Auth, LoginLimits, Users};
use crate::config::{Config, TlsMode, UsersSource};
use crate::http::client_ip::AddressPolicy;
use crate::http::serve::{self, ServeOptions};
use crate::live::history::HistoryLimits;
use crate::live::hub::Hub;
use crate::live::stamp::Stamper;
use crate::live::ws::WsState;
use crate::live::ws::connections::Connections;
use crate::metrics::{Observed, SourceMetrics};
use crate::router::AppState;
use crate::shutdown::Switch;
use crate::store::Store;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The users file is unreadable or has a bad line.
    #[error(transparent)]
    Users(#[from] auth::UsersError),
    /// The TLS certificate or key could not be loaded or made.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The users file lists nobody: nobody could log in.
    #[error("users file {0}: no users in it (add lines `name:hash`; see `livedash hash-password`)")]
    NoUsers(PathBuf),
    /// The listener has no address.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// The Redis client could not be made from the URL.
    #[error("--redis-url: {0}")]
    Redis(#[from] redis::RedisError),
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
    /// Who requests are: the sessions, tokens and second factors beside the accounts.
    pub gate: auth::Gate,
    /// The open sockets.
    pub connections: Arc<Connections>,
    /// The history store, unless history is kept in memory only.
    pub store: Option<Arc<Store>>,
    /// The alerts.
    pub alerts: alerts::Alerts,
    /// The notifications.
    pub notifier: notify::Notifier,
    /// The fleet's hosts (this machine's `local` source, the targets file's hosts) by source name.
    pub directory: fleet::Directory,
    /// The hub (the service manager's watchdog checks that it answers).
    pub hub: Arc<Hub>,
    switch: Switch,
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
        self.switch.stop();
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
        // What was refused since the last summary is not lost with the process.
        self.auth.flush_refusals();
        // Nor the audit's last lines (2 s at most: a disk that hangs does not hold up the stop).
        if let Some(audit) = self.auth.audit().cloned() {
            let _ = tokio::task::spawn_blocking(move || audit.flush_file(Duration::from_secs(2))).await;
        }
        // What the store was handed (the alerts' countdowns too) is written before the process ends.
        self.alerts.stop();
        if let Some(store) = self.store {
            let _ = tokio::task::spawn_blocking(move || store.stop()).await;
        }
    }
}

/// Reads the users file at `path`; a file without users is refused (nobody could log in).
fn load_users(path: &Path) -> Result<Users, StartError> {
    let users = Users::load(path)?;
    if users.is_empty() {
        return Err(StartError::NoUsers(path.to_owned()));
    }
    Ok(users)
}

/// Re-reads the users file into `auth`; on error the accounts in force stay and the error is
/// returned. Returns how many users the file has.
pub fn reload_users(auth: &Auth, path: &Path) -> Result<usize, StartError> {
    let users = load_users(path)?;
    let n = users.len();
    auth.replace_users(users);
    Ok(n)
}

/// The accounts to start with, and the admin password when one was generated. The admin
/// password's version is made from a key that outlives the process (see
/// [`Users::single_versioned`]): in a cluster the cluster's secret, so that every instance agrees
/// on it; else the data directory's key, so that device cookies survive a restart.
fn initial_users(config: &Config) -> Result<(Users, Option<String>), StartError> {
    let key = match &config.cluster {
        Some(c) => Some(auth::shared::derive_key(&c.secret.0, "password versions")),
        None => boot::version_key(config),
    };
    Ok(match &config.users {
        UsersSource::File(path) => (load_users(path)?, None),
        UsersSource::Admin(Some(password)) => {
            (Users::single_versioned(config::ADMIN_USER, password, key.as_ref()), None)
        }
        UsersSource::Admin(None) => {
            let password = auth::generate_password();
            (Users::single(config::ADMIN_USER, &password), Some(password))
        }
    })
}

/// Starts everything on `listener`: accounts, TLS, hub, sources and HTTP service.
pub fn start(config: &Config, listener: TcpListener) -> Result<Running, StartError> {
    let addr = listener.local_addr()?;
    let (users, generated_password) = initial_users(config)?;
    let tls = match &config.tls {
        TlsMode::Off => None,
        TlsMode::Files { cert, key } => Some(tls::from_pem_files(cert, key)?),
        TlsMode::SelfSigned { names } => Some(tls::self_signed(&config.data_dir, names)?),
    };
    let (switch, shutdown) = shutdown::channel();
    if let (TlsMode::SelfSigned { names }, Some(tls)) = (&config.tls, &tls) {
        tls::renewal::spawn_daily(config.data_dir.clone(), names.clone(), tls.current.clone(), shutdown.clone());
    }
    let limits = LoginLimits {
        per_ip_per_minute: config.login_attempts_per_ip,
        per_user_per_minute: config.login_attempts_per_user,
        ..LoginLimits::default()
    };
    let link = match &config.cluster {
        Some(settings) => Some(cluster::Link::new(settings, &config.sources, config.history)?),
        None => None,
    };
    let shared_books = link.as_ref().map(|l| {
        (l.tokens() as Arc<dyn auth::token::shared::SharedTokens>, l.totp() as Arc<dyn auth::totp::shared::SharedTotp>)
    });
    let auth = Auth::with_devices(users, limits, boot::devices(config, tls.is_some()))
        .with_viewers(config.viewers.iter().cloned());
    let book = link.as_ref().map(|l| l.book() as Arc<dyn auth::shared::SharedAuth>);
    let redis_sessions = link.as_ref().map(|l| l.sessions(config.sessions));
    let auth = Arc::new(match (&link, &config.cluster) {
        (Some(link), Some(settings)) => {
            auth.with_shared(link.book(), auth::shared::derive_key(&settings.secret.0, "websocket tickets"))
        }
        _ => auth,
    });
    let history =
        HistoryLimits { max_age: config.history, max_len: config.history_len, max_bytes: config.history_bytes };
    let hub = Arc::new(Hub::new(history));
    let stamper = Arc::new(Stamper::new(hub.clone()));
    let source_metrics = SourceMetrics::default();
    // Sources are known to the hub before the store refills their history, and that before any
    // of them publishes.
    for spec in &config.sources {
        stamper.register(&spec.name, spec.interval, &spec.series);
    }
    // The fleet: this machine's `local` source, and the targets file's hosts (declared now, so
    // that the store refills their history too; fetched once the rest is wired).
    let directory = fleet::Directory::new();
    fleet::hosts::add_configured(&directory, &config.sources);
    let roster = boot::fleet_roster(config, &hub, &directory);
    let store =
        config.store.as_ref().map(|s| persist::start(boot::store_config(s), &hub, config.history, shutdown.clone()));
    let settings = config.sources.iter().map(|s| (s.name.clone(), s.series.clone())).collect();
    let intervals = config.sources.iter().map(|s| (s.name.clone(), s.interval)).collect();
    let alerts =
        alerts::feed::start(config.alerts.clone(), settings, &intervals, &hub, store.clone(), shutdown.clone());
    // Notifications: each event's outbox rows are written with it; a delivery task per channel.
    let hooks: Arc<dyn notify::hooks::Hooks> = Arc::new(notify::hours::Hours::new(alerts.clone()));
    let base = boot::notify_base(config, addr, tls.is_some());
    let notifier = notify::start(&config.notify, store.as_ref(), &alerts, &base, &hooks, &shutdown);
    let (cluster, targets) = match link {
        Some(link) => {
            let state = link.state();
            // A source's alerts are judged by its lease's holder alone (alerts::cluster).
            let node = cluster::coordinator::start(
                link.with_alerts(alerts.clone()),
                hub.clone(),
                stamper,
                auth.clone(),
                &config.sources,
                &source_metrics,
                &shutdown,
            );
            alerts.join_cluster(node.clone());
            // A delivery is sent by its source's lease holder alone, claimed with its token.
            notifier.use_claims(node.clone());
            // Each host leased like a configured source: one fetch per host across the cluster.
            let placement = cluster::fleet::Shared(node);
            let targets = roster.and_then(|r| boot::run_fleet(r, placement, source_metrics.clone(), shutdown.clone()));
            (Some(state), targets)
        }
        None => {
            for spec in &config.sources {
                sources::spawn(
                    stamper.clone(),
                    source_metrics.clone(),
                    spec.clone(),
                    sources::always(),
                    shutdown.clone(),
                );
            }
            let placement = fleet::hosts::Alone(stamper.clone());
            let targets = roster.and_then(|r| boot::run_fleet(r, placement, source_metrics.clone(), shutdown.clone()));
            (None, targets)
        }
    };
    boot::spawn_housekeeping(auth.clone(), hub.clone(), shutdown.clone());
    // The board that sums the fleet's hosts up for the overview.
    let board = fleet::summary::Board::start(&hub, directory.clone(), targets.clone(), shutdown.clone());
    let gate = boot::gate(config, &auth, store.as_ref(), shared_books, tls.is_some(), &shutdown);
    if let Some(redis) = redis_sessions {
        gate.sessions.keep_in(Arc::new(redis.clone()));
        redis.listen(gate.sessions.clone(), shutdown.clone());
    }
    boot::spawn_session_keeper(gate.clone(), shutdown.clone());
    let connections = Arc::new(Connections::default());
    let ws = WsState {
        auth: auth.clone(),
        gate: gate.clone(),
        hub: hub.clone(),
        summary: board,
        class: Arc::new(directory.clone()),
        config: Arc::new(boot::ws_config(config, tls.is_some())),
        connections: connections.clone(),
        shutdown: shutdown.clone(),
    };
    let observed = Observed {
        hub: hub.clone(),
        auth: auth.clone(),
        connections: connections.clone(),
        sources: source_metrics,
        store: store.clone(),
        more: cluster
            .clone()
            .map(|c| c as Arc<dyn metrics::Families>)
            .into_iter()
            .chain([alerts::handle::families(&alerts), notify::handle::families(&notifier)])
            .collect(),
    };
    let options = ServeOptions {
        tls: tls.as_ref().map(|t| TlsAcceptor::from(t.config.clone())),
        header_timeout: config.header_timeout,
        write_timeout: config.write_timeout,
        max_connections: config.max_http_connections,
        max_connections_per_ip: config.max_http_connections_per_ip,
        addresses: Arc::new(AddressPolicy {
            trusted_proxies: config.trusted_proxies.clone(),
            ipv6_prefix: config.ipv6_prefix,
        }),
    };
    let detail = router::Detail { hub: hub.clone(), cluster, store: store.clone(), targets };
    let metrics_addr = match config.metrics_listen {
        Some(addr) => Some(boot::serve_metrics(addr, observed.clone(), detail.clone(), &options, shutdown.clone())?),
        None => None,
    };
    let base: Arc<str> = config.public_url.as_ref().map_or_else(|| Arc::from(""), |u| Arc::from(u.base.as_str()));
    let pages = Arc::new(ui::AccountPages::new());
    let login = login::LoginState::new(gate.clone(), base.clone(), pages, boot::pending(config, book));
    let state = AppState {
        leptos: ui::site_options(addr),
        auth: auth.clone(),
        gate: gate.clone(),
        login,
        hub: hub.clone(),
        ws,
        metrics: observed,
        store: store.clone(),
        detail,
        site: http::origin::SiteOrigin::new(config.public_url.as_ref().map(|u| u.origin.as_str()), tls.is_some()),
        alerts_view: ui::AlertsView::new(alerts.clone(), notifier.clone(), base.clone(), config),
        alerts: alerts.clone(),
        notifier: notifier.clone(),
        directory: directory.clone(),
        files: config.site.clone(),
    };
    let task = tokio::spawn(serve::serve(listener, router::app(state, base, tls.is_some()), options, shutdown));
    Ok(Running {
        addr,
        generated_password,
        tls: tls.map(|t| (t.fingerprint, t.cert_path)),
        metrics_addr,
        auth,
        gate,
        connections,
        store,
        alerts,
        notifier,
        directory,
        hub,
        switch,
        task,
    })
}
