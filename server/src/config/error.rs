//! Why the configuration was refused: each message names the flag, the variable or the file's key.

use std::path::PathBuf;

use super::cli::ADMIN_PASSWORD_ENV;

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The admin password variable is set but unusable.
    #[error("{ADMIN_PASSWORD_ENV}: {0}")]
    AdminPassword(&'static str),
    /// Two sources with one name.
    #[error("--source: two sources are named {0:?}; name them apart with name=URL")]
    DuplicateSource(String),
    /// The cluster's settings are incomplete or unusable.
    #[error("{0}")]
    Cluster(String),
    /// The targets file (`--targets-file`) is unreadable or refused; the text names its line.
    #[error(transparent)]
    Targets(#[from] crate::targets::TargetsError),
    /// The fleet's token file is unreadable, empty or holds more than one token.
    #[error("{given}: the fleet token file {path} {problem}", path = path.display())]
    FleetToken {
        /// Where it was given: the flag and its variable, or the file's key.
        given: String,
        /// The token file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// `--site-dir` names no directory.
    #[error("--site-dir / LIVEDASH_SITE_DIR: {} is not a directory", .0.display())]
    SiteDir(PathBuf),
    /// The `--config` file is unreadable or has a bad or unknown key.
    #[error("--config {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key (and for syntax errors the line).
        message: String,
    },
}
