//! Configuration: command-line flags with `LIVEDASH_*` environment fallbacks, checked before
//! anything starts. A bad value stops start-up with a message naming the flag and the variable.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::LoginLimits;

/// livedash: a self-hosted, real-time monitoring dashboard.
#[derive(Debug, Clone, Parser)]
#[command(name = "livedash", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// A command other than serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Serving options.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Commands besides serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Reads a password (without echo on a terminal, else one line of standard input) and prints
    /// its argon2id hash for a users file line `name:HASH`.
    HashPassword,
    /// Prints the SHA-256 fingerprint of the server's TLS certificate.
    Fingerprint {
        /// The certificate to read (default: the self-signed one in the data directory).
        #[arg(long, env = "LIVEDASH_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// Where the self-signed certificate is kept.
        #[arg(long, env = "LIVEDASH_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
}

/// Where state that must survive restarts (the self-signed certificate) is kept by default.
pub const DEFAULT_DATA_DIR: &str = ".livedash";

/// The options of `livedash` (serving).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// A TOML file with `listen`, `interval`, `history`, `public_url` and `[[source]]` tables (name, url or
    /// type = "local", interval, timeout, max_body). Flags and variables override it.
    #[arg(long, env = "LIVEDASH_CONFIG")]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:3000]. Off loopback, TLS is on by default (see
    /// --insecure-http).
    #[arg(long, env = "LIVEDASH_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// A source to show; repeatable (space-separated in the variable). `local` (this machine, the
    /// default), a JSON endpoint `http://host/path`, or a Prometheus endpoint
    /// `prometheus:http://host:9100/metrics#metric,metric{label="value"}`, each optionally named:
    /// `api=http://10.0.0.5:9100/`.
    #[arg(long = "source", env = "LIVEDASH_SOURCE", value_delimiter = ' ')]
    pub sources: Vec<crate::sources::SourceArg>,

    /// How often every source is fetched, e.g. `1s`, `500ms` [default: 1s].
    #[arg(long, env = "LIVEDASH_INTERVAL", value_parser = parse_interval)]
    pub interval: Option<Duration>,

    /// How much history each source keeps for first paint, sparklines and resume [default: 10m].
    #[arg(long, env = "LIVEDASH_HISTORY", value_parser = parse_history)]
    pub history: Option<Duration>,

    /// The most samples each source keeps [default: as many as --history holds at its interval,
    /// at most 100000].
    #[arg(long, env = "LIVEDASH_HISTORY_LEN", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub history_len: Option<u32>,

    /// Users file: one `name:hash` per line (argon2id from `livedash hash-password`, or bcrypt
    /// from `htpasswd -nB name`). Re-read on SIGHUP. Without it: user `admin` with
    /// LIVEDASH_ADMIN_PASSWORD, or a generated password printed at start-up.
    #[arg(long, env = "LIVEDASH_USERS_FILE")]
    pub users_file: Option<PathBuf>,

    /// Where state that must survive restarts is kept (the self-signed certificate).
    #[arg(long, env = "LIVEDASH_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,

    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "LIVEDASH_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM); needs --tls-cert.
    #[arg(long, env = "LIVEDASH_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve TLS with a self-signed certificate kept in the data directory (its fingerprint is
    /// printed at start-up). The default off loopback.
    #[arg(long, env = "LIVEDASH_TLS_SELF_SIGNED", conflicts_with = "tls_cert")]
    pub tls_self_signed: bool,

    /// Extra names (DNS names or IP addresses) for the self-signed certificate; repeatable.
    #[arg(long = "tls-san", env = "LIVEDASH_TLS_SAN", value_delimiter = ',')]
    pub tls_san: Vec<String>,

    /// Serve plain HTTP off loopback. Basic credentials then travel in clear text: only behind a
    /// TLS-terminating proxy on a trusted network.
    #[arg(long, env = "LIVEDASH_INSECURE_HTTP", conflicts_with_all = ["tls_cert", "tls_self_signed"])]
    pub insecure_http: bool,

    /// The address users reach livedash at, when a reverse proxy serves it elsewhere (e.g.
    /// `https://ops.example.com/dash`): everything is then served under its path (`/dash/`,
    /// `/dash/ws`, `/dash/api/...`, `/dash/healthz`) and the WebSocket accepts its origin.
    #[arg(long, env = "LIVEDASH_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<PublicUrl>,

    /// Another origin allowed to open the WebSocket (e.g. `https://ops.example.com`); repeatable.
    #[arg(long = "allowed-origin", env = "LIVEDASH_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub allowed_origins: Vec<String>,

    /// A reverse proxy (IP or CIDR) whose X-Forwarded-For and X-Forwarded-Proto are believed, for
    /// throttling by the real client address and the WebSocket Origin check; repeatable.
    #[arg(long = "trusted-proxy", env = "LIVEDASH_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Also serve `/metrics` without authentication on this address (loopback only), for a
    /// Prometheus on the same machine.
    #[arg(long, env = "LIVEDASH_METRICS_LISTEN", value_parser = parse_loopback)]
    pub metrics_listen: Option<SocketAddr>,

    /// Most WebSocket connections open at once.
    #[arg(long, env = "LIVEDASH_MAX_CONNECTIONS", default_value = "10000", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Most WebSocket connections open at once from one client IP.
    #[arg(long, env = "LIVEDASH_MAX_CONNECTIONS_PER_IP", default_value = "64", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_ip: u32,

    /// A WebSocket client that answers no ping for this long is closed.
    #[arg(long, env = "LIVEDASH_WS_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_idle)]
    pub ws_idle_timeout: Duration,

    /// Login attempts that need a password check, per minute, from one client IP.
    #[arg(long, env = "LIVEDASH_LOGIN_ATTEMPTS_PER_IP", default_value = "10")]
    pub login_attempts_per_ip: NonZeroU32,

    /// Login attempts that need a password check, per minute, for one user name (all addresses).
    #[arg(long, env = "LIVEDASH_LOGIN_ATTEMPTS_PER_USER", default_value = "30")]
    pub login_attempts_per_user: NonZeroU32,
}

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
    pub sources: Vec<crate::sources::SourceSpec>,
    /// The default fetch interval.
    pub interval: Duration,
    /// How long history is kept.
    pub history: Duration,
    /// How many samples per source are kept at most (`None`: derived from `history`).
    pub history_len: Option<usize>,
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
    /// Proxies whose forwarded headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where `/metrics` is also served without authentication.
    pub metrics_listen: Option<SocketAddr>,
    /// WebSocket caps.
    pub max_connections: usize,
    /// WebSocket caps per IP.
    pub max_connections_per_ip: usize,
    /// WebSocket idle timeout.
    pub ws_idle_timeout: Duration,
    /// Throttling of login attempts.
    pub login_limits: LoginLimits,
    /// How long a client has to send its request headers.
    pub header_timeout: Duration,
}

/// The one user name when there is no users file.
pub const ADMIN_USER: &str = "admin";
/// The environment variable holding the admin password (never a flag: flags show in `ps`).
pub const ADMIN_PASSWORD_ENV: &str = "LIVEDASH_ADMIN_PASSWORD";

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The admin password variable is set but unusable.
    #[error("{ADMIN_PASSWORD_ENV}: {0}")]
    AdminPassword(&'static str),
    /// Two sources with one name.
    #[error("--source: two sources are named {0:?}; name them apart with name=URL")]
    DuplicateSource(String),
    /// The `--config` file is unreadable or has a bad or unknown key.
    #[error("--config {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key (and for syntax errors the line).
        message: String,
    },
}

/// The `--config` file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    interval: Option<String>,
    history: Option<String>,
    public_url: Option<String>,
    #[serde(default)]
    source: Vec<FileSource>,
}

/// One `[[source]]` table.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSource {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    interval: Option<String>,
    timeout: Option<String>,
    max_body: Option<u64>,
    /// For `type = "prometheus"`: the metrics to keep (`name` or `name{label="value"}`).
    metrics: Option<Vec<String>>,
}

impl FileConfig {
    fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let err = |message: String| ConfigError::File { path: path.to_owned(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| err(e.to_string().trim_end().replace('\n', " ")))
    }
}

/// A source before its name is checked against the others.
struct SourceDraft {
    arg: crate::sources::SourceArg,
    interval: Duration,
    timeout: Option<Duration>,
    max_body: Option<u64>,
}

impl SourceDraft {
    /// Names checked for duplicates, defaults filled in; `local` alone when there is none.
    fn finish(drafts: Vec<Self>, interval: Duration) -> Result<Vec<crate::sources::SourceSpec>, ConfigError> {
        let local = Self {
            arg: crate::sources::SourceArg { name: None, kind: crate::sources::Kind::Local },
            interval,
            timeout: None,
            max_body: None,
        };
        let drafts = if drafts.is_empty() { vec![local] } else { drafts };
        let mut specs: Vec<crate::sources::SourceSpec> = Vec::new();
        for d in drafts {
            let name = d.arg.name.clone().unwrap_or_else(|| d.arg.default_name());
            if specs.iter().any(|s| *s.name == *name) {
                return Err(ConfigError::DuplicateSource(name));
            }
            specs.push(crate::sources::SourceSpec {
                name: std::sync::Arc::from(name),
                kind: d.arg.kind,
                interval: d.interval,
                // A fetch must end before the next tick.
                timeout: d.timeout.unwrap_or_else(|| crate::sources::default_timeout(d.interval)).min(d.interval),
                max_body: d.max_body.and_then(|b| usize::try_from(b).ok()).unwrap_or(crate::sources::DEFAULT_MAX_BODY),
            });
        }
        Ok(specs)
    }
}

impl FileConfig {
    fn sources(&self, path: &std::path::Path, interval: Duration) -> Result<Vec<SourceDraft>, ConfigError> {
        let bad = |key: String, message: String| ConfigError::File {
            path: path.to_owned(),
            message: format!("`{key}`: {message}"),
        };
        let mut drafts = Vec::new();
        for (i, s) in self.source.iter().enumerate() {
            let key = |k: &str| format!("source[{i}].{k}");
            let spec = match (s.kind.as_deref(), &s.url) {
                (Some("local") | None, None) => "local".to_owned(),
                (Some("http") | None, Some(url)) => url.clone(),
                (Some("prometheus"), Some(url)) => {
                    format!("prometheus:{url}#{}", s.metrics.as_deref().unwrap_or_default().join(","))
                }
                (Some(other), _) => {
                    return Err(bad(
                        key("type"),
                        format!("{other:?}: use \"local\", or \"http\" or \"prometheus\" with a url"),
                    ));
                }
            };
            if s.metrics.is_some() && s.kind.as_deref() != Some("prometheus") {
                return Err(bad(key("metrics"), "only for type = \"prometheus\"".to_owned()));
            }
            let spec = match &s.name {
                Some(name) => format!("{name}={spec}"),
                None => spec,
            };
            let arg = spec
                .parse::<crate::sources::SourceArg>()
                .map_err(|e| bad(key(if s.url.is_some() { "url" } else { "name" }), e))?;
            let own_interval = file_value(path, &key("interval"), s.interval.as_ref(), parse_interval)?;
            let timeout = file_value(path, &key("timeout"), s.timeout.as_ref(), |v| {
                parse_duration(v, Duration::from_millis(10), Duration::from_secs(60))
            })?;
            drafts.push(SourceDraft { arg, interval: own_interval.unwrap_or(interval), timeout, max_body: s.max_body });
        }
        Ok(drafts)
    }
}

fn file_value<T>(
    path: &std::path::Path,
    key: &str,
    value: Option<&String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    value
        .map(|v| {
            parse(v).map_err(|e| ConfigError::File { path: path.to_owned(), message: format!("`{key}` = {v:?}: {e}") })
        })
        .transpose()
}

impl Config {
    /// The configuration from parsed flags and the password variable's value.
    pub fn from_args(args: &ServeArgs, admin_password: Option<std::ffi::OsString>) -> Result<Self, ConfigError> {
        let users = match (&args.users_file, admin_password) {
            (Some(path), _) => UsersSource::File(path.clone()),
            (None, None) => UsersSource::Admin(None),
            (None, Some(p)) => {
                let p = p.into_string().map_err(|_| ConfigError::AdminPassword("is not valid UTF-8"))?;
                if p.is_empty() {
                    return Err(ConfigError::AdminPassword("is empty; unset it to have a password generated"));
                }
                UsersSource::Admin(Some(p))
            }
        };
        let (path, file) = match &args.config {
            Some(path) => (path.clone(), FileConfig::load(path)?),
            None => (PathBuf::new(), FileConfig::default()),
        };
        let listen = match args.listen {
            Some(listen) => listen,
            None => file_value(&path, "listen", file.listen.as_ref(), |v| {
                v.parse::<SocketAddr>().map_err(|e| e.to_string())
            })?
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000))),
        };
        let interval = match args.interval {
            Some(interval) => interval,
            None => {
                file_value(&path, "interval", file.interval.as_ref(), parse_interval)?.unwrap_or(Duration::from_secs(1))
            }
        };
        let history = match args.history {
            Some(history) => history,
            None => {
                file_value(&path, "history", file.history.as_ref(), parse_history)?.unwrap_or(Duration::from_secs(600))
            }
        };
        let public_url = match &args.public_url {
            Some(url) => Some(url.clone()),
            None => file_value(&path, "public_url", file.public_url.as_ref(), parse_public_url)?,
        };
        let sources = if args.sources.is_empty() {
            file.sources(&path, interval)?
        } else {
            args.sources
                .iter()
                .map(|arg| SourceDraft { arg: arg.clone(), interval, timeout: None, max_body: None })
                .collect()
        };
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => TlsMode::Files { cert: cert.clone(), key: key.clone() },
            _ if args.tls_self_signed || (!listen.ip().is_loopback() && !args.insecure_http) => {
                TlsMode::SelfSigned { names: self_signed_names(args, listen) }
            }
            _ => TlsMode::Off,
        };
        Ok(Self {
            listen,
            sources: SourceDraft::finish(sources, interval)?,
            interval,
            history,
            history_len: args.history_len.map(|n| n as usize),
            users,
            tls,
            data_dir: args.data_dir.clone(),
            insecure_http: args.insecure_http,
            public_url,
            allowed_origins: args.allowed_origins.clone(),
            trusted_proxies: args.trusted_proxies.clone(),
            metrics_listen: args.metrics_listen,
            max_connections: args.max_connections as usize,
            max_connections_per_ip: args.max_connections_per_ip as usize,
            ws_idle_timeout: args.ws_idle_timeout,
            login_limits: LoginLimits {
                per_ip_per_minute: args.login_attempts_per_ip,
                per_user_per_minute: args.login_attempts_per_user,
            },
            header_timeout: Duration::from_secs(10),
        })
    }

    /// A configuration for tests: loopback on an OS-chosen port, fast sampling, a known password.
    pub fn for_tests(password: &str) -> Self {
        let mut config =
            Self::from_args(&ServeArgs::for_tests(), Some(password.into())).unwrap_or_else(|_| unreachable!());
        config.interval = Duration::from_millis(200);
        for source in &mut config.sources {
            source.interval = config.interval;
            source.timeout = crate::sources::default_timeout(config.interval);
        }
        config.history = Duration::from_secs(60);
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config
    }

    /// Whether plain HTTP is served where others can reach it.
    pub fn clear_text_off_loopback(&self) -> bool {
        self.tls == TlsMode::Off && !self.listen.ip().is_loopback()
    }
}

impl ServeArgs {
    fn for_tests() -> Self {
        Cli::try_parse_from(["livedash"]).map(|c| c.serve).unwrap_or_else(|_| unreachable!())
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

fn parse_duration(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 1s, 500ms, 2m)"))?;
    if d < min || d > max {
        return Err(format!(
            "must be between {} and {}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        ));
    }
    Ok(d)
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_millis(50), Duration::from_secs(3600))
}

fn parse_history(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_secs(1), Duration::from_secs(7 * 24 * 3600))
}

fn parse_idle(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_secs(1), Duration::from_secs(3600))
}

fn parse_loopback(s: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = s.parse().map_err(|e| format!("{e}"))?;
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err("metrics without authentication are served on loopback only (e.g. 127.0.0.1:9464)".to_owned())
    }
}

fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not an IP address or a CIDR range like 10.0.0.0/8"))
}

fn parse_origin(s: &str) -> Result<String, String> {
    let origin = s.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains('/') => Ok(origin),
        _ => Err("an origin is scheme://host[:port], e.g. https://ops.example.com".to_owned()),
    }
}

/// Where users reach livedash (`--public-url`), split into what the server needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, lower case, without a default port: what browsers send as Origin.
    pub origin: String,
    /// The path everything is served under, without a trailing slash: `""` or `/dash`.
    pub base: String,
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}/", self.origin, self.base)
    }
}

fn parse_public_url(s: &str) -> Result<PublicUrl, String> {
    const EXAMPLE: &str = "e.g. https://ops.example.com/dash";
    let s = s.trim();
    if s.contains(['?', '#']) {
        return Err(format!("{s:?}: no query or fragment, only scheme, host and path ({EXAMPLE})"));
    }
    let uri: axum::http::Uri = s.parse().map_err(|e| format!("{s:?}: {e} ({EXAMPLE})"))?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
    let default_port = match scheme.as_deref() {
        Some("https") => 443,
        Some("http") => 80,
        _ => return Err(format!("{s:?}: must start with https:// or http:// ({EXAMPLE})")),
    };
    let Some(authority) = uri.authority().filter(|a| !a.host().is_empty()) else {
        return Err(format!("{s:?}: has no host ({EXAMPLE})"));
    };
    if authority.as_str().contains('@') {
        return Err(format!("{s:?}: must not carry a user name or password"));
    }
    let host = authority.host().to_ascii_lowercase();
    let origin = match authority.port_u16() {
        Some(port) if port != default_port => format!("{}://{host}:{port}", scheme.unwrap_or_default()),
        _ => format!("{}://{host}", scheme.unwrap_or_default()),
    };
    let path = uri.path().trim_end_matches('/');
    for segment in path.split('/').skip(1) {
        let plain = segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if segment.is_empty() || segment == "." || segment == ".." || !plain {
            return Err(format!(
                "{s:?}: the path may only have segments of letters, digits and - . _ ~ (got {segment:?})"
            ));
        }
    }
    Ok(PublicUrl { origin, base: path.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("livedash").chain(args.iter().copied()))
    }

    fn config(args: &[&str]) -> Config {
        Config::from_args(&parse(args).expect("parses").serve, None).expect("valid")
    }

    #[test]
    fn defaults_are_loopback_plain_one_second_ten_minutes() {
        let c = config(&[]);
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 3000)));
        assert_eq!(c.interval, Duration::from_secs(1));
        assert_eq!(c.history, Duration::from_secs(600));
        assert_eq!(c.tls, TlsMode::Off);
        assert!(matches!(c.users, UsersSource::Admin(None)));
    }

    #[test]
    fn off_loopback_tls_is_the_default_unless_insecure_http() {
        assert!(matches!(config(&["--listen", "0.0.0.0:3000"]).tls, TlsMode::SelfSigned { .. }));
        let c = config(&["--listen", "10.1.2.3:3000", "--tls-san", "dash.example.com"]);
        let TlsMode::SelfSigned { names } = c.tls else { panic!("self-signed") };
        assert!(names.contains(&"10.1.2.3".to_owned()) && names.contains(&"dash.example.com".to_owned()));
        let c = config(&["--listen", "0.0.0.0:3000", "--insecure-http"]);
        assert_eq!(c.tls, TlsMode::Off);
        assert!(c.clear_text_off_loopback());
        assert!(matches!(config(&["--tls-self-signed"]).tls, TlsMode::SelfSigned { .. }));
        let c = config(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]);
        assert_eq!(c.tls, TlsMode::Files { cert: "c.pem".into(), key: "k.pem".into() });
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (args, flag) in [
            (&["--listen", "nope"][..], "--listen"),
            (&["--interval", "fast"][..], "--interval"),
            (&["--interval", "1ms"][..], "--interval"),
            (&["--history", "0s"][..], "--history"),
            (&["--tls-cert", "c.pem"][..], "--tls-key"),
            (&["--allowed-origin", "example.com"][..], "--allowed-origin"),
            (&["--public-url", "nope"][..], "--public-url"),
            (&["--max-connections", "0"][..], "--max-connections"),
            (&["--history-len", "0"][..], "--history-len"),
            (&["--metrics-listen", "0.0.0.0:9464"][..], "--metrics-listen"),
            (&["--trusted-proxy", "proxy"][..], "--trusted-proxy"),
            (&["--login-attempts-per-ip", "0"][..], "--login-attempts-per-ip"),
            (&["--insecure-http", "--tls-self-signed"][..], "--insecure-http"),
        ] {
            let err = parse(args).expect_err("refused").to_string();
            assert!(err.contains(flag), "{args:?}: {err}");
        }
    }

    #[test]
    fn sources_default_to_local_and_take_the_interval() {
        let c = config(&[]);
        assert_eq!(c.sources.len(), 1);
        assert_eq!(&*c.sources[0].name, "local");
        let c = config(&["--source", "local", "--source", "up=http://127.0.0.1:9100/", "--interval", "100ms"]);
        assert_eq!(c.sources.iter().map(|s| s.name.to_string()).collect::<Vec<_>>(), ["local", "up"]);
        assert_eq!(c.sources[1].interval, Duration::from_millis(100));
        assert_eq!(c.sources[1].timeout, Duration::from_millis(90));
        let err = Config::from_args(&parse(&["--source", "local", "--source", "local"]).expect("parses").serve, None)
            .expect_err("duplicate")
            .to_string();
        assert!(err.contains("--source") && err.contains("local"), "{err}");
        let err = parse(&["--source", "ftp://x"]).expect_err("refused").to_string();
        assert!(err.contains("--source"), "{err}");
    }

    fn with_file(toml: &str, extra: &[&str]) -> Result<Config, ConfigError> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("livedash-config-{}-{n}.toml", std::process::id()));
        std::fs::write(&path, toml).expect("write");
        let mut args = vec!["--config", path.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        let result = Config::from_args(&parse(&args).expect("parses").serve, None);
        std::fs::remove_file(&path).expect("remove");
        result
    }

    #[test]
    fn a_config_file_sets_sources_with_their_own_settings() {
        let c = with_file(
            r#"
            listen = "127.0.0.1:4000"
            interval = "2s"
            history = "5m"

            [[source]]
            type = "local"

            [[source]]
            name = "api"
            url = "http://127.0.0.1:9100/stats"
            interval = "250ms"
            timeout = "100ms"
            max_body = 4096
            "#,
            &[],
        )
        .expect("valid");
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 4000)));
        assert_eq!((c.interval, c.history), (Duration::from_secs(2), Duration::from_secs(300)));
        assert_eq!(c.sources.iter().map(|s| s.name.to_string()).collect::<Vec<_>>(), ["local", "api"]);
        assert_eq!(c.sources[0].interval, Duration::from_secs(2));
        let api = &c.sources[1];
        assert_eq!(
            (api.interval, api.timeout, api.max_body),
            (Duration::from_millis(250), Duration::from_millis(100), 4096)
        );
        // Flags win over the file.
        let c = with_file(
            "interval = \"2s\"\n[[source]]\ntype = \"local\"\n",
            &["--interval", "500ms", "--source", "x=local"],
        )
        .expect("valid");
        assert_eq!(c.interval, Duration::from_millis(500));
        assert_eq!(&*c.sources[0].name, "x");
    }

    #[test]
    fn unknown_keys_and_bad_values_in_the_file_name_the_key() {
        for (toml, key) in [
            ("intervall = \"1s\"", "intervall"),
            ("interval = \"fast\"", "interval"),
            ("listen = \"nowhere\"", "listen"),
            ("[[source]]\nurll = \"http://x/\"", "urll"),
            (
                "[[source]]\nurl = \"http://x/\"\n[[source]]\nurl = \"http://y/\"\ninterval = \"1ms\"",
                "source[1].interval",
            ),
            ("[[source]]\ntype = \"ftp\"", "source[0].type"),
            ("[[source]]\nurl = \"ftp://x/\"", "source[0].url"),
            ("interval = [", "interval"),
        ] {
            let err = with_file(toml, &[]).expect_err("refused").to_string();
            assert!(err.contains("--config") && err.contains(key), "{toml:?}: {err}");
        }
    }

    #[test]
    fn subcommands_parse() {
        assert!(matches!(parse(&["hash-password"]).expect("parses").command, Some(Command::HashPassword)));
        assert!(matches!(parse(&["fingerprint"]).expect("parses").command, Some(Command::Fingerprint { .. })));
    }

    #[test]
    fn empty_password_is_refused_with_the_variable_named() {
        let args = parse(&[]).expect("defaults parse").serve;
        let err = Config::from_args(&args, Some("".into())).expect_err("refused").to_string();
        assert!(err.contains(ADMIN_PASSWORD_ENV), "{err}");
        assert!(matches!(Config::from_args(&args, Some("pw".into())).expect("ok").users, UsersSource::Admin(Some(_))));
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(parse_origin("HTTPS://Ops.Example.com/").as_deref(), Ok("https://ops.example.com"));
        assert!(parse_origin("ftp://x").is_err());
        assert!(parse_origin("https://x/path").is_err());
    }

    #[test]
    fn public_url_splits_into_origin_and_base_path() {
        let url = |s: &str| parse_public_url(s).map(|u| (u.origin, u.base));
        assert_eq!(url("https://Ops.Example.com/dash/"), Ok(("https://ops.example.com".into(), "/dash".into())));
        assert_eq!(url("https://ops.example.com:443/a/b"), Ok(("https://ops.example.com".into(), "/a/b".into())));
        assert_eq!(url("http://10.0.0.5:8080"), Ok(("http://10.0.0.5:8080".into(), String::new())));
        assert_eq!(url("http://[::1]:80/"), Ok(("http://[::1]".into(), String::new())));
        for bad in [
            "ops.example.com/dash",
            "ftp://x/dash",
            "https:///dash",
            "https://user:pw@x/dash",
            "https://x/dash?y=1",
            "https://x/dash#top",
            "https://x/a//b",
            "https://x/../b",
            "https://x/da%20sh",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn public_url_comes_from_the_flag_or_the_file_with_the_key_named() {
        let c = with_file("public_url = \"https://ops.example.com/dash\"", &[]).expect("valid");
        assert_eq!(c.public_url.map(|u| u.to_string()).as_deref(), Some("https://ops.example.com/dash/"));
        let c = with_file("public_url = \"https://a.example.com/x\"", &["--public-url", "https://b.example.com/y"])
            .expect("valid");
        assert_eq!(c.public_url.map(|u| u.base).as_deref(), Some("/y"));
        let err = with_file("public_url = \"ops.example.com\"", &[]).expect_err("refused").to_string();
        assert!(err.contains("public_url"), "{err}");
    }

    #[test]
    fn the_readme_config_example_is_valid() {
        let readme = include_str!("../../README.md");
        let start = readme.find("```toml\n").expect("a toml block in README.md") + "```toml\n".len();
        let toml = &readme[start..start + readme[start..].find("```").expect("closed")];
        let config = with_file(toml, &[]).expect("the README example is a valid config");
        assert_eq!(config.sources.len(), 3);
        // With the commented line switched on too.
        let config = with_file(&toml.replace("# public_url", "public_url"), &[]).expect("valid");
        assert_eq!(config.public_url.map(|u| u.base).as_deref(), Some("/dash"));
    }
}
