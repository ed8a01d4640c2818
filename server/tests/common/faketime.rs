//! Debian's libfaketime, for the tests that move a server's wall clock while its monotonic clock
//! runs on (the `faketime` package; scripts/setup.sh --tests installs it).

use std::path::Path;

/// Where Debian puts the library.
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// Whether the library is here. When it is not, the test is skipped (it says so on stderr), or
/// fails if `LIVEDASH_REQUIRE_FAKETIME` is set.
pub fn present() -> bool {
    if Path::new(LIBFAKETIME).exists() {
        return true;
    }
    assert!(
        std::env::var_os("LIVEDASH_REQUIRE_FAKETIME").is_none(),
        "{LIBFAKETIME} is missing: apt-get install faketime"
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "skipped: {LIBFAKETIME} is missing (Debian's faketime package; scripts/setup.sh --tests installs it)"
        );
    }
    false
}

/// Runs `command` under libfaketime with its wall clock offset by what the file `offset` says
/// (`+0`, `+8d`, ...: read again at every call, so the test moves the clock by rewriting it); the
/// monotonic clock is left alone.
pub fn offset_by<'a>(command: &'a mut tokio::process::Command, offset: &Path) -> &'a mut tokio::process::Command {
    command
        .env("LD_PRELOAD", LIBFAKETIME)
        .env("FAKETIME_TIMESTAMP_FILE", offset)
        .env("FAKETIME_NO_CACHE", "1")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
}
