//! The command line: clap's flags, each with its `LIVEDASH_*` variable, and the subcommands. Only
//! declarations and value parsers here; [`super::Config::from_args`] merges them with the file.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::parse;
use super::parse::{
    PublicUrl, StoreArg, parse_bytes, parse_history, parse_idle, parse_interval, parse_loopback, parse_net,
    parse_origin, parse_public_url, parse_reads, parse_retention, parse_store,
};
use crate::sources::SourceArg;

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
    /// Alert rules.
    Alerts {
        /// What to do with them.
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// Notification channels.
    Notify {
        /// What to do with them.
        #[command(subcommand)]
        command: NotifyCommand,
    },
    /// API tokens (for scripts and wall screens), kept in the history store.
    Token {
        /// What to do with them.
        #[command(subcommand)]
        command: TokenCommand,
    },
}

/// `livedash token ...`: works while the server runs (it writes the store file; the server finds
/// a new token on its first use and drops a revoked one within seconds).
#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Makes a token for USER and prints it once (only its hash is kept).
    Create {
        /// Whose token it is (a user of the accounts).
        #[arg(long)]
        user: String,
        /// `viewer` (read-only) or `admin`; never above the user's own [default: the user's].
        #[arg(long, value_parser = parse_role)]
        role: Option<crate::auth::Role>,
        /// How long it works, e.g. `90d`, `12h` [default: until revoked].
        #[arg(long, value_parser = parse_expires)]
        expires: Option<Duration>,
        /// What it is for, shown in lists (e.g. `wall screen`).
        #[arg(long, default_value = "")]
        name: String,
        /// Where the server's configuration and store are.
        #[command(flatten)]
        at: TokenStoreArgs,
    },
    /// Lists the tokens not revoked: ID, user, role, name, created, last used, expiry.
    List {
        /// Where the server's configuration and store are.
        #[command(flatten)]
        at: TokenStoreArgs,
    },
    /// Revokes the token whose ID (from `list`; 8 hex digits are enough) is given.
    Revoke {
        /// The token's ID or its first 8+ hex digits.
        id: String,
        /// Where the server's configuration and store are.
        #[command(flatten)]
        at: TokenStoreArgs,
    },
}

/// Where `livedash token` finds the accounts and the store: as the server would.
#[derive(Debug, Clone, Args)]
pub struct TokenStoreArgs {
    /// The server's config file (its `store`, `users_file`, `viewers`).
    #[arg(long, env = "LIVEDASH_CONFIG")]
    pub config: Option<PathBuf>,
    /// The history store file [default: history.db in --data-dir].
    #[arg(long, env = "LIVEDASH_STORE", value_parser = parse_store)]
    pub store: Option<StoreArg>,
    /// The users file (`name:hash[:role]` lines).
    #[arg(long, env = "LIVEDASH_USERS_FILE")]
    pub users_file: Option<PathBuf>,
    /// Where the server keeps its state, and by default its store.
    #[arg(long, env = "LIVEDASH_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
}

/// `viewer` or `admin`.
fn parse_role(s: &str) -> Result<crate::auth::Role, String> {
    crate::auth::Role::parse(s).ok_or_else(|| "`viewer` or `admin`".to_owned())
}

/// A token's life: 1 second to 10 years.
fn parse_expires(s: &str) -> Result<Duration, String> {
    parse::parse_duration(s, Duration::from_secs(1), Duration::from_secs(10 * 366 * 86_400))
}

/// `livedash notify ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum NotifyCommand {
    /// Sends a sample message to the `[[notify]]` channel CHANNEL of a config file through the real
    /// path (its format, its TLS, its secrets) and prints the receiver's answer; exits 1 when the
    /// receiver refuses it or cannot be reached.
    Test {
        /// The channel's `name`.
        channel: String,
        /// The config file holding the channel.
        #[arg(long, env = "LIVEDASH_CONFIG")]
        config: PathBuf,
    },
}

/// `livedash alerts ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum AlertsCommand {
    /// Checks the `[[alert]]` rules of a config file as start-up does (a bad one stops it, naming
    /// its key), then replays each over the history store's past and prints, per rule and series,
    /// how many times it would have fired and for how long. The store is only read.
    Check {
        /// The config file holding the rules (and the `store` key, if the store is not the
        /// default one).
        #[arg(long, env = "LIVEDASH_CONFIG")]
        config: PathBuf,
        /// How far back to replay, e.g. `7d`, `12h`.
        #[arg(long, default_value = "24h", value_parser = parse_since)]
        since: Duration,
        /// The history store file, over the config file's `store` key [default: history.db in
        /// --data-dir].
        #[arg(long, env = "LIVEDASH_STORE", value_parser = parse_store)]
        store: Option<StoreArg>,
        /// Where the server keeps its state, and by default its store.
        #[arg(long, env = "LIVEDASH_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
}

/// How far back `alerts check` replays: 1 minute to 10 years.
fn parse_since(s: &str) -> Result<Duration, String> {
    parse::parse_duration(s, Duration::from_secs(60), Duration::from_secs(10 * 366 * 86_400))
}

impl ServeArgs {
    /// The serving options the server would start with for the config file `config`, the store
    /// `store` and the data directory `data_dir` (the rest from the environment and the
    /// defaults): for a command that must read the configuration exactly as start-up does.
    pub fn for_file(config: PathBuf, store: Option<StoreArg>, data_dir: PathBuf) -> Result<Self, clap::Error> {
        let mut args = Cli::try_parse_from(["livedash"])?.serve;
        args.config = Some(config);
        args.store = store.or(args.store);
        args.data_dir = data_dir;
        Ok(args)
    }

    /// The serving options for `livedash token`'s `at`.
    pub fn for_tokens(at: &TokenStoreArgs) -> Result<Self, clap::Error> {
        let mut args = Cli::try_parse_from(["livedash"])?.serve;
        args.config = at.config.clone().or(args.config);
        args.store = at.store.clone().or(args.store);
        args.users_file = at.users_file.clone().or(args.users_file);
        args.data_dir = at.data_dir.clone();
        Ok(args)
    }
}

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
