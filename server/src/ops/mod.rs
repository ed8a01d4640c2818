//! Operations: the commands an operator runs beside the server, and the two things the server does
//! for them. [`run`] runs every subcommand (`hash-password`, `fingerprint`, `alerts check`,
//! `notify test`, `token`, `check-config` in [`check`], `users` in [`users`]) and returns what to
//! print, which the binary prints; [`pid`] is the PID file the server keeps and `users` reads, and
//! [`reload`] tells a running server to re-read its users file. The users file's lines are edited
//! in [`edit`] and written in [`replace`].
//!
//! Imports [`crate::config`] (the declarations and the merged configuration), [`crate::auth`]'s
//! users file and password rules, [`crate::tls`], [`crate::alerts::preview`], [`crate::notify`]'s
//! channels and [`crate::account::command`]; nothing in the library imports this room.

pub mod check;
pub mod edit;
pub mod pid;
pub mod reload;
pub mod replace;
pub mod users;

use std::collections::HashMap;
use std::time::Duration;

use crate::auth::password;
use crate::config::{AlertsCommand, Command, Config, ConfigError, NotifyCommand, ServeArgs};

/// Why a command failed; each message names the file, flag or key concerned.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The options could not be read from the environment.
    #[error(transparent)]
    Options(#[from] clap::Error),
    /// A certificate could not be read.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The password could not be read.
    #[error("reading the password: {0}")]
    Password(std::io::Error),
    /// `alerts check` with `store = "none"`.
    #[error("store = \"none\": there is no history to replay the rules over")]
    NoStore,
    /// `alerts check` could not read the store.
    #[error("replaying the rules over {}: {source}", path.display())]
    Replay {
        /// The store file.
        path: std::path::PathBuf,
        /// What went wrong.
        source: crate::alerts::preview::PreviewError,
    },
    /// `notify test` named no channel of the file.
    #[error("no [[notify]] channel is named {name:?} (there are: {known})")]
    NoChannel {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// `notify test`: the receiver refused or could not be reached.
    #[error("channel {name:?}: {source}")]
    Send {
        /// The channel.
        name: String,
        /// What went wrong.
        source: crate::notify::message::SendError,
    },
    /// `token`.
    #[error(transparent)]
    Token(#[from] crate::account::command::CommandError),
    /// `users`.
    #[error(transparent)]
    Users(#[from] users::UsersCommandError),
    /// `check-config` found problems.
    #[error(transparent)]
    Check(#[from] check::Problems),
}

/// What a command prints: its output (standard output) and notes for the person (standard error).
#[derive(Debug, Default)]
pub struct Printed {
    /// For standard output (nothing when `None`).
    pub out: Option<String>,
    /// For standard error, one line each.
    pub notes: Vec<String>,
}

impl Printed {
    /// Just `out`.
    pub fn out(out: impl Into<String>) -> Self {
        Self { out: Some(out.into()), notes: Vec::new() }
    }
}

/// Runs `command`; `serve` holds the serving options as the environment gives them (their data
/// directory for `notify test`).
pub async fn run(command: Command, serve: &ServeArgs) -> Result<Printed, OpsError> {
    match command {
        Command::HashPassword => {
            let password = password::read_new_password().map_err(OpsError::Password)?;
            Ok(Printed::out(password::hash_password(&password)))
        }
        Command::Fingerprint { tls_cert, data_dir } => {
            let cert = tls_cert.unwrap_or_else(|| crate::tls::self_signed_cert_path(&data_dir));
            let fingerprint = crate::tls::fingerprint_of_pem_file(&cert)?;
            Ok(Printed::out(format!("SHA-256 {fingerprint}  {}", cert.display())))
        }
        Command::Alerts { command: AlertsCommand::Check { config, since, store, data_dir } } => {
            alerts_check(&ServeArgs::for_file(config, store, data_dir)?, since)
        }
        Command::Notify { command: NotifyCommand::Test { channel, config } } => {
            notify_test(&ServeArgs::for_file(config, None, serve.data_dir.clone())?, &channel).await
        }
        Command::Token { command } => {
            let config = Config::from_args(
                &ServeArgs::for_tokens(token_at(&command))?,
                std::env::var_os(crate::config::ADMIN_PASSWORD_ENV),
            )?;
            let printed = crate::account::command::run(command, &config).await?;
            Ok(Printed { out: Some(printed.out), notes: printed.note.into_iter().collect() })
        }
        Command::CheckConfig(args) => {
            let summary = check::check(&args, std::env::var_os(crate::config::ADMIN_PASSWORD_ENV))?;
            Ok(Printed::out(summary))
        }
        Command::Users { command } => Ok(users::run(command)?),
    }
}

/// Where `token`'s subcommand finds the store and the accounts.
fn token_at(command: &crate::config::TokenCommand) -> &crate::config::TokenStoreArgs {
    use crate::config::TokenCommand;
    match command {
        TokenCommand::Create { at, .. } | TokenCommand::List { at } | TokenCommand::Revoke { at, .. } => at,
    }
}

/// The `alerts check` command: the configuration read and checked exactly as start-up does (a
/// bad rule stops it naming its key), then every rule replayed over the store's last `since`.
fn alerts_check(args: &ServeArgs, since: Duration) -> Result<Printed, OpsError> {
    let config = Config::from_args(args, None)?;
    let store = config.store.as_ref().ok_or(OpsError::NoStore)?;
    let settings: HashMap<_, _> = config.sources.iter().map(|s| (s.name.clone(), s.series.clone())).collect();
    let to = crate::clock::now_ms();
    let from = to.saturating_sub(crate::clock::millis(since));
    let report = crate::alerts::preview::check::check(&config.alerts, &settings, &store.path, (from, to))
        .map_err(|source| OpsError::Replay { path: store.path.clone(), source })?;
    Ok(Printed::out(report.to_string().trim_end()))
}

/// Sends a sample message to `channel` and returns the receiver's answer (an error: exit 1).
async fn notify_test(args: &ServeArgs, channel: &str) -> Result<Printed, OpsError> {
    let config = Config::from_args(args, None)?;
    let Some(c) = config.notify.iter().find(|c| &*c.name == channel) else {
        let known = config.notify.iter().map(|c| &*c.name).collect::<Vec<_>>().join(", ");
        return Err(OpsError::NoChannel { name: channel.to_owned(), known });
    };
    let sample = crate::notify::channel::sample(channel);
    let answer = c.send(&sample).await.map_err(|source| OpsError::Send { name: channel.to_owned(), source })?;
    Ok(Printed::out(format!("{channel}: {} {}", answer.code, answer.text).trim_end()))
}
