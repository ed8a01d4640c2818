//! The command line's shape ([`Cli`]: the serving options of [`super::cli`], or a subcommand) and
//! the subcommands besides serving (`hash-password`, `fingerprint`, `alerts`, `notify`, `token`,
//! `check-config`, `users`): clap's declarations and their value parsers only; `crate::ops` and
//! `crate::account` run them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::cli::{DEFAULT_DATA_DIR, ServeArgs};
use super::parse;
use super::parse::{StoreArg, parse_store};

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
    /// Checks everything a start would check (the config file, sources, alert rules, channels,
    /// targets file, users file, store path, TLS files, Redis URL, listen address) without
    /// starting, binding, connecting or changing anything. Prints a one-line summary; exits
    /// non-zero listing every problem found, each naming its file, line or key.
    CheckConfig(Box<ServeArgs>),
    /// The accounts of the users file: add, change a password, remove, list.
    Users {
        /// What to do with them.
        #[command(subcommand)]
        command: UsersCommand,
    },
}

/// `livedash users ...`: edits the users file in place (a new file renamed over it: mode 0600, the
/// same owner and group, its other lines untouched), then tells the running server to re-read it.
#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Adds the user NAME (creating the users file if there is none).
    Add {
        /// The new user's name (1 to 64 characters, no whitespace, no `:`).
        name: String,
        /// `admin` (may act) or `viewer` (read-only) [default: admin].
        #[arg(long, value_parser = parse_role)]
        role: Option<crate::auth::Role>,
        /// How the password is given.
        #[command(flatten)]
        password: PasswordArgs,
        /// Which file, and which server to tell.
        #[command(flatten)]
        at: UsersAt,
    },
    /// Changes NAME's password (the role stays).
    Passwd {
        /// The user's name.
        name: String,
        /// How the password is given.
        #[command(flatten)]
        password: PasswordArgs,
        /// Which file, and which server to tell.
        #[command(flatten)]
        at: UsersAt,
    },
    /// Removes NAME (never the last admin).
    Remove {
        /// The user's name.
        name: String,
        /// Which file, and which server to tell.
        #[command(flatten)]
        at: UsersAt,
    },
    /// Lists the users and their roles, in file order.
    List {
        /// Which file.
        #[command(flatten)]
        at: UsersAt,
    },
}

/// How `users add` and `users passwd` get the password: asked twice without echo on a terminal,
/// else one of these.
#[derive(Debug, Clone, Args)]
pub struct PasswordArgs {
    /// Make a random password and print it, alone, on standard output.
    #[arg(long, conflicts_with = "password_stdin")]
    pub generate: bool,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Where `livedash users` finds the users file and the running server.
#[derive(Debug, Clone, Args)]
pub struct UsersAt {
    /// The users file [default: the config file's `users_file`].
    #[arg(long, env = "LIVEDASH_USERS_FILE")]
    pub users_file: Option<PathBuf>,
    /// The server's config file, for its `users_file` [default: /etc/livedash/config.toml when
    /// it exists].
    #[arg(long, env = "LIVEDASH_CONFIG")]
    pub config: Option<PathBuf>,
    /// The server's data directory, where it keeps its PID file `livedash.pid` (unless systemd
    /// gives it a runtime directory).
    #[arg(long, env = "LIVEDASH_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Do not tell the running server (it re-reads the file on SIGHUP or `systemctl reload`).
    #[arg(long)]
    pub no_reload: bool,
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
