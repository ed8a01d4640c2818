//! Why a targets file was refused: the file, the line (and column) where the parser or the rules
//! found the fault, and what is wrong ([`TargetsError`], [`Problem`]).

use std::fmt;
use std::path::PathBuf;

/// Where in the file a fault is: 1-based line, and column when the parser gives one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, as the parser counts it.
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}, column {column}", self.line),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// A targets file that cannot be used, and why. Its text is what the log, the page and
/// `/api/health` show: `targets file /etc/livedash/targets.yml, line 7, column 5: target
/// "web 1:9100": ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("targets file {}{}: {problem}", path.display(), at.map(|at| format!(", {at}")).unwrap_or_default())]
pub struct TargetsError {
    /// The file.
    pub path: PathBuf,
    /// Where in it, when the fault is at a place (not for an unreadable or oversized file).
    pub at: Option<Location>,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a targets file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// It cannot be read (missing, a directory, no permission).
    #[error("cannot be read: {0}")]
    Unreadable(String),
    /// It is larger than [`super::file::MAX_FILE_BYTES`].
    #[error("is {size} bytes, more than the {max} a targets file may have")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The cap.
        max: u64,
    },
    /// It is not UTF-8 text.
    #[error("is not UTF-8 text")]
    NotText,
    /// It holds nothing (a file being rewritten in place looks like this for a moment).
    #[error("is empty: write [] for no targets")]
    Empty,
    /// The JSON or YAML parser refused it, or a value has the wrong type.
    #[error("{0}")]
    Syntax(String),
    /// More than [`super::file::MAX_TARGETS`] targets.
    #[error("has more than {0} targets (split the fleet between instances)")]
    TooMany(usize),
    /// A target string that is no address, URL or `livedash:` target, or does not fit its labels.
    #[error("target {target:?}: {why}")]
    Target {
        /// The target as written.
        target: String,
        /// What is wrong with it.
        why: String,
    },
    /// A label with a bad name or value.
    #[error("label {name:?}: {why}")]
    Label {
        /// The label's name as written.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// Two targets with one name.
    #[error("two hosts are named {name:?}: this target and the one at {first} (give each a name label of its own)")]
    Duplicate {
        /// The name.
        name: String,
        /// Where the first is.
        first: String,
    },
}

impl TargetsError {
    /// An error about the whole file.
    pub fn file(path: impl Into<PathBuf>, problem: Problem) -> Self {
        Self { path: path.into(), at: None, problem }
    }
}

/// A parser's message without its own "at line L column C" (the [`Location`] says it), so that the
/// position is written once.
pub(super) fn without_position(message: &str, line: usize, column: usize) -> String {
    let own = format!(" at line {line} column {column}");
    match message.find(&own) {
        Some(i) => format!("{}{}", &message[..i], &message[i + own.len()..]),
        None => message.to_owned(),
    }
}
