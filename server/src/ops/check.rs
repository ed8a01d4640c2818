//! `livedash check-config`: everything a start would check, without starting, binding, connecting
//! or changing anything. The configuration is merged exactly as start-up merges it (the config
//! file with its line for a syntax error, the sources, alert rules, channels, targets file, fleet
//! token file, cluster key file and the Redis URL's form); then, each on its own so that every
//! problem is reported and not only the first: the users file (loaded, its bad line named), the
//! store's directory (writable, tried with a temporary file that is deleted; the file itself
//! readable, never opened for writing or migrated) and the TLS files (loaded, the key matched to
//! the certificate; for a self-signed certificate, the data directory writable). The listen
//! address is parsed, not bound (a running server holds it); Redis is not connected to.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::replace::dir_of;
use crate::auth::Users;
use crate::config::file::File;
use crate::config::parse::{StoreArg, parse_store};
use crate::config::{Config, ConfigError, STORE_FILE, ServeArgs, TlsMode, UsersSource};

/// The problems found, one line each.
#[derive(Debug, thiserror::Error)]
#[error("check-config: {} found:\n  {}", count(.0.len(), "problem"), .0.join("\n  "))]
pub struct Problems(pub Vec<String>);

/// Checks the configuration `args` (and the admin password variable's value) gives; the one-line
/// summary when all is well.
pub fn check(args: &ServeArgs, admin_password: Option<OsString>) -> Result<String, Problems> {
    let mut problems = Vec::new();
    let mut said = Vec::new();
    let config = Config::from_args(args, admin_password).map_err(|e| problems.push(e.to_string())).ok();
    // What the merge did not reach when it stopped early, from the flags and the file.
    let file = args.config.as_ref().and_then(|p| File::load(p).ok());
    if config.is_none()
        && let Some(file) = &file
    {
        for problem in sections(args, file) {
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    let raw = file.as_ref().map(|f| &f.values);

    if let Some(c) = &config {
        said.push(count(c.sources.len(), "source"));
        if !c.alerts.is_empty() {
            said.push(count(c.alerts.len(), "alert rule"));
        }
        if !c.notify.is_empty() {
            said.push(count(c.notify.len(), "notify channel"));
        }
        if let Some(t) = &c.targets_file {
            said.push(format!("targets file {}", t.display()));
        }
    }
    let users = match &config {
        Some(c) => match &c.users {
            UsersSource::File(path) => Some(path.clone()),
            UsersSource::Admin(_) => None,
        },
        None => args.users_file.clone().or_else(|| raw.and_then(|v| v.users_file.clone()).map(PathBuf::from)),
    };
    match users {
        Some(path) => match Users::load(&path) {
            Ok(u) if u.is_empty() => problems.push(format!("users file {}: no users in it", path.display())),
            Ok(u) => said.push(format!("{} in {}", count(u.len(), "user"), path.display())),
            Err(e) => problems.push(e.to_string()),
        },
        None => said.push("user admin (no users file)".to_owned()),
    }

    let store = match &config {
        Some(c) => c.store.as_ref().map(|s| s.path.clone()),
        None => {
            let in_file = raw.and_then(|v| v.store.as_deref()).and_then(|s| parse_store(s).ok());
            match args.store.clone().or(in_file) {
                Some(StoreArg::Off) => None,
                Some(StoreArg::File(path)) => Some(path),
                None => Some(args.data_dir.join(STORE_FILE)),
            }
        }
    };
    match store {
        Some(path) => match store_usable(&path) {
            Ok(()) => said.push(format!("store {}", path.display())),
            Err(e) => problems.push(format!("store {}: {e}", path.display())),
        },
        None => said.push("no store (history in memory)".to_owned()),
    }

    let tls = match &config {
        Some(c) => c.tls.clone(),
        None => match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => TlsMode::Files { cert: cert.clone(), key: key.clone() },
            _ if args.tls_self_signed => TlsMode::SelfSigned { names: Vec::new() },
            _ => TlsMode::Off,
        },
    };
    match check_tls(&tls, &args.data_dir) {
        Ok(line) => said.push(line),
        Err(e) => problems.push(e),
    }
    if let Some(c) = &config {
        said.push(format!("listen {} (not bound)", c.listen));
        if let Some(cluster) = &c.cluster {
            said.push(format!("Redis URL parsed, prefix {} (not connected to)", cluster.prefix));
        }
    }
    if problems.is_empty() { Ok(format!("ok: {}", said.join(", "))) } else { Err(Problems(problems)) }
}

/// The problems of the file's sections, each checked on its own (the merge stops at the first).
fn sections(args: &ServeArgs, file: &File) -> Vec<String> {
    let v = &file.values;
    let targets = args.targets_file.clone().or_else(|| v.targets_file.as_ref().map(PathBuf::from));
    let results = [
        file.sources().err(),
        file.alerts().err(),
        file.notify().err(),
        file.login(&args.login).err(),
        file.viewers().err(),
        file.fleet_token(args.fleet_token_file.clone()).err(),
        crate::config::cluster::settings(args, file, true).err(),
        targets.and_then(|t| crate::targets::file::load(&t).err().map(ConfigError::from)),
    ];
    results.into_iter().flatten().map(|e| e.to_string()).collect()
}

/// `n thing` or `n things`.
pub(super) fn count(n: usize, thing: &str) -> String {
    if n == 1 { format!("1 {thing}") } else { format!("{n} {thing}s") }
}

/// The TLS files load and match; a self-signed certificate's directory can be written.
fn check_tls(tls: &TlsMode, data_dir: &Path) -> Result<String, String> {
    match tls {
        TlsMode::Off => Ok("plain HTTP".to_owned()),
        TlsMode::Files { cert, key } => {
            crate::tls::from_pem_files(cert, key).map_err(|e| e.to_string())?;
            Ok(format!("TLS {}", cert.display()))
        }
        TlsMode::SelfSigned { .. } => {
            let cert = crate::tls::self_signed_cert_path(data_dir);
            let key = cert.with_file_name("key.pem");
            if cert.exists() {
                crate::tls::from_pem_files(&cert, &key).map_err(|e| e.to_string())?;
            }
            let dir = cert.parent().unwrap_or(data_dir);
            writable(dir)
                .map_err(|e| format!("--data-dir {}: the self-signed certificate's {e}", data_dir.display()))?;
            Ok(format!("TLS self-signed in {}", dir.display()))
        }
    }
}

/// The store's file can be read if it is there, and its directory written (or made).
fn store_usable(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Err("is not a file".to_owned()),
        Ok(_) => {
            std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.to_string()),
    }
    writable(dir_of(path))
}

/// `dir` can be written, or made where it is missing: a temporary file is made in it (or in its
/// nearest existing ancestor) and deleted at once.
fn writable(dir: &Path) -> Result<(), String> {
    let mut at = dir;
    while !at.exists() {
        at = dir_of(at);
    }
    if !at.is_dir() {
        return Err(format!("directory {} is not a directory", at.display()));
    }
    let probe = at.join(format!(".livedash-check-{}", std::process::id()));
    let made = std::fs::OpenOptions::new().write(true).create_new(true).open(&probe);
    match made {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if at == dir => Err(format!("directory {} is not writable: {e}", dir.display())),
        Err(e) => Err(format!("directory {} is missing and cannot be made in {}: {e}", dir.display(), at.display())),
    }
}
