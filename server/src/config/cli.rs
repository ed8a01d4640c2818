//! The serving options: clap's flags, each with its `LIVEDASH_*` variable (the command line's
//! whole shape and the subcommands are in [`super::commands`]). Only declarations and value
//! parsers here; [`super::Config::from_args`] merges them with the file.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::parse;
use super::parse::{
    PublicUrl, StoreArg, parse_bytes, parse_history, parse_idle, parse_interval, parse_loopback, parse_net,
    parse_origin, parse_public_url, parse_reads, parse_retention, parse_store,
};
use crate::sources::SourceArg;

/// The one user name when there is no users file.
pub const ADMIN_USER: &str = "admin";
/// The environment variable holding the admin password (never a flag: flags show in `ps`).
pub const ADMIN_PASSWORD_ENV: &str = "LIVEDASH_ADMIN_PASSWORD";

/// Where state that must survive restarts (the self-signed certificate) is kept by default.
pub const DEFAULT_DATA_DIR: &str = ".livedash";

/// The options of `livedash` (serving).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// A TOML file with `listen`, `interval`, `history`, `public_url` and `[[source]]` tables (name, url or
    /// type = "local", interval, timeout, max_body, and `[[source.series]]` settings: match, label,
    /// unit, ...). Flags and variables override it.
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
    pub sources: Vec<SourceArg>,

    /// A Prometheus `file_sd` targets file (JSON or YAML): the fleet's hosts, re-read when it
    /// changes; a bad file at start-up stops it, naming the line (README "Targets file").
    #[arg(long, env = "LIVEDASH_TARGETS_FILE")]
    pub targets_file: Option<PathBuf>,

    /// A file holding one API token (`livedash token create` on the other side), sent as
    /// `Authorization: Bearer` to every `livedash:` target of the targets file; read once at start.
    #[arg(long, env = "LIVEDASH_FLEET_TOKEN_FILE")]
    pub fleet_token_file: Option<PathBuf>,

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

    /// The most memory the history of all sources together may take, e.g. `64MiB`, `512KiB`;
    /// past it the oldest samples go first [default: 64MiB].
    #[arg(long, env = "LIVEDASH_HISTORY_BYTES", value_parser = parse_bytes)]
    pub history_bytes: Option<usize>,

    /// The history store: an SQLite file that keeps every series across restarts, or `none` to
    /// keep history in memory only [default: history.db in --data-dir].
    #[arg(long, env = "LIVEDASH_STORE", value_parser = parse_store)]
    pub store: Option<StoreArg>,

    /// The most disk the store's data may take, e.g. `1GiB`; past it the oldest data goes first
    /// [default: 1GiB].
    #[arg(long, env = "LIVEDASH_STORE_MAX_BYTES", value_parser = parse_bytes)]
    pub store_max_bytes: Option<usize>,

    /// How long the store keeps full resolution [default: 24h].
    #[arg(long, env = "LIVEDASH_STORE_RAW_FOR", value_parser = parse_retention)]
    pub store_raw_for: Option<Duration>,

    /// How long the store keeps 1-minute roll-ups (min, max, mean, last) [default: 30d].
    #[arg(long = "store-1m-for", env = "LIVEDASH_STORE_1M_FOR", value_parser = parse_retention)]
    pub store_minute_for: Option<Duration>,

    /// How long the store keeps 1-hour roll-ups [default: 365d].
    #[arg(long = "store-1h-for", env = "LIVEDASH_STORE_1H_FOR", value_parser = parse_retention)]
    pub store_hour_for: Option<Duration>,

    /// How many history reads (`GET /api/history`) may run at once; one more waits up to 2 s for
    /// a slot, then is answered 503 with Retry-After [default: 4].
    #[arg(long, env = "LIVEDASH_STORE_MAX_READS", value_parser = parse_reads)]
    pub store_max_reads: Option<usize>,

    /// Users file: one `name:hash` per line (argon2id from `livedash hash-password`, or bcrypt
    /// from `htpasswd -nB name`). Re-read on SIGHUP. Without it: user `admin` with
    /// LIVEDASH_ADMIN_PASSWORD, or a generated password printed at start-up.
    #[arg(long, env = "LIVEDASH_USERS_FILE")]
    pub users_file: Option<PathBuf>,

    /// Where state that must survive restarts is kept (the self-signed certificate).
    #[arg(long, env = "LIVEDASH_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,

    /// Serve the site's files (wasm, script, CSS, public files) from this directory, read on every
    /// request, instead of the site embedded in the binary (for development).
    #[arg(long, env = "LIVEDASH_SITE_DIR")]
    pub site_dir: Option<PathBuf>,

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

    /// IPv6 clients are throttled and counted by this prefix of their address (a host usually has a
    /// whole /64); IPv4 clients by their whole address.
    #[arg(long, env = "LIVEDASH_IPV6_PREFIX", default_value = "64", value_parser = clap::value_parser!(u8).range(32..=128))]
    pub ipv6_prefix: u8,

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

    /// Most HTTP connections open at once before authentication and upgrade (503 beyond).
    #[arg(long, env = "LIVEDASH_MAX_HTTP_CONNECTIONS", default_value = "4096", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_http_connections: u32,

    /// Most HTTP connections open at once from one address group before authentication and
    /// upgrade (not counted for --trusted-proxy peers).
    #[arg(long, env = "LIVEDASH_MAX_HTTP_CONNECTIONS_PER_IP", default_value = "256", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_http_connections_per_ip: u32,

    /// A WebSocket client that answers no ping for this long is closed.
    #[arg(long, env = "LIVEDASH_WS_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_idle)]
    pub ws_idle_timeout: Duration,

    /// Login attempts that need a password check, per minute, from one client IP.
    #[arg(long, env = "LIVEDASH_LOGIN_ATTEMPTS_PER_IP", default_value = "10")]
    pub login_attempts_per_ip: NonZeroU32,

    /// Login attempts that need a password check, per minute, for one user name (all addresses).
    #[arg(long, env = "LIVEDASH_LOGIN_ATTEMPTS_PER_USER", default_value = "30")]
    pub login_attempts_per_user: NonZeroU32,

    /// Share the sources with other livedash instances through this Redis
    /// (`redis://[:password@]host[:port][/db]`, or `rediss://` for TLS): one fetch per source for
    /// all of them, the same `seq` everywhere, shared tickets and login budgets. Needs
    /// --cluster-key-file. A URL with a password is refused as a flag (the process list shows
    /// flags to every local user): give it in LIVEDASH_REDIS_URL or the config file's redis_url.
    #[arg(long, env = "LIVEDASH_REDIS_URL", value_parser = parse::parse_redis_url)]
    pub redis_url: Option<parse::RedisUrl>,

    /// A file holding the secret every instance of the cluster shares (at least 32 characters,
    /// e.g. `head -c 32 /dev/urandom | base64`): tickets and device cookies signed by one
    /// instance are accepted by the others.
    #[arg(long, env = "LIVEDASH_CLUSTER_KEY_FILE")]
    pub cluster_key_file: Option<PathBuf>,

    /// What this cluster's Redis keys start with, so that several dashboards can share one Redis
    /// [default: livedash].
    #[arg(long, env = "LIVEDASH_REDIS_PREFIX", value_parser = parse::parse_prefix)]
    pub redis_prefix: Option<String>,

    /// How long a source's fetching instance holds its lease without renewing it: another takes
    /// over within two of these after it dies or hangs [default: 3s].
    #[arg(long, env = "LIVEDASH_REDIS_LEASE", value_parser = parse::parse_lease)]
    pub redis_lease: Option<Duration>,

    /// How browsers log in and how long sessions live.
    #[command(flatten)]
    pub login: super::login::LoginArgs,
}
