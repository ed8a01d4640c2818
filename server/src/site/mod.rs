//! The built site (the hydrate wasm, its JS glue, the CSS, the public files and their gzip copies)
//! and where it comes from: [`Site`] is either the table the `livedash` binary embedded when it
//! was compiled ([`Embedded`], made in the binary's own `bundle.rs`, so that a new site recompiles
//! the binary and never this library) or a directory read at request time (`--site-dir`,
//! `cargo leptos watch` or `LEPTOS_SITE_ROOT`, or a binary that embeds nothing). [`serve`] answers a request for one of
//! its files; the router's fallback asks it first and renders the app's 404 when it has none.
//!
//! Imports nothing from the crate: the configuration and the router import it.

pub mod serve;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

/// Where the served site is: embedded in the binary, or a directory read at request time.
#[derive(Debug, Clone)]
pub enum Site {
    /// The files the binary carries.
    Embedded(Arc<Embedded>),
    /// A directory, read on every request.
    Dir {
        /// The directory.
        root: PathBuf,
        /// Who chose it.
        why: DirChoice,
    },
}

/// Who chose the directory a [`Site::Dir`] serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirChoice {
    /// `--site-dir` / `LIVEDASH_SITE_DIR`.
    Flag,
    /// `cargo leptos watch` or a person: `LEPTOS_SITE_ROOT` (or cargo-leptos's default
    /// `target/site` when only `LEPTOS_OUTPUT_NAME` is set).
    Leptos,
    /// Nobody: `target/site` under the working directory, as before the site was embedded; a
    /// binary that embeds a site puts it in instead ([`Site::or_embedded`]).
    Default,
}

impl Site {
    /// The site `--site-dir` names; without it the one `cargo leptos watch` builds (it sets
    /// `LEPTOS_OUTPUT_NAME` and `LEPTOS_SITE_ROOT`) or `LEPTOS_SITE_ROOT` names; else the default
    /// directory.
    pub fn from_flag(site_dir: Option<PathBuf>) -> Self {
        let leptos_root = std::env::var_os("LEPTOS_SITE_ROOT").map(PathBuf::from);
        let cargo_leptos = std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
        match (site_dir, leptos_root) {
            (Some(root), _) => Self::Dir { root, why: DirChoice::Flag },
            (None, Some(root)) => Self::Dir { root, why: DirChoice::Leptos },
            (None, None) if cargo_leptos => Self::Dir { root: "target/site".into(), why: DirChoice::Leptos },
            (None, None) => Self::Dir { root: "target/site".into(), why: DirChoice::Default },
        }
    }

    /// `embedded` instead of the default directory, when it holds any file; a directory someone
    /// chose stays.
    pub fn or_embedded(self, embedded: Embedded) -> Self {
        match self {
            Self::Dir { why: DirChoice::Default, .. } if !embedded.files.is_empty() => {
                Self::Embedded(Arc::new(embedded))
            }
            other => other,
        }
    }

    /// Logs once where the site's files come from (a binary without a site says so).
    pub fn log_choice(&self) {
        match self {
            Self::Embedded(e) => {
                tracing::info!(files = e.files.len(), bytes = e.bytes(), "serving the site embedded in the binary");
            }
            Self::Dir { root, why: DirChoice::Default } => tracing::info!(
                dir = %root.display(),
                "no site is embedded in this binary (it was compiled before scripts/build.sh built one): serving \
                 the site's files from this directory, relative to the working directory (or give --site-dir)"
            ),
            Self::Dir { root, why } => {
                tracing::info!(dir = %root.display(), chosen_by = ?why, "serving the site from a directory")
            }
        }
    }
}

/// The site's files as the binary embedded them: path (`pkg/livedash.js`) to bytes and ETag.
#[derive(Default)]
pub struct Embedded {
    files: HashMap<String, EmbeddedFile>,
}

/// One embedded file.
struct EmbeddedFile {
    bytes: Bytes,
    etag: String,
}

impl Embedded {
    /// No files yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the file at `path` (relative to the site's root, `/`-separated) with its bytes and
    /// their SHA-256 (worked out when the binary was compiled; its first 16 hex digits make the
    /// ETag).
    pub fn add(&mut self, path: &str, bytes: Cow<'static, [u8]>, sha256: &[u8; 32]) {
        let bytes = match bytes {
            Cow::Borrowed(b) => Bytes::from_static(b),
            Cow::Owned(v) => Bytes::from(v),
        };
        let digits: String = sha256[..8].iter().map(|b| format!("{b:02x}")).collect();
        self.files.insert(path.to_owned(), EmbeddedFile { bytes, etag: format!("\"{digits}\"") });
    }

    /// How many files there are.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// How many bytes they take together.
    pub fn bytes(&self) -> usize {
        self.files.values().map(|f| f.bytes.len()).sum()
    }
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedded({} files, {} bytes)", self.files.len(), self.bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_file() -> Embedded {
        let mut e = Embedded::new();
        e.add("pkg/livedash.js", Cow::Borrowed(b"js"), &[0xab; 32]);
        e
    }

    #[test]
    fn the_embedded_site_replaces_only_the_default_directory() {
        let default = Site::Dir { root: "target/site".into(), why: DirChoice::Default };
        assert!(matches!(default.clone().or_embedded(one_file()), Site::Embedded(e) if e.len() == 1));
        // A binary without a site keeps reading the directory.
        assert!(matches!(default.or_embedded(Embedded::new()), Site::Dir { why: DirChoice::Default, .. }));
        for why in [DirChoice::Flag, DirChoice::Leptos] {
            let chosen = Site::Dir { root: "elsewhere".into(), why };
            assert!(matches!(chosen.or_embedded(one_file()), Site::Dir { why: w, .. } if w == why));
        }
    }
}
