//! The `livedash:` target kind: another livedash read over its WebSocket as a host of the fleet.
//!
//! [`RemoteHost::run`] connects to the remote's `/ws` with the fleet's API token
//! (`Authorization: Bearer`), subscribed to its configured sources, picks its `local` source out
//! of the hello and the samples ([`reader`]), and hands the caller that source's figures, one
//! [`HostFigures`] per sample, or a reason in words when it cannot (refused, 401, closed with
//! 1008 when the token is revoked, a protocol error, silence). It reconnects by itself, after a
//! wait that doubles from [`RemoteOptions::first_retry`] to [`RemoteOptions::max_retry`], each
//! wait drawn between its half and its whole (so that a fleet of readers cut off together does
//! not come back together), starting afresh after a connection that gave figures.
//!
//! - [`connect`]: TCP, TLS, the handshake and its refusals;
//! - [`reader`]: the frames read into figures;
//! - [`failure`]: why a connection gave no figures, in words;
//! - [`task`]: a host's reader as the targets reconciler runs it (behind its gate, into its
//!   [`crate::sources::Deliver`]).
//!
//! May import the fleet's figures ([`crate::fleet::figures`]), the core crate and the WebSocket
//! and TLS clients; [`task`] also the sources' delivery ([`crate::sources::Deliver`]) and
//! [`crate::shutdown`]; nothing else of the server.

pub mod connect;
pub mod failure;
pub mod reader;
pub mod task;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Url;
use tokio::time::Instant;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;

use crate::fleet::figures::HostFigures;
pub use failure::Failure;
use reader::{Reader, Step};

/// How a [`RemoteHost`] connects and waits.
#[derive(Debug, Clone, Copy)]
pub struct RemoteOptions {
    /// The most the connection, TLS and handshake may take together, and the wait for the hello.
    pub connect_timeout: Duration,
    /// The wait before the first reconnection.
    pub first_retry: Duration,
    /// The longest wait between reconnections.
    pub max_retry: Duration,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
        }
    }
}

/// Another livedash, read as a host of the fleet.
#[derive(Clone)]
pub struct RemoteHost {
    url: Url,
    token: Arc<str>,
    options: RemoteOptions,
}

impl std::fmt::Debug for RemoteHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteHost").field("url", &self.url.as_str()).field("options", &self.options).finish()
    }
}

impl RemoteHost {
    /// The remote whose WebSocket is at `url` (a `livedash:` target's
    /// [`crate::targets::TargetKind::ws_url`]), read with the API token `token`.
    pub fn new(url: Url, token: Arc<str>) -> Self {
        Self { url, token, options: RemoteOptions::default() }
    }

    /// With other timeouts and waits.
    #[must_use]
    pub fn with_options(mut self, options: RemoteOptions) -> Self {
        self.options = options;
        self
    }

    /// Reads the remote until `stop` resolves: `deliver` gets the remote's `local` figures once
    /// per sample (and once from the hello when its last sample is current), and a reason each
    /// time a connection fails or ends, or the remote says its `local` source is failing.
    pub async fn run(&self, mut deliver: impl FnMut(Result<HostFigures, String>), stop: impl Future<Output = ()>) {
        tokio::select! {
            biased;
            () = stop => {}
            () = self.reconnecting(&mut deliver) => {}
        }
    }

    async fn reconnecting(&self, deliver: &mut impl FnMut(Result<HostFigures, String>)) {
        let mut failures = 0;
        loop {
            let (failure, delivered) = self.connection(deliver).await;
            tracing::debug!(url = %self.url, %failure, "fleet: a remote livedash's connection ended");
            deliver(Err(failure.to_string()));
            failures = if delivered { 1 } else { failures + 1 };
            let unit = getrandom::u32().map_or(0.5, |r| f64::from(r) / f64::from(u32::MAX));
            tokio::time::sleep(retry_wait(failures, &self.options, unit)).await;
        }
    }

    /// One connection, until it fails: why, and whether it gave figures.
    async fn connection(&self, deliver: &mut impl FnMut(Result<HostFigures, String>)) -> (Failure, bool) {
        let mut socket = match connect::open(&self.url, &self.token, self.options.connect_timeout).await {
            Ok(socket) => socket,
            Err(failure) => return (failure, false),
        };
        let mut reader: Option<Reader> = None;
        let (mut delivered, mut deadline) = (false, Instant::now() + self.options.connect_timeout);
        loop {
            let message = match tokio::time::timeout_at(deadline, socket.next()).await {
                Err(_) => {
                    let silence =
                        reader.as_ref().map_or(Failure::Silent("no hello from the remote".into()), Reader::silence);
                    return (silence, delivered);
                }
                Ok(None) => return (Failure::Lost("the connection ended without a close frame".into()), delivered),
                Ok(Some(Err(e))) => return (lost(e), delivered),
                Ok(Some(Ok(message))) => message,
            };
            let step = match (message, &mut reader) {
                (Message::Text(text), None) => match Reader::hello(text.as_str()) {
                    Ok((first, figures)) => {
                        deadline = Instant::now() + first.patience();
                        reader = Some(first);
                        figures.map_or(Step::Nothing, Step::Figures)
                    }
                    Err(failure) => return (failure, delivered),
                },
                (Message::Text(text), Some(reader)) => match reader.frame(text.as_str()) {
                    Ok(step) => step,
                    Err(failure) => return (failure, delivered),
                },
                (Message::Close(frame), _) => return (closed(frame), delivered),
                (Message::Binary(_), _) => {
                    return (Failure::Protocol("a binary frame (the protocol sends text)".into()), delivered);
                }
                (Message::Ping(_) | Message::Pong(_) | Message::Frame(_), _) => Step::Nothing,
            };
            match step {
                Step::Figures(figures) => {
                    delivered = true;
                    deadline = Instant::now() + reader.as_ref().map_or(self.options.connect_timeout, Reader::patience);
                    deliver(Ok(figures));
                }
                Step::Failing(reason) => deliver(Err(reason)),
                Step::Nothing => {}
            }
        }
    }
}

/// The wait before reconnecting after `failures` failed connections in a row (at least 1):
/// `first_retry` doubled per failure up to `max_retry`, then drawn between its half and its
/// whole by `unit` (0..=1).
pub fn retry_wait(failures: u32, options: &RemoteOptions, unit: f64) -> Duration {
    let doubled = options.first_retry.saturating_mul(1 << failures.saturating_sub(1).min(16));
    doubled.min(options.max_retry).mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

fn closed(frame: Option<CloseFrame>) -> Failure {
    match frame {
        Some(frame) => Failure::Closed { code: frame.code.into(), reason: frame.reason.to_string() },
        None => Failure::Closed { code: 1005, reason: "(no code)".to_owned() },
    }
}

fn lost(e: tungstenite::Error) -> Failure {
    match e {
        tungstenite::Error::Capacity(e) => Failure::Protocol(format!("a frame too large: {e}")),
        tungstenite::Error::Protocol(e) => Failure::Protocol(e.to_string()),
        other => Failure::Lost(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
