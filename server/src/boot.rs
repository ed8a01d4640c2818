//! The parts of start-up that only assemble settings or spawn a housekeeping task: the store's
//! settings, device cookies, the WebSocket settings, the loopback `/metrics` listener, the
//! minutely housekeeping, the [`crate::auth::Gate`] (sessions taken in from the store) and the
//! sessions' keeper (expiry every second, password changes), the fleet's hosts of the targets
//! file (declared, then run). May import the config and the wings
//! it configures; never the crate root.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::auth::device::Devices;
use crate::auth::{self, Auth};
use crate::clock;
use crate::config::{self, Config};
use crate::fleet::Directory;
use crate::fleet::hosts::{self, Fleet, Placement, Roster};
use crate::fleet::hosts_health::TargetsHealth;
use crate::http::serve::{self, ServeOptions};
use crate::live::hub::Hub;
use crate::live::ws::WsConfig;
use crate::metrics::{Observed, SourceMetrics};
use crate::router;
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreConfig};

/// The store's settings as the store takes them.
pub(crate) fn store_config(s: &config::StoreSettings) -> StoreConfig {
    StoreConfig {
        path: s.path.clone(),
        max_bytes: s.max_bytes,
        raw_for: s.raw_for,
        minute_for: s.minute_for,
        hour_for: s.hour_for,
        queue: 65_536,
        max_reads: s.max_reads,
    }
}

/// How device cookies are made: signed with a key derived from the cluster's secret (so that every
/// instance accepts them) or else kept in the data directory (a key for this process's life when
/// it cannot be kept there), Secure when browsers reach livedash over HTTPS, for the base path.
pub(crate) fn devices(config: &Config, tls: bool) -> Devices {
    let https = tls || config.public_url.as_ref().is_some_and(|u| u.origin.starts_with("https://"));
    let base = config.public_url.as_ref().map_or("", |u| u.base.as_str());
    if let Some(settings) = &config.cluster {
        return Devices::new(auth::shared::derive_key(&settings.secret.0, "device cookies"), https, base);
    }
    let path = config.data_dir.join("device.key");
    let key = auth::device::load_or_create_key(&path, auth::accounts::random()).unwrap_or_else(|e| {
        tracing::warn!(path = %path.display(), error = %e, "cannot keep the device-cookie key; browsers will need to log in anew after a restart to be exempt from an attack on their user");
        auth::accounts::random()
    });
    Devices::new(key, https, base)
}

/// The key the admin password's version is made from when it comes from the environment and
/// there is no cluster: the data directory's device-cookie key, purpose-separated by HMAC, so that
/// the version (and the device cookies bound to it) outlives a restart. `None` when that key can
/// be neither read nor made (the version is then the hash's, new at every start).
pub(crate) fn version_key(config: &Config) -> Option<[u8; 32]> {
    let path = config.data_dir.join("device.key");
    let key = auth::device::load_or_create_key(&path, auth::accounts::random()).ok()?;
    Some(auth::credentials::mac(&key, &[b"livedash password versions"]))
}

/// How the WebSocket endpoint behaves, from the configuration.
pub(crate) fn ws_config(config: &Config, tls: bool) -> WsConfig {
    WsConfig {
        public_origin: config.public_url.as_ref().map(|u| u.origin.clone()),
        allowed_origins: config.allowed_origins.clone(),
        tls,
        max_connections: config.max_connections,
        max_connections_per_ip: config.max_connections_per_ip,
        idle_timeout: config.ws_idle_timeout,
    }
}

/// Serves `/metrics` without authentication on the loopback address `addr`; returns the address
/// it got.
pub(crate) fn serve_metrics(
    addr: SocketAddr,
    observed: Observed,
    detail: router::Detail,
    options: &ServeOptions,
    shutdown: Shutdown,
) -> std::io::Result<SocketAddr> {
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(std_listener)?;
    let bound = listener.local_addr()?;
    let options = ServeOptions { tls: None, ..options.clone() };
    tokio::spawn(serve::serve(listener, router::metrics_only(observed, detail), options, shutdown));
    Ok(bound)
}

/// Forgets idle throttling state and expired cache entries, and sums up the refusals logged, once
/// a minute; marks sources stale that have gone quiet (checked twice a second).
pub(crate) fn spawn_housekeeping(auth: Arc<Auth>, hub: Arc<Hub>, mut shutdown: Shutdown) {
    tokio::spawn(async move {
        let minute = Duration::from_secs(60);
        let mut minutely = tokio::time::interval_at(tokio::time::Instant::now() + minute, minute);
        let mut stale_check = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = minutely.tick() => auth.forget_idle(),
                _ = stale_check.tick() => hub.mark_stale(clock::now_ms()),
                () = shutdown.stopped() => break,
            }
        }
    });
}

/// The absolute base of the links in notifications: the public URL (with its path) when one is
/// set, else this server's listen address (`addr`, as bound).
pub fn notify_base(config: &Config, addr: SocketAddr, tls: bool) -> String {
    match &config.public_url {
        Some(u) => format!("{}{}", u.origin, u.base),
        None => format!("{}://{addr}", if tls { "https" } else { "http" }),
    }
}

/// Who a request is: `auth` with the sessions (kept in `store` when there is one: those it kept are
/// taken in now), tokens and second factors beside it, and the audit (`audit.log` in the data
/// directory and the store), where `auth` records refused Basic credentials too.
/// API tokens and second factors are kept in `store` too (read from it now), and in a cluster in
/// its `shared` books too (read again until `shutdown`).
pub(crate) fn gate(
    config: &Config,
    auth: &Arc<Auth>,
    store: Option<&Arc<Store>>,
    shared: Option<(Arc<dyn crate::auth::token::shared::SharedTokens>, Arc<dyn crate::auth::totp::shared::SharedTotp>)>,
    tls: bool,
    shutdown: &Shutdown,
) -> crate::auth::Gate {
    use crate::auth::{session, token, totp};
    let sessions = Arc::new(session::Sessions::new(config.sessions));
    if let Some(store) = store {
        sessions.keep_in(Arc::new(session::sqlite::InStore(store.clone())));
        // In a cluster, Redis is where sessions are known (an end on another instance would not
        // reach this store's rows): those are found there when used.
        if config.cluster.is_none() {
            let taken = sessions.load(session::sqlite::load(store));
            tracing::debug!(sessions = taken, "sessions taken in from the history store");
        }
    }
    // The audit log: <data-dir>/audit.log and the store; refused Basic credentials go there too.
    let audit = crate::audit::Audit::new(&config.data_dir, store.cloned());
    auth.set_audit(audit.clone());
    let backing = store.map(|s| token::Backing { store: s.clone(), path: s.config().path.clone() });
    let tokens = token::Tokens::new(backing.clone(), audit.clone());
    let totp = totp::Totp::new(backing, audit.clone());
    let (tokens, totp) = match shared {
        Some((shared_tokens, shared_totp)) => (tokens.with_shared(shared_tokens), totp.with_shared(shared_totp)),
        None => (tokens, totp),
    };
    let (tokens, totp) = (Arc::new(tokens), Arc::new(totp));
    tokens.spawn_refresh(shutdown.clone());
    totp.spawn_refresh(shutdown.clone());
    crate::auth::Gate { auth: auth.clone(), sessions, tokens, totp, audit, mode: config.login, tls }
}

/// Ends expired sessions every second (their sockets close), and a user's sessions when the
/// users file no longer has the password they logged in with (changed, or the user removed).
pub(crate) fn spawn_session_keeper(gate: crate::auth::Gate, mut shutdown: Shutdown) {
    use crate::auth::session::EndReason;
    tokio::spawn(async move {
        let mut accounts = gate.auth.changes();
        let mut sweep = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = sweep.tick() => {
                    for s in gate.sessions.sweep().await {
                        tracing::debug!(user = ?s.user, "a session expired");
                    }
                }
                changed = accounts.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    for s in gate.sessions.list(None).await {
                        if gate.auth.user_version(&s.user) != Some(s.version)
                            && gate.sessions.end(s.handle, EndReason::PasswordChanged).await.is_some()
                        {
                            tracing::info!(user = ?s.user, "a session ended: its user's password changed or the user was removed");
                            let mut detail = serde_json::Map::new();
                            detail.insert("session".to_owned(), s.handle.hex().into());
                            detail.insert("device".to_owned(), s.device.clone().into());
                            gate.audit.record(crate::audit::AuditEvent {
                                kind: crate::audit::AuditKind::PasswordChanged,
                                user: Some(s.user.to_string()),
                                addr: None,
                                detail,
                            });
                        }
                    }
                }
                () = shutdown.stopped() => break,
            }
        }
    });
}

/// How pending logins (between the password and the code) are signed and redeemed: with a key
/// derived from the cluster's secret and in its shared book (any instance takes the second step),
/// else with a key of this process.
pub(crate) fn pending(
    config: &Config,
    book: Option<Arc<dyn auth::shared::SharedAuth>>,
) -> crate::login::pending::Pending {
    let key = config
        .cluster
        .as_ref()
        .map_or_else(auth::accounts::random, |c| auth::shared::derive_key(&c.secret.0, "pending logins"));
    crate::login::pending::Pending::new(key, book)
}

/// The targets file's hosts, declared in the hub and the fleet's `directory` (before the history
/// store refills the hub, so that their history comes back too), with the file's path; `None`
/// without a targets file. A file that went bad since the configuration was checked declares no
/// host: the watch takes it from there.
pub(crate) fn fleet_roster(config: &Config, hub: &Arc<Hub>, directory: &Directory) -> Option<(PathBuf, Roster)> {
    let path = config.targets_file.clone()?;
    let reserved = config.sources.iter().map(|s| s.name.clone());
    let mut roster = Roster::new(hub.clone(), directory.clone(), config.interval, reserved);
    match crate::targets::file::load(&path) {
        Ok(targets) => roster.declare(&targets),
        Err(e) => tracing::warn!(error = %e, "targets file refused at start; no hosts until it is good"),
    }
    Some((path, roster))
}

/// Runs the `roster`'s hosts with `placement`, following the file at `path` until `shutdown`;
/// what `/api/health` says of the file.
pub(crate) fn run_fleet<P: Placement>(
    (path, roster): (PathBuf, Roster),
    placement: P,
    metrics: SourceMetrics,
    shutdown: Shutdown,
) -> Option<TargetsHealth> {
    let health = TargetsHealth::new(path.clone(), roster.len());
    match Fleet::new(roster, placement, metrics, shutdown) {
        Ok(fleet) => {
            tokio::spawn(hosts::run(fleet, path, health.clone()));
            Some(health)
        }
        Err(e) => {
            tracing::error!(error = %e, "the fleet's hosts cannot be fetched");
            None
        }
    }
}
