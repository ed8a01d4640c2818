//! `livedash users add|passwd|remove|list`: finds the users file (`--users-file`, else
//! `LIVEDASH_USERS_FILE`, else `users_file` of `--config` / `LIVEDASH_CONFIG`, else of
//! `/etc/livedash/config.toml` when it exists, else the package's `/etc/livedash/users` when that
//! config names none: its unit gives the server the file in a variable), reads a new password without echoing it (a
//! terminal is asked twice; `--password-stdin` reads one line; `--generate` makes one and returns
//! it as the only output), edits the file ([`super::edit`]), replaces it atomically
//! ([`super::replace`]) and tells the running server ([`super::reload`]).

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use super::Printed;
use super::edit::{self, EditError};
use super::replace::{ReplaceError, locked, replace};
use crate::auth::{Users, generate_password, password};
use crate::config::file::File;
use crate::config::{ConfigError, PasswordArgs, UsersAt, UsersCommand};

/// The package's config file, read for its `users_file` when nothing else names the users file.
pub const DEFAULT_CONFIG: &str = "/etc/livedash/config.toml";
/// The package's users file (its unit names it in `LIVEDASH_USERS_FILE`), taken when the package's
/// config file names none.
pub const DEFAULT_USERS_FILE: &str = "/etc/livedash/users";

/// Why `livedash users` failed.
#[derive(Debug, thiserror::Error)]
pub enum UsersCommandError {
    /// Nothing names the users file.
    #[error(
        "which users file? Give --users-file (or LIVEDASH_USERS_FILE), or a config file with `users_file` \
         (--config or LIVEDASH_CONFIG; {DEFAULT_CONFIG} does not exist)"
    )]
    NoFile,
    /// The config file names no users file.
    #[error("--config {}: it has no `users_file` key; give --users-file", .0.display())]
    NotInConfig(PathBuf),
    /// The config file could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The users file could not be read.
    #[error("cannot read the users file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The edit was refused.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// The new file could not be written.
    #[error(transparent)]
    Write(#[from] ReplaceError),
    /// The password could not be read.
    #[error("reading the password: {0}")]
    Password(std::io::Error),
    /// No terminal to ask on, and no other way given.
    #[error("standard input is not a terminal: give --password-stdin (one line) or --generate")]
    NoTerminal,
}

/// Runs `command`.
pub fn run(command: UsersCommand) -> Result<Printed, UsersCommandError> {
    match command {
        UsersCommand::Add { name, role, password, at } => {
            let path = users_file(&at)?;
            // The name and the file checked before a password is asked for.
            edit::add(&read(&path, true)?, &path, &name, "-", role).or_else(only_the_hash)?;
            let (new, shown) = new_password(&password)?;
            let hash = password::hash_password(&new);
            change(&path, true, |text| edit::add(text, &path, &name, &hash, role))?;
            let role = role.unwrap_or(crate::auth::Role::Admin).as_str();
            Ok(done(shown, format!("added user {name} ({role}) to {}", path.display()), &at))
        }
        UsersCommand::Passwd { name, password, at } => {
            let path = users_file(&at)?;
            edit::passwd(&read(&path, false)?, &path, &name, "-").or_else(only_the_hash)?;
            let (new, shown) = new_password(&password)?;
            let hash = password::hash_password(&new);
            change(&path, false, |text| edit::passwd(text, &path, &name, &hash))?;
            Ok(done(shown, format!("changed the password of {name} in {}", path.display()), &at))
        }
        UsersCommand::Remove { name, at } => {
            let path = users_file(&at)?;
            change(&path, false, |text| edit::remove(text, &path, &name))?;
            Ok(done(None, format!("removed user {name} from {}", path.display()), &at))
        }
        UsersCommand::List { at } => {
            let path = users_file(&at)?;
            let users = Users::parse(&read(&path, false)?, &path).map_err(EditError::from)?;
            let lines: Vec<String> =
                users.names().map(|n| format!("{n}\t{}", users.role_of(n).map_or("", |r| r.as_str()))).collect();
            let mut printed = Printed::out(lines.join("\n"));
            printed.notes.push(format!("{} in {}", super::check::count(users.len(), "user"), path.display()));
            Ok(printed)
        }
    }
}

/// Reads `path`, edits its text with `edit` and replaces it, under the lock of its directory.
fn change(
    path: &Path,
    may_be_missing: bool,
    edit: impl FnOnce(&str) -> Result<String, EditError>,
) -> Result<(), UsersCommandError> {
    locked(path, || {
        let text = edit(&read(path, may_be_missing)?)?;
        Ok(replace(path, &text)?)
    })
}

/// A dry run's result with the stand-in hash `-`: only its refusal of the hash is expected (the
/// name, the file and the user's presence were checked before a password is asked for).
fn only_the_hash(e: EditError) -> Result<String, EditError> {
    match e {
        EditError::Invalid(_) => Ok(String::new()),
        e => Err(e),
    }
}

/// The change's notes, the server told unless `--no-reload`; `shown` is the only output.
fn done(shown: Option<String>, what: String, at: &UsersAt) -> Printed {
    let mut notes = vec![what];
    if !at.no_reload {
        notes.push(super::reload::tell(&at.data_dir));
    }
    Printed { out: shown, notes }
}

/// The users file as `at` and the environment name it.
pub fn users_file(at: &UsersAt) -> Result<PathBuf, UsersCommandError> {
    if let Some(path) = &at.users_file {
        return Ok(path.clone());
    }
    let config = match &at.config {
        Some(path) => path.clone(),
        None if Path::new(DEFAULT_CONFIG).exists() => PathBuf::from(DEFAULT_CONFIG),
        None => return Err(UsersCommandError::NoFile),
    };
    let file = File::load(&config)?;
    match file.values.users_file {
        Some(path) if !path.trim().is_empty() => Ok(PathBuf::from(path)),
        _ if config == Path::new(DEFAULT_CONFIG) && Path::new(DEFAULT_USERS_FILE).exists() => {
            Ok(PathBuf::from(DEFAULT_USERS_FILE))
        }
        _ => Err(UsersCommandError::NotInConfig(config)),
    }
}

/// The file's text; a missing file is empty when `may_be_missing` (`add` makes it).
fn read(path: &Path, may_be_missing: bool) -> Result<String, UsersCommandError> {
    match std::fs::read_to_string(path) {
        Err(e) if may_be_missing && e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        r => r.map_err(|source| UsersCommandError::Read { path: path.to_owned(), source }),
    }
}

/// The new password, and it again when it was generated (to be shown, once).
fn new_password(how: &PasswordArgs) -> Result<(String, Option<String>), UsersCommandError> {
    if how.generate {
        let password = generate_password();
        return Ok((password.clone(), Some(password)));
    }
    let password = if how.password_stdin {
        read_line(&mut std::io::stdin().lock())
    } else if std::io::stdin().is_terminal() {
        password::read_new_password()
    } else {
        return Err(UsersCommandError::NoTerminal);
    };
    Ok((password.map_err(UsersCommandError::Password)?, None))
}

/// The first line of `input` without its ending; an empty one is refused.
fn read_line(input: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    input.read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "the password is empty"));
    }
    Ok(password.to_owned())
}
