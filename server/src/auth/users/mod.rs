//! The users file (`--users-file` / `LIVEDASH_USERS_FILE`): one `name:hash[:role]` line per
//! account, hashes in argon2id PHC form (`livedash hash-password`) or bcrypt from
//! `htpasswd -nB user`; the role is `admin` or `viewer` (see [`super::role`]), `admin` when the
//! line has none (the two-field lines of earlier versions).
//!
//! Loading checks every line and stops at the first bad one with an error naming the file, the line
//! number and the reason, never the hash. [`Users::verify`] is deliberately slow and costs the same
//! whatever name it is given, so that timing does not reveal which names exist: every check
//! computes one hash of each kind (scheme and parameters) the file holds, the account's own for
//! its kind and stand-ins ([`Stored::stand_in`]) for the others, or for every kind when the name is
//! unknown. A file mixing kinds (argon2id and bcrypt, or several argon2id parameter sets) thus pays
//! for each of them on every check. The
//! hashes themselves (which are accepted, how they are checked and made) are in [`super::password`],
//! the one sibling this imports. The tests, in `tests.rs`, also lend their fixtures to that file's.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::password::{Kind, Scheme, Stored, check_hash, hash_password};
use super::role::Role;

/// The longest accepted user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Why the users file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The file could not be read.
    #[error("cannot read the users file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: io::Error,
    },
    /// A line is not a valid `name:hash[:role]` account. The reason never quotes the hash.
    #[error("users file {}, line {line}: {reason}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// The line's number, counted from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// One account.
struct Account {
    name: String,
    stored: Stored,
    /// What checking against `stored` costs.
    kind: Kind,
    role: Role,
    /// SHA-256 of the stored hash, computed once: asked on every request (cache, device cookie).
    version: [u8; 32],
}

impl Account {
    fn new(name: &str, stored: Stored, role: Role) -> Self {
        let version = Sha256::digest(stored.hash.as_bytes()).into();
        Self { name: name.to_owned(), kind: stored.kind(), stored, role, version }
    }
}

/// The accounts from a users file.
pub struct Users {
    /// In file order.
    accounts: Vec<Account>,
    /// Name to index in `accounts`.
    by_name: HashMap<String, usize>,
    /// One hash that never matches for each kind of hash in `accounts` (an argon2id one of the
    /// default kind when there are no accounts), in a fixed order: checked in place of the
    /// accounts' own (see [`Users::verify`]).
    stand_ins: Vec<(Kind, Stored)>,
    /// Hash computations run by [`Users::verify`], known names and unknown alike.
    checks: AtomicU64,
}

impl fmt::Debug for Users {
    /// Names only: hashes stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users").field("names", &self.names().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

impl Users {
    /// Parses the text of a users file; `path_for_messages` only names the file in errors.
    ///
    /// Blank lines and lines starting with `#` are skipped; every other line must be
    /// `name:hash` or `name:hash:role` (hashes never hold a `:`).
    /// The first bad line stops parsing.
    pub fn parse(text: &str, path_for_messages: &Path) -> Result<Users, UsersError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut accounts: Vec<Account> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut first_line_of: Vec<usize> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let bad = |reason: String| UsersError::Line { path: path_for_messages.to_owned(), line: number, reason };
            let content = line.trim_start();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            // Without a ':' the whole line may be a password or hash: quote none of it.
            let Some((name, hash)) = line.split_once(':') else {
                return Err(bad("expected `name:hash`, found no ':'".to_owned()));
            };
            check_name(name).map_err(|reason| bad(reason.to_owned()))?;
            if let Some(&earlier) = by_name.get(name) {
                let first = first_line_of.get(earlier).copied().unwrap_or(0);
                return Err(bad(format!("user {name} appears twice, first on line {first}")));
            }
            let hash = hash.trim_end();
            let (hash, role) = match hash.split_once(':') {
                None => (hash, Role::Admin),
                Some((hash, word)) => match Role::parse(word) {
                    Some(role) => (hash, role),
                    // The word is not secret, but a mistyped hash could land here: say what is
                    // accepted, quote nothing.
                    None => return Err(bad("the third field (the role) must be `admin` or `viewer`".to_owned())),
                },
            };
            let scheme = check_hash(hash).map_err(bad)?;
            by_name.insert(name.to_owned(), accounts.len());
            first_line_of.push(number);
            accounts.push(Account::new(name, Stored { hash: hash.to_owned(), scheme }, role));
        }
        Ok(Self::with_stand_ins(accounts, by_name))
    }

    /// `accounts` with a stand-in hash for each of their kinds.
    fn with_stand_ins(accounts: Vec<Account>, by_name: HashMap<String, usize>) -> Users {
        let mut kinds: Vec<Kind> = accounts.iter().map(|a| a.kind).collect();
        if kinds.is_empty() {
            kinds.push(Kind::DEFAULT_ARGON2ID);
        }
        kinds.sort_unstable();
        kinds.dedup();
        let stand_ins = kinds.into_iter().map(|kind| (kind, Stored::stand_in(&kind))).collect();
        Users { accounts, by_name, stand_ins, checks: AtomicU64::new(0) }
    }

    /// Reads and parses the users file at `path`.
    pub fn load(path: &Path) -> Result<Users, UsersError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| UsersError::Read { path: path.to_owned(), source })?;
        warn_if_world_readable(path);
        Self::parse(&text, path)
    }

    /// One account `user` with `password`, hashed now with argon2id (for running without a file).
    pub fn single(user: &str, password: &str) -> Users {
        Self::single_versioned(user, password, None)
    }

    /// The same, with the password's version (what tickets and device cookies are bound to) made
    /// from `key`, the user and the password instead of from the hash (whose salt is random): every
    /// instance of a cluster given the same password then agrees on it, and without the key the
    /// version tells nothing of the password.
    pub fn single_versioned(user: &str, password: &str, key: Option<&[u8; 32]>) -> Users {
        let stored = Stored { hash: hash_password(password), scheme: Scheme::Argon2id };
        let mut account = Account::new(user, stored, Role::Admin);
        if let Some(key) = key {
            account.version = super::credentials::mac(key, &[user.as_bytes(), b"\0", password.as_bytes()]);
        }
        Self::with_stand_ins(vec![account], HashMap::from([(user.to_owned(), 0)]))
    }

    /// Whether `password` is `user`'s. Blocking and deliberately slow (run it in `spawn_blocking`):
    /// one hash of each kind the file holds, whatever the name (see the module's documentation),
    /// so an unknown `user` takes as long as a known one, and gives `false`.
    pub fn verify(&self, user: &str, password: &str) -> bool {
        let mut valid = false;
        for (stored, own) in self.hashes_for(user) {
            let matched = self.check(stored, password);
            if own {
                valid = matched;
            } else {
                std::hint::black_box(matched);
            }
        }
        valid
    }

    /// The hashes a check of `user` computes, one of each kind, in the same order for every
    /// name: `user`'s own for its kind (`true`), stand-ins for the rest.
    fn hashes_for(&self, user: &str) -> impl Iterator<Item = (&Stored, bool)> {
        let account = self.account(user);
        self.stand_ins.iter().map(move |(kind, stand_in)| match account {
            Some(a) if a.kind == *kind => (&a.stored, true),
            _ => (stand_in, false),
        })
    }

    /// Every hash computation goes through here, so that the count shows that unknown names
    /// cost a computation too.
    fn check(&self, stored: &Stored, password: &str) -> bool {
        self.checks.fetch_add(1, Ordering::Relaxed);
        stored.matches(password)
    }

    /// How many hash computations [`Users::verify`] has run.
    pub fn hash_checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// SHA-256 of `user`'s stored hash: changes exactly when the password (hash) changes; `None`
    /// for an unknown user. Lets a reload find sessions of removed users or changed passwords.
    pub fn version_of(&self, user: &str) -> Option<[u8; 32]> {
        self.account(user).map(|a| a.version)
    }

    /// `user`'s role as the file gives it (see [`super::Auth::role_of`] for the one in force).
    pub fn role_of(&self, user: &str) -> Option<Role> {
        self.account(user).map(|a| a.role)
    }

    /// The user names, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(|a| a.name.as_str())
    }

    /// How many accounts there are.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether there are no accounts (nobody could log in).
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    fn account(&self, user: &str) -> Option<&Account> {
        self.by_name.get(user).and_then(|&i| self.accounts.get(i))
    }
}

/// Why `name` is not a valid user name, if it is not (also for `livedash users add`).
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the user name before ':' is empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err("the user name is longer than 64 characters");
    }
    if name.chars().any(char::is_whitespace) {
        return Err("the user name contains whitespace");
    }
    if name.chars().any(char::is_control) {
        return Err("the user name contains a control character");
    }
    Ok(())
}

/// Warns when everyone on the machine can read the users file.
fn warn_if_world_readable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o004 != 0
        {
            tracing::warn!(path = %path.display(), "the users file is readable by every local user; consider `chmod 600`");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
pub(super) mod tests;
