//! What a service manager (systemd, `Type=notify`) is told through `sd_notify`: `READY=1` with a
//! `STATUS=` line once the server listens and has started, `WATCHDOG=1` every half of
//! `WATCHDOG_USEC` while the runtime runs timers and the hub answers, `STOPPING=1` at shutdown.
//! Nothing at all when `NOTIFY_SOCKET` is not set (started by hand, by a test, by another manager).
//!
//! The datagrams are written by the `sd-notify` crate (standard library sockets and `libc` only).
//! Imports [`crate::live::hub`] (what the watchdog checks).

use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;

use crate::live::hub::Hub;

/// Tells the service manager that the server is ready (`READY=1`, `STATUS=status`), and starts
/// the watchdog's pings when it asks for them.
pub fn ready(status: &str, hub: Arc<Hub>) {
    if let Err(e) = send(&[NotifyState::Ready, NotifyState::Status(status)]) {
        tracing::warn!(error = %e, "cannot tell the service manager that the server is ready (NOTIFY_SOCKET)");
    }
    if let Some(period) = sd_notify::watchdog_enabled() {
        tokio::spawn(watchdog(period / 2, hub));
    }
}

/// Tells the service manager that the server is stopping (`STOPPING=1`).
pub fn stopping() {
    if let Err(e) = send(&[NotifyState::Stopping, NotifyState::Status("stopping")]) {
        tracing::warn!(error = %e, "cannot tell the service manager that the server is stopping (NOTIFY_SOCKET)");
    }
}

/// `WATCHDOG=1` every `every`, to the end of the process (the stop too is watched). Each ping
/// takes the hub's lock first: a runtime whose timers no longer fire, or a hub stuck behind its
/// lock, stops the pings, and the service manager restarts the process.
async fn watchdog(every: Duration, hub: Arc<Hub>) {
    tracing::debug!(every_ms = every.as_millis(), "pinging the service manager's watchdog");
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        let _ = hub.last_seq();
        match send(&[NotifyState::Watchdog]) {
            Ok(()) => failing = false,
            // Said once, not every tick: the manager acts on the pings that do not arrive.
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot ping the service manager's watchdog (NOTIFY_SOCKET)");
            }
            Err(_) => {}
        }
    }
}

/// Sends `states` when there is a service manager (`NOTIFY_SOCKET`); nothing otherwise.
fn send(states: &[NotifyState]) -> std::io::Result<()> {
    sd_notify::notify(states)
}
