//! One socket's life after the upgrade: its first frames (a `hello` or a resume), then every
//! frame of the hub it subscribed to (an index check per frame; none for an `all` socket) and the
//! summary frames it wants (from their own channel), pings, and its end with a close code.
//!
//! The client may send nothing but control frames: data frames are ignored and counted, one over
//! [`MAX_CLIENT_FRAME`] closes the socket with 1009, and a client that answers no ping for the
//! idle timeout is closed. A socket that falls behind skips ahead but loses nothing that matters:
//! it gets every source's status and newest sample, then goes on from there; a send that stalls
//! past [`SEND_TIMEOUT`] disconnects that client alone. A socket revoked since its admission (its
//! user removed or its password changed, its session ended: see [`super::revocation`]) is
//! closed with 1008: asked before and right after the hello, whenever the accounts or the
//! sessions change, and (without waiting) between any two frames.

use std::future::poll_fn;
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Bytes, Message, Utf8Bytes};

use super::admission::Admitted;
use super::connections::WsStats;
use super::ending::{End, SHUTTING_DOWN, heard, revocation, session_ended, token_ended};
use super::handshake::Socket;
use super::revocation::{Notices, Standing};
use super::state::WsState;
use crate::live::hub::{Hub, Subscription};
use crate::live::outgoing::{FrameKind, Outgoing};
use crate::live::start::Start;
use crate::live::subscription::{Filter, SummaryWants};
use crate::live::summary::{SummaryFeed, SummaryFrame, SummaryStart};
use crate::live::wire;
use crate::shutdown::Shutdown;

/// How long one frame may take to go out before the client is dropped.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
pub use super::ending::MAX_CLIENT_FRAME;

/// A frame for the socket: one the hub broadcast, already framed, a summary frame, or one of
/// its own.
enum Outbound {
    Framed(Outgoing),
    Summary(SummaryFrame),
    Text(Utf8Bytes),
}

/// A socket and what it needs to write to it.
struct Pump {
    socket: Socket,
    shutdown: Shutdown,
    /// The last sample `seq` sent.
    sent: u64,
    /// Which sources' frames it takes; `all`: every frame, no check.
    filter: Filter,
    all: bool,
    /// Which summary frames it takes, and the last summary `seq` sent.
    wants: SummaryWants,
    summary_sent: u64,
    /// Whether the protocol layer may still hold a pong to write (a ping was heard since its
    /// queue was last flushed): only then is it flushed before a frame goes out.
    owes_pong: bool,
}

/// Serves one admitted socket until it ends. Its standing is asked before the first frames and
/// right after them, whatever the receivers say: a revocation during the admission or the hello
/// (whose send may take up to [`SEND_TIMEOUT`]) ends the socket there.
pub async fn run(socket: Socket, state: WsState, admitted: Admitted) {
    let Admitted { standing, notices, slot: _slot, since, epoch, subs, fleet_since } = admitted;
    tracing::debug!(user = ?standing.user, "websocket accepted");
    let (all, wants) = (subs.all, subs.summary);
    let mut filter = if all { Filter::all() } else { Filter::new(std::sync::Arc::new(subs), state.class.clone()) };
    // The summary first: its frames go after the hub's, and none falls between the two.
    let summary = wants.any().then(|| state.summary.start(wants, fleet_since));
    let hello_fleet = summary.as_ref().and_then(|s| s.hello_fleet.clone());
    let fleet = summary.as_ref().zip(hello_fleet.clone()).map(|(s, text)| (s.seq, text));
    let Subscription { start, frames, seq } = state.hub.subscribe_to(since, epoch.as_deref(), &mut filter, fleet);
    let summary_sent = summary.as_ref().map_or(0, |s| s.seq);
    let mut pump = Pump {
        socket,
        shutdown: state.shutdown.clone(),
        sent: seq,
        filter,
        all,
        wants,
        summary_sent,
        owes_pong: false,
    };
    let (mut summary_frames, summary) = summary.map_or((Vec::new(), None), |s| (s.frames, Some(s.receiver)));
    // A resume of the samples has no `hello` to hold the overview's rows: they follow it.
    if let (Start::Resume(_), Some(fleet)) = (&start, hello_fleet) {
        summary_frames.insert(0, fleet);
    }
    let end = match revocation(&standing, &state) {
        Some(end) => end,
        None if !pump.send_start(start).await || !pump.send_texts(summary_frames).await => End::Gone,
        None => match revocation(&standing, &state) {
            Some(end) => end,
            None => pump.stream((frames, summary), &state, &standing, notices).await,
        },
    };
    pump.close(end).await;
}

impl Pump {
    /// The first frames; false when the client could not take them.
    async fn send_start(&mut self, start: Start) -> bool {
        let frames = match start {
            Start::Hello(hello) => vec![hello],
            Start::Resume(frames) => frames,
        };
        self.send_texts(frames).await
    }

    /// Frames of its own, in order; false when the client could not take them.
    async fn send_texts(&mut self, frames: Vec<Utf8Bytes>) -> bool {
        for frame in frames {
            if !self.send(Outbound::Text(frame)).await {
                return false;
            }
        }
        true
    }

    /// Everything after the first frames, until something ends the socket. The waits on the
    /// shutdown and on the accounts live across the loop's turns: made anew on every turn, each
    /// would join and leave a list of waiters that every socket shares (a lock, twice per frame
    /// per socket). The receivers were marked at admission: a change since then is seen at once.
    async fn stream(
        &mut self,
        (mut frames, mut summary): (broadcast::Receiver<Outgoing>, Option<broadcast::Receiver<SummaryFrame>>),
        state: &WsState,
        standing: &Standing,
        notices: Notices,
    ) -> End {
        let stats = &state.connections.stats;
        let idle = state.config.idle_timeout;
        let (user, session) = (&*standing.user, standing.session);
        let mut probe = notices.probe();
        let next_change = |mut accounts: watch::Receiver<u64>| async move {
            let changed = accounts.changed().await;
            (accounts, changed.is_ok())
        };
        let mut users_changed = pin!(next_change(notices.accounts));
        let sessions = &state.gate.sessions;
        // A socket of no session waits on a channel that never moves.
        let (_never, quiet) = watch::channel(0);
        let mut sessions_ended = pin!(next_change(notices.ended.unwrap_or(quiet)));
        let mut stop = self.shutdown.clone();
        let mut stopped = pin!(async move { stop.stopped().await });
        let mut ping = tokio::time::interval(idle / 2);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ping.tick().await;
        let mut last_heard = Instant::now();
        loop {
            // In this order: a frame that is ready is sent without polling the rest first.
            let end = tokio::select! {
                biased;
                frame = frames.recv() => match self.forward(frame, &mut frames, &state.hub, stats).await {
                    // Frames always ready (a slow reader) starve the waits below: look here too.
                    None if probe.moved() => revocation(standing, state),
                    end => end,
                },
                frame = next_summary(&mut summary), if summary.is_some() => {
                    self.forward_summary(frame, &mut summary, &*state.summary, stats).await
                },
                incoming = self.socket.next() => {
                    last_heard = Instant::now();
                    self.owes_pong |= matches!(incoming, Some(Ok(Message::Ping(_))));
                    heard(incoming, stats)
                },
                _ = ping.tick() => match (session, standing.token) {
                    // A page showing live data is in use; a session that expired meanwhile ends it.
                    (Some(h), _) if !sessions.touch(h) => Some(session_ended(user, stats)),
                    // A token that expired meanwhile ends it too (a revoked one is told at once).
                    (_, Some(h)) if !state.gate.tokens.is_live(h) => Some(token_ended(user, stats)),
                    _ => self.ping(last_heard, idle, stats).await,
                },
                (accounts, open) = &mut users_changed => {
                    users_changed.set(next_change(accounts));
                    open.then(|| revocation(standing, state)).flatten()
                },
                (ended, open) = &mut sessions_ended => {
                    sessions_ended.set(next_change(ended));
                    open.then(|| revocation(standing, state)).flatten()
                },
                () = &mut stopped => Some(SHUTTING_DOWN),
            };
            if let Some(end) = end {
                return end;
            }
        }
    }

    /// Sends what the hub broadcast. A socket that fell behind gets a fresh start from the hub
    /// (every status, each source's newest sample) and what it skipped is counted.
    async fn forward(
        &mut self,
        frame: Result<Outgoing, RecvError>,
        frames: &mut broadcast::Receiver<Outgoing>,
        hub: &Hub,
        stats: &WsStats,
    ) -> Option<End> {
        let lagged = match frame {
            Ok(frame) => {
                if !self.all
                    && let Some(source) = frame.source()
                    && !self.takes(source, hub)
                {
                    return None;
                }
                if let FrameKind::Sample { seq, .. } = frame.kind {
                    self.sent = seq;
                }
                return self.send_or_end(Outbound::Framed(frame), stats).await;
            }
            Err(RecvError::Lagged(n)) => n,
            Err(RecvError::Closed) => return Some(SHUTTING_DOWN),
        };
        let skipped = lagged + u64::try_from(frames.len()).unwrap_or(u64::MAX);
        let Subscription { start, frames: receiver, seq } = hub.catch_up_for(self.sent, &mut self.filter);
        *frames = receiver;
        self.sent = seq;
        hub.stats.skipped.fetch_add(skipped, Ordering::Relaxed);
        if self.send_start(start).await {
            return None;
        }
        stats.closed_slow.fetch_add(1, Ordering::Relaxed);
        Some(End::Gone)
    }

    /// Whether the socket takes frames of the source with `index` (resolving its filter first
    /// when that source is newer than it).
    fn takes(&mut self, index: u32, hub: &Hub) -> bool {
        if let Some(taken) = self.filter.takes(index) {
            return taken;
        }
        hub.resolve(&mut self.filter);
        self.filter.takes(index) == Some(true)
    }

    /// Sends a summary frame it wants. One that fell behind resumes from the last summary `seq`
    /// it sent (what changed since, or full frames), with a new receiver.
    async fn forward_summary(
        &mut self,
        frame: Result<SummaryFrame, RecvError>,
        receiver: &mut Option<broadcast::Receiver<SummaryFrame>>,
        feed: &dyn SummaryFeed,
        stats: &WsStats,
    ) -> Option<End> {
        match frame {
            Ok(frame) if frame.kind.wanted(self.wants) => {
                self.summary_sent = frame.seq;
                self.send_or_end(Outbound::Summary(frame), stats).await
            }
            Ok(_) => None,
            Err(RecvError::Lagged(_)) => {
                let SummaryStart { hello_fleet, frames, seq, receiver: fresh } =
                    feed.start(self.wants, Some(self.summary_sent));
                *receiver = Some(fresh);
                self.summary_sent = seq;
                if self.send_texts(hello_fleet.into_iter().chain(frames).collect()).await {
                    return None;
                }
                stats.closed_slow.fetch_add(1, Ordering::Relaxed);
                Some(End::Gone)
            }
            Err(RecvError::Closed) => {
                *receiver = None;
                None
            }
        }
    }

    /// Sends one frame; a client that cannot take it is gone (and counted as slow).
    async fn send_or_end(&mut self, frame: Outbound, stats: &WsStats) -> Option<End> {
        if self.send(frame).await {
            return None;
        }
        stats.closed_slow.fetch_add(1, Ordering::Relaxed);
        Some(End::Gone)
    }

    /// Pings the client, or ends a socket that has been silent for `idle`.
    async fn ping(&mut self, last_heard: Instant, idle: Duration, stats: &WsStats) -> Option<End> {
        if last_heard.elapsed() >= idle {
            stats.closed_idle.fetch_add(1, Ordering::Relaxed);
            return Some(End::Close(CloseCode::Away, "idle timeout"));
        }
        let ping = self.socket.send(Message::Ping(Bytes::new()));
        (!bounded(ping, &mut self.shutdown).await).then_some(End::Gone)
    }

    /// Sends a frame, written straight to the connection ([`wire`]: no copy into the protocol
    /// layer's buffer), after a pong that layer may have queued, all of it within
    /// [`SEND_TIMEOUT`].
    async fn send(&mut self, frame: Outbound) -> bool {
        let socket = &mut self.socket;
        let owes_pong = std::mem::take(&mut self.owes_pong);
        let sending = async {
            if owes_pong {
                socket.flush().await?;
            }
            let io = socket.get_mut();
            let written = match &frame {
                Outbound::Framed(frame) => wire::write_framed(io, &frame.wire).await,
                Outbound::Summary(frame) => wire::write_framed(io, &frame.wire).await,
                Outbound::Text(text) => wire::write_text(io, text).await,
            };
            written.map_err(tungstenite::Error::Io)
        };
        bounded(sending, &mut self.shutdown).await
    }

    /// Says goodbye with the close code of `end`. A send cut short by the shutdown still owes the
    /// client its 1001.
    async fn close(mut self, end: End) {
        let end = match end {
            End::Gone if self.shutdown.is_stopping() => SHUTTING_DOWN,
            end => end,
        };
        if let End::Close(code, reason) = end {
            let close = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
            // Best effort: a client that cannot take the close frame in a second is dropped anyway.
            let _ = tokio::time::timeout(Duration::from_secs(1), self.socket.send(Message::Close(Some(close)))).await;
        }
    }
}

/// The next summary frame (never, without a receiver: the branch is off then).
async fn next_summary(receiver: &mut Option<broadcast::Receiver<SummaryFrame>>) -> Result<SummaryFrame, RecvError> {
    match receiver {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Whether `sending` succeeds within [`SEND_TIMEOUT`] and before the server starts shutting down.
/// The send is polled once first: a write that completes at once (the usual case) neither reads
/// the clock for a timer nor joins the shutdown's waiters.
async fn bounded(sending: impl Future<Output = Result<(), tungstenite::Error>>, shutdown: &mut Shutdown) -> bool {
    let mut sending = pin!(sending);
    if let Poll::Ready(sent) = poll_fn(|cx| Poll::Ready(sending.as_mut().poll(cx))).await {
        return sent.is_ok();
    }
    tokio::select! {
        biased;
        sent = tokio::time::timeout(SEND_TIMEOUT, sending) => matches!(sent, Ok(Ok(()))),
        () = shutdown.stopped() => false,
    }
}
