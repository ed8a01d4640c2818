//! The `livedash` binary: parse the configuration, start logging, bind, serve until Ctrl-C or
//! SIGTERM, keeping a PID file meanwhile; re-read the users file on SIGHUP. The other commands
//! (`check-config`, `users`, `hash-password`, `token`, ...) run in `livedash_server::ops`; this
//! prints what they return. The embedded site and the version's commit are in `bundle.rs`.

mod bundle;

use std::io::{IsTerminal, Write};

use anyhow::Context;
use livedash_server::Running;
use livedash_server::auth::Auth;
use livedash_server::config::{ADMIN_PASSWORD_ENV, ADMIN_USER, Config, UsersSource};
use livedash_server::ops::pid::PidFile;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the C library's allocator: in the load benchmark it held 18,000 sockets in
/// 106 MiB instead of 131 (a handshake's buffers no longer leave holes that keep pages resident)
/// and spent less time allocating during connection storms.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain of causes, on one line, and no backtrace: this is for a person.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("livedash: error: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run() -> anyhow::Result<()> {
    let cli = bundle::parse_cli();
    if let Some(command) = cli.command {
        let printed = livedash_server::ops::run(command, &cli.serve).await?;
        #[allow(clippy::print_stderr)] // notes for the person, apart from the output
        for note in &printed.notes {
            eprintln!("{note}");
        }
        return printed.out.map_or(Ok(()), |out| print_line(&out));
    }
    // Before any slow start-up work (TLS, password hashing): a SIGHUP or SIGTERM from a service
    // manager right after the start is then kept for later, never the signal's default (death).
    let signals = Signals::install();
    let mut config = Config::from_args(&cli.serve, std::env::var_os(ADMIN_PASSWORD_ENV))?;
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    config.site = config.site.clone().or_embedded(bundle::site());
    config.site.log_choice();
    if config.clear_text_off_loopback() {
        tracing::warn!(
            listen = %config.listen,
            "--insecure-http: serving plain HTTP off loopback. Basic credentials and all data travel in clear \
             text; use this only behind a TLS-terminating proxy on a trusted network"
        );
    }

    raise_open_file_limit(&config);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen / LIVEDASH_LISTEN)", config.listen))?;
    let running = livedash_server::start(&config, listener)?;
    announce(&config, &running)?;
    let pid_file = write_pid_file(&config);
    let scheme = if running.tls.is_some() { "https" } else { "http" };
    livedash_server::service::ready(&format!("listening on {scheme}://{}/", running.addr), running.hub.clone());

    let users_file = match &config.users {
        UsersSource::File(path) => Some(path.clone()),
        UsersSource::Admin(_) => None,
    };
    tokio::spawn(reload_on_sighup(signals.hangup, running.auth.clone(), users_file));
    shutdown_signal(signals.terminate).await;
    livedash_server::service::stopping();
    tracing::info!("shutting down");
    running.stop().await;
    if let Some(pid_file) = pid_file {
        pid_file.remove();
    }
    Ok(())
}

/// The PID file, for `livedash users` to send SIGHUP to (`ops::pid`); not having one only costs
/// that, so a failure is a warning.
fn write_pid_file(config: &Config) -> Option<PidFile> {
    PidFile::write(&config.data_dir)
        .inspect(|f| tracing::debug!(path = %f.path().display(), "PID file written"))
        .inspect_err(|e| tracing::warn!(error = %e, "no PID file: `livedash users` cannot tell this server of changes"))
        .ok()
}

#[allow(clippy::print_stdout)] // the command's output
fn print_line(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").context("writing to standard output")
}

/// Tells the person who started the server where to go and how to log in. A generated password
/// is printed once, here, and nowhere else.
fn announce(config: &Config, running: &Running) -> anyhow::Result<()> {
    let scheme = if running.tls.is_some() { "https" } else { "http" };
    let mut text = format!("livedash listening on {scheme}://{}/\n", running.addr);
    match (&config.users, &running.generated_password) {
        (UsersSource::File(path), _) => text.push_str(&format!("  users from {}\n", path.display())),
        (_, Some(password)) => text.push_str(&format!(
            "  user:     {ADMIN_USER}\n  password: {password}   (generated; set {ADMIN_PASSWORD_ENV} or --users-file to choose)\n"
        )),
        (_, None) => text.push_str(&format!("  user: {ADMIN_USER}, password from {ADMIN_PASSWORD_ENV}\n")),
    }
    if let Some(addr) = running.metrics_addr {
        text.push_str(&format!("  metrics without authentication on http://{addr}/metrics\n"));
    }
    if let Some((fingerprint, path)) = &running.tls {
        text.push_str(&format!(
            "  TLS certificate {}\n  SHA-256 fingerprint {fingerprint}\n  (check it before trusting the certificate: README, \"Security\")\n",
            path.display()
        ));
    }
    print_line(text.trim_end())
}

/// Raises the soft limit of open files to the hard limit (each connection is one), and warns when
/// even that is below what the connection caps allow.
fn raise_open_file_limit(config: &Config) {
    let wanted = (config.max_connections + config.max_http_connections + 64) as u64;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < wanted => tracing::warn!(
            open_files = limit,
            wanted,
            "the open-file limit is below the connection caps: connections past it will be refused by the \
             system (raise `ulimit -n`, or lower --max-connections / --max-http-connections)"
        ),
        Ok(limit) => tracing::debug!(open_files = limit, "open-file limit"),
        // The packaged unit's system-call filter refuses `prlimit64` (`~@resources`) and sets
        // LimitNOFILE itself: nothing is wrong there, so no warning at every start.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => tracing::info!(
            error = %e,
            "the open-file limit cannot be raised here (a system-call filter refuses it): the service manager's \
             LimitNOFILE applies"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot read or raise the open-file limit"),
    }
}

/// The signals the server acts on, listened for from the first moment of the process.
struct Signals {
    hangup: Option<Signal>,
    terminate: Option<Signal>,
}

#[cfg(unix)]
type Signal = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Signal = ();

impl Signals {
    #[cfg(unix)]
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind, name: &str| {
            signal(kind)
                .inspect_err(|e| {
                    // Logging is not set up yet: this goes straight to standard error.
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!("livedash: warning: cannot listen for {name}: {e}");
                    }
                })
                .ok()
        };
        Self { hangup: listen(SignalKind::hangup(), "SIGHUP"), terminate: listen(SignalKind::terminate(), "SIGTERM") }
    }

    #[cfg(not(unix))]
    fn install() -> Self {
        Self { hangup: None, terminate: None }
    }
}

/// Re-reads the users file on every SIGHUP (one that came during start-up included); a bad file
/// keeps the accounts in force.
async fn reload_on_sighup(hangups: Option<Signal>, auth: std::sync::Arc<Auth>, users_file: Option<std::path::PathBuf>) {
    #[cfg(unix)]
    {
        let Some(mut hangups) = hangups else {
            tracing::warn!("cannot listen for SIGHUP: the users file will not be reloaded");
            return;
        };
        while hangups.recv().await.is_some() {
            let Some(path) = &users_file else {
                tracing::info!("SIGHUP: no users file to reload");
                continue;
            };
            match livedash_server::reload_users(&auth, path) {
                Ok(n) => tracing::info!(users = n, file = %path.display(), "users file reloaded"),
                Err(e) => tracing::error!(error = %e, "users file not reloaded; the previous accounts stay in force"),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (hangups, auth, users_file);
}

/// Resolves on Ctrl-C or SIGTERM (one that came during start-up included).
async fn shutdown_signal(terminate: Option<Signal>) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match terminate {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = {
        let _ = terminate;
        std::future::pending::<()>()
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
