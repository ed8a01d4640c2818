//! The `livedash` binary: parse the configuration, start logging, bind, serve until Ctrl-C or
//! SIGTERM.

use anyhow::Context;
use clap::Parser;
use livedash_server::config::{ADMIN_PASSWORD_ENV, ADMIN_USER, Cli, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_cli(&cli, std::env::var_os(ADMIN_PASSWORD_ENV))?;
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen / LIVEDASH_LISTEN)", config.listen))?;
    let running = livedash_server::start(&config, listener).context("starting the server")?;
    announce(&config, &running);

    let stop = running.shutdown_handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    running.wait().await.context("serving")?;
    Ok(())
}

/// Tells the person who started the server where to go and how to log in. The generated password
/// is printed once, here, and nowhere else.
#[allow(clippy::print_stdout)] // the start-up banner is the binary's output, not logging
fn announce(config: &Config, running: &livedash_server::Running) {
    println!("livedash listening on http://{}/", running.addr);
    if config.admin_password.is_none() {
        println!("  user:     {ADMIN_USER}");
        println!("  password: {}   (generated; set {ADMIN_PASSWORD_ENV} to choose one)", running.admin_password);
    } else {
        println!("  user: {ADMIN_USER}, password from {ADMIN_PASSWORD_ENV}");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
