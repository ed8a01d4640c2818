//! What the `livedash` binary carries from its build, beside the library: the site that
//! `scripts/build.sh` put in `target/site` before compiling it (embedded whole, so that the binary
//! runs from any directory and always serves the very site it was built with: an older binary
//! can no longer serve a newer bundle that fails to hydrate against it), and the commit it was
//! built from, for `--version`.
//!
//! Part of the binary's crate, never of the library: a new site or commit recompiles this crate
//! alone (rust-embed's `include_bytes!` tells cargo which files it embedded; the commit is
//! `LIVEDASH_COMMIT`, read at compile time).

use livedash_server::site::Embedded;

/// The files under `target/site` when the binary was compiled, none when it did not exist (a
/// `cargo test` or clippy before any `scripts/build.sh`): the server then reads `target/site` from
/// the working directory as before.
#[derive(rust_embed::Embed)]
#[folder = "../target/site/"]
#[allow_missing = true]
struct SiteFiles;

/// The embedded site, for [`livedash_server::site::Site::or_embedded`].
pub fn site() -> Embedded {
    let mut embedded = Embedded::new();
    for path in SiteFiles::iter() {
        if let Some(file) = SiteFiles::get(&path) {
            embedded.add(&path, file.data, &file.metadata.sha256_hash());
        }
    }
    embedded
}

/// `0.1.0 (commit 0123456789ab)`, `-dirty` after the commit when the tree had changes,
/// `commit unknown` when built outside a git checkout or by cargo alone
/// (`scripts/lib.sh` exports `LIVEDASH_COMMIT`).
pub fn version() -> &'static str {
    let commit = option_env!("LIVEDASH_COMMIT").filter(|c| !c.trim().is_empty()).unwrap_or("unknown");
    // Made once per process, for clap, which keeps a `&'static str`.
    Box::leak(format!("{} (commit {commit})", env!("CARGO_PKG_VERSION")).into_boxed_str())
}

/// The command line, with [`version`] as `--version`'s answer.
pub fn parse_cli() -> livedash_server::config::Cli {
    use clap::{CommandFactory, FromArgMatches};
    let matches = livedash_server::config::Cli::command().version(version()).get_matches();
    livedash_server::config::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
