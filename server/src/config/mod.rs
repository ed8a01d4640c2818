//! Configuration: command-line flags with `LIVEDASH_*` environment fallbacks ([`cli`]) and the
//! subcommands' declarations ([`commands`]), an optional
//! TOML file ([`file`], its per-series tables in [`series`], its alert rules in [`alert`], its
//! notification channels in [`notify`], the
//! cluster's settings in [`cluster`], the login's in [`login`]), merged here once (flag > variable > file > default) into a validated
//! [`Config`], before anything starts. A bad value stops start-up with a message naming the flag,
//! the variable or the file's key. Value parsers shared by both are in [`parse`].
//!
//! Imports [`crate::sources`] (a source's typed settings), [`crate::targets`] (the targets file,
//! checked at start-up), [`crate::alerts::rules`] (the typed
//! rules it makes), [`crate::notify`] (the channels it makes), [`crate::auth`] (the login mode
//! and the sessions' policy it makes), the Origin normalisation of [`crate::http::origin`] and
//! [`crate::site`] (where the site's files come from); the sub-systems take plain values from the [`Config`], never the
//! other way round.

pub mod alert;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod error;
pub mod file;
pub mod fleet_token;
pub mod login;
pub mod notify;
pub mod parse;
pub mod series;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use cli::{ADMIN_PASSWORD_ENV, ADMIN_USER, DEFAULT_DATA_DIR, ServeArgs};
pub use cluster::ClusterSettings;
pub use commands::{
    AlertsCommand, Cli, Command, NotifyCommand, PasswordArgs, TokenCommand, TokenStoreArgs, UsersAt, UsersCommand,
};
pub use error::ConfigError;
pub use fleet_token::FleetToken;
pub use parse::PublicUrl;

use crate::sources::{DEFAULT_MAX_BODY, Kind, SourceArg, SourceSpec, default_timeout};
use file::{File, SourceDraft};
use parse::{
    StoreArg, parse_bytes, parse_history, parse_interval, parse_public_url, parse_reads, parse_retention, parse_store,
};

/// Where livedash listens unless told otherwise.
const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 3000);
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_HISTORY: Duration = Duration::from_secs(600);
const DEFAULT_HISTORY_BYTES: usize = 64 << 20;
/// The history store's file in the data directory, unless `--store` says otherwise.
pub const STORE_FILE: &str = "history.db";
const DEFAULT_STORE_MAX_BYTES: usize = 1 << 30;
const DEFAULT_STORE_RAW_FOR: Duration = Duration::from_secs(24 * 3600);
const DEFAULT_STORE_MINUTE_FOR: Duration = Duration::from_secs(30 * 86_400);
const DEFAULT_STORE_HOUR_FOR: Duration = Duration::from_secs(365 * 86_400);
/// History reads at once: a few, so that heavy queries cannot take every core and the disk.
const DEFAULT_STORE_MAX_READS: usize = 4;

/// How the server is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain HTTP.
    Off,
    /// A certificate and key from files.
    Files {
        /// `--tls-cert`.
        cert: PathBuf,
        /// `--tls-key`.
        key: PathBuf,
    },
    /// A self-signed certificate kept in the data directory.
    SelfSigned {
        /// Names it is made for.
        names: Vec<String>,
    },
}

/// Where the accounts come from.
#[derive(Debug, Clone)]
pub enum UsersSource {
    /// A users file, re-read on SIGHUP.
    File(PathBuf),
    /// The single user `admin` with this password (`None`: generate one).
    Admin(Option<String>),
}

/// Everything the server needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The sources, in the order given.
    pub sources: Vec<SourceSpec>,
    /// The fleet's targets file (`--targets-file`), checked once here; watched by `targets`.
    pub targets_file: Option<PathBuf>,
    /// The API token sent to every `livedash:` target (`--fleet-token-file`), read once here.
    pub fleet_token: Option<FleetToken>,
    /// The alert rules: the `[[alert]]` tables, then those `alert = true` makes (the implicit
    /// "source down" rules are added when the alerts start).
    pub alerts: Vec<crate::alerts::Rule>,
    /// The notification channels (`[[notify]]`).
    pub notify: Vec<std::sync::Arc<crate::notify::Channel>>,
    /// The default fetch interval.
    pub interval: Duration,
    /// How long history is kept.
    pub history: Duration,
    /// How many samples per source are kept at most (`None`: derived from `history`).
    pub history_len: Option<usize>,
    /// How many bytes the history of all sources may take together.
    pub history_bytes: usize,
    /// The history store (`None`: memory only).
    pub store: Option<StoreSettings>,
    /// Sharing the sources with other instances through Redis (`None`: this server alone).
    pub cluster: Option<ClusterSettings>,
    /// The accounts.
    pub users: UsersSource,
    /// TLS or not.
    pub tls: TlsMode,
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// Off loopback without TLS: the operator asked for it.
    pub insecure_http: bool,
    /// `--public-url`: the origin and base path users reach livedash at.
    pub public_url: Option<PublicUrl>,
    /// Extra origins for the WebSocket.
    pub allowed_origins: Vec<String>,
    /// Read-only users (the file's `viewers`): they see everything and act on nothing.
    pub viewers: Vec<String>,
    /// How browsers log in (`--login`).
    pub login: crate::auth::LoginMode,
    /// How long sessions live.
    pub sessions: crate::auth::session::SessionPolicy,
    /// Proxies whose forwarded headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// IPv6 clients are grouped by this prefix length.
    pub ipv6_prefix: u8,
    /// Where `/metrics` is also served without authentication.
    pub metrics_listen: Option<SocketAddr>,
    /// WebSocket caps.
    pub max_connections: usize,
    /// WebSocket caps per IP.
    pub max_connections_per_ip: usize,
    /// WebSocket idle timeout.
    pub ws_idle_timeout: Duration,
    /// HTTP connections before authentication, in total.
    pub max_http_connections: usize,
    /// HTTP connections before authentication, per address group.
    pub max_http_connections_per_ip: usize,
    /// Login attempts that need a password check, per minute, from one client IP.
    pub login_attempts_per_ip: NonZeroU32,
    /// Login attempts that need a password check, per minute, for one user name.
    pub login_attempts_per_user: NonZeroU32,
    /// How long a client has to send its request headers.
    pub header_timeout: Duration,
    /// How long a response write may make no progress.
    pub write_timeout: Duration,
    /// Where the site's files come from (`--site-dir`; the binary puts its embedded site in).
    pub site: crate::site::Site,
}

/// The history store's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// The SQLite file.
    pub path: PathBuf,
    /// The most bytes its data may take.
    pub max_bytes: u64,
    /// How long full resolution is kept.
    pub raw_for: Duration,
    /// How long 1-minute roll-ups are kept.
    pub minute_for: Duration,
    /// How long 1-hour roll-ups are kept.
    pub hour_for: Duration,
    /// How many history reads may run at once.
    pub max_reads: usize,
}

/// The store's settings from flags (over) the file, `None` for `store = "none"`.
fn store_settings(args: &ServeArgs, file: &File) -> Result<Option<StoreSettings>, ConfigError> {
    let v = &file.values;
    let path = match file.pick(args.store.clone(), "store", v.store.as_ref(), parse_store)? {
        Some(StoreArg::Off) => return Ok(None),
        Some(StoreArg::File(path)) => path,
        None => args.data_dir.join(STORE_FILE),
    };
    let max_bytes = file
        .pick(args.store_max_bytes, "store_max_bytes", v.store_max_bytes.as_ref(), parse_bytes)?
        .unwrap_or(DEFAULT_STORE_MAX_BYTES);
    let keep = |flag, key, value, default| -> Result<Duration, ConfigError> {
        Ok(file.pick(flag, key, value, parse_retention)?.unwrap_or(default))
    };
    let reads_in_file = v.store_max_reads.map(|n| n.to_string());
    let max_reads = file
        .pick(args.store_max_reads, "store_max_reads", reads_in_file.as_ref(), parse_reads)?
        .unwrap_or(DEFAULT_STORE_MAX_READS);
    Ok(Some(StoreSettings {
        path,
        max_bytes: max_bytes as u64,
        raw_for: keep(args.store_raw_for, "store_raw_for", v.store_raw_for.as_ref(), DEFAULT_STORE_RAW_FOR)?,
        minute_for: keep(args.store_minute_for, "store_1m_for", v.store_minute_for.as_ref(), DEFAULT_STORE_MINUTE_FOR)?,
        hour_for: keep(args.store_hour_for, "store_1h_for", v.store_hour_for.as_ref(), DEFAULT_STORE_HOUR_FOR)?,
        max_reads,
    }))
}

/// Names checked for duplicates, defaults filled in; `local` alone when there is none. Also the
/// rules of their series tables with `alert = true`.
fn finish(
    drafts: Vec<SourceDraft>,
    interval: Duration,
) -> Result<(Vec<SourceSpec>, Vec<crate::alerts::Rule>), ConfigError> {
    let local = SourceDraft::bare(SourceArg { name: None, kind: Kind::Local });
    let drafts = if drafts.is_empty() { vec![local] } else { drafts };
    let mut specs: Vec<SourceSpec> = Vec::new();
    let mut rules = Vec::new();
    for d in drafts {
        let name = d.arg.name.clone().unwrap_or_else(|| d.arg.kind.default_name());
        if specs.iter().any(|s| *s.name == *name) {
            return Err(ConfigError::DuplicateSource(name));
        }
        let interval = d.interval.unwrap_or(interval);
        rules.extend(d.alerting.iter().flat_map(|pattern| alert::card_rules(&name, pattern)));
        // The kind's defaults first: a configured rule overrides what they set.
        let mut series = d.arg.kind.default_series();
        series.extend(d.series);
        specs.push(SourceSpec {
            name: Arc::from(name),
            kind: d.arg.kind,
            interval,
            // A fetch must end before the next tick.
            timeout: d.timeout.unwrap_or_else(|| default_timeout(interval)).min(interval),
            max_body: d.max_body.and_then(|b| usize::try_from(b).ok()).unwrap_or(DEFAULT_MAX_BODY),
            series: series.into(),
        });
    }
    Ok((specs, rules))
}

/// The accounts, from the users file flag (over the file's `users_file`) or the password
/// variable's value.
fn users(
    args: &ServeArgs,
    file: &File,
    admin_password: Option<std::ffi::OsString>,
) -> Result<UsersSource, ConfigError> {
    Ok(match (users_file(args, file)?, admin_password) {
        (Some(path), _) => UsersSource::File(path),
        (None, None) => UsersSource::Admin(None),
        (None, Some(p)) => {
            let p = p.into_string().map_err(|_| ConfigError::AdminPassword("is not valid UTF-8"))?;
            if p.is_empty() {
                return Err(ConfigError::AdminPassword("is empty; unset it to have a password generated"));
            }
            UsersSource::Admin(Some(p))
        }
    })
}

/// The users file: `--users-file` (or its variable), else the config file's `users_file`.
fn users_file(args: &ServeArgs, file: &File) -> Result<Option<PathBuf>, ConfigError> {
    file.pick(args.users_file.clone(), "users_file", file.values.users_file.as_ref(), non_empty_path)
}

/// A file's path as a key gives it: not empty.
fn non_empty_path(s: &str) -> Result<PathBuf, String> {
    if s.trim().is_empty() { Err("empty: give a file".to_owned()) } else { Ok(PathBuf::from(s)) }
}

/// TLS as asked for, or by default off loopback unless `--insecure-http`.
fn tls_mode(args: &ServeArgs, listen: SocketAddr) -> TlsMode {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => TlsMode::Files { cert: cert.clone(), key: key.clone() },
        _ if args.tls_self_signed || (!listen.ip().is_loopback() && !args.insecure_http) => {
            TlsMode::SelfSigned { names: self_signed_names(args, listen) }
        }
        _ => TlsMode::Off,
    }
}

impl Config {
    /// The configuration from parsed flags and the password variable's value.
    pub fn from_args(args: &ServeArgs, admin_password: Option<std::ffi::OsString>) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => File::load(path)?,
            None => File::none(),
        };
        let users = users(args, &file, admin_password)?;
        // The same accounts on every instance of a cluster: a users file or a given password.
        let fixed_accounts = !matches!(users, UsersSource::Admin(None));
        let v = &file.values;
        let parse_addr = |s: &str| s.parse::<SocketAddr>().map_err(|e| e.to_string());
        let listen = file.pick(args.listen, "listen", v.listen.as_ref(), parse_addr)?.unwrap_or(DEFAULT_LISTEN);
        let interval =
            file.pick(args.interval, "interval", v.interval.as_ref(), parse_interval)?.unwrap_or(DEFAULT_INTERVAL);
        let history = file.pick(args.history, "history", v.history.as_ref(), parse_history)?.unwrap_or(DEFAULT_HISTORY);
        let public_url = file.pick(args.public_url.clone(), "public_url", v.public_url.as_ref(), parse_public_url)?;
        let sources = if args.sources.is_empty() {
            file.sources()?
        } else {
            args.sources.iter().map(|arg| SourceDraft::bare(arg.clone())).collect()
        };
        let (sources, card_rules) = finish(sources, interval)?;
        let targets_file =
            file.pick(args.targets_file.clone(), "targets_file", v.targets_file.as_ref(), non_empty_path)?;
        if let Some(targets) = &targets_file {
            crate::targets::file::load(targets)?;
        }
        let fleet_token = file.fleet_token(args.fleet_token_file.clone())?;
        let mut alerts = file.alerts()?;
        for rule in card_rules {
            if alerts.iter().any(|r| r.name == rule.name) {
                return Err(file.duplicate_alert(&rule.name));
            }
            alerts.push(rule);
        }
        let notify = file.notify()?;
        let (login, sessions) = file.login(&args.login)?;
        if let Some(dir) = args.site_dir.as_ref().filter(|d| !d.is_dir()) {
            return Err(ConfigError::SiteDir(dir.clone()));
        }
        file.check_alert_channels(&alerts, &notify)?;
        Ok(Self {
            listen,
            sources,
            targets_file,
            fleet_token,
            alerts,
            notify,
            interval,
            history,
            history_len: args.history_len.map(|n| n as usize),
            history_bytes: file
                .pick(args.history_bytes, "history_bytes", v.history_bytes.as_ref(), parse_bytes)?
                .unwrap_or(DEFAULT_HISTORY_BYTES),
            store: store_settings(args, &file)?,
            cluster: cluster::settings(args, &file, fixed_accounts)?,
            users,
            tls: tls_mode(args, listen),
            data_dir: args.data_dir.clone(),
            insecure_http: args.insecure_http,
            public_url,
            allowed_origins: args.allowed_origins.clone(),
            viewers: file.viewers()?,
            login,
            sessions,
            trusted_proxies: args.trusted_proxies.clone(),
            ipv6_prefix: args.ipv6_prefix,
            metrics_listen: args.metrics_listen,
            max_connections: args.max_connections as usize,
            max_connections_per_ip: args.max_connections_per_ip as usize,
            ws_idle_timeout: args.ws_idle_timeout,
            max_http_connections: args.max_http_connections as usize,
            max_http_connections_per_ip: args.max_http_connections_per_ip as usize,
            login_attempts_per_ip: args.login_attempts_per_ip,
            login_attempts_per_user: args.login_attempts_per_user,
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            site: crate::site::Site::from_flag(args.site_dir.clone()),
        })
    }

    /// Whether plain HTTP is served where others can reach it.
    pub fn clear_text_off_loopback(&self) -> bool {
        self.tls == TlsMode::Off && !self.listen.ip().is_loopback()
    }
}

/// The names a self-signed certificate is made for: the listen address when it is a specific
/// one, the machine's host name, and `--tls-san`.
fn self_signed_names(args: &ServeArgs, listen: SocketAddr) -> Vec<String> {
    let mut names = Vec::new();
    if !listen.ip().is_unspecified() {
        names.push(listen.ip().to_string());
    }
    if let Ok(host) = sysinfo::System::host_name() {
        names.push(host);
    }
    names.extend(args.tls_san.iter().cloned());
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests;
