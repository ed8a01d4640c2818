//! The browser's live connection: fetch a ticket, open `/ws?ticket=..&sub=..&since=..` (each page
//! subscribes to what it shows: [`dashboard_sub`], the fleet pages' own), apply every frame, and on any failure reconnect with capped, jittered exponential back-off.
//!
//! On the server this renders nothing and starts nothing: [`connect`] is a no-op there.

#[cfg(not(feature = "hydrate"))]
use leptos::prelude::RwSignal;

#[cfg(not(feature = "hydrate"))]
use crate::model::Model;
#[cfg(not(feature = "hydrate"))]
use crate::pause::Pause;

/// The state shown by the connection badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Opening the socket (attempt 0 is the first).
    Connecting {
        /// How many attempts failed before this one.
        attempt: u32,
    },
    /// Frames are arriving.
    Live,
    /// The socket closed or could not be opened; the next attempt is pending.
    Reconnecting {
        /// The number of the next attempt.
        attempt: u32,
        /// Why the last one ended.
        reason: String,
        /// When the next attempt starts (ms since the epoch).
        next_at_ms: u64,
    },
}

impl Connection {
    /// A CSS class suffix and `data-state` value.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Connecting { .. } => "connecting",
            Self::Live => "live",
            Self::Reconnecting { .. } => "reconnecting",
        }
    }

    /// The badge text at `now` (ms since the epoch).
    pub fn text_at(&self, now: u64) -> String {
        match self {
            Self::Connecting { attempt: 0 } => "Connecting…".to_owned(),
            Self::Connecting { attempt } => format!("Connecting… (attempt {})", attempt + 1),
            Self::Live => "Live".to_owned(),
            Self::Reconnecting { attempt, next_at_ms, .. } => {
                let secs = next_at_ms.saturating_sub(now).div_ceil(1000);
                format!("Reconnecting (attempt {attempt}, next try in {secs} s)")
            }
        }
    }

    /// Why the page is not live, once reconnecting has failed more than once.
    pub fn lasting_problem(&self) -> Option<&str> {
        match self {
            Self::Reconnecting { attempt, reason, .. } if *attempt >= 2 => Some(reason),
            _ => None,
        }
    }

    /// The badge tooltip.
    pub fn detail(&self) -> String {
        match self {
            Self::Reconnecting { reason, .. } => reason.clone(),
            Self::Live => "Receiving live updates".to_owned(),
            Self::Connecting { .. } => "Opening the live connection".to_owned(),
        }
    }
}

/// The delay before reconnect attempt `attempt` (1-based), in ms: 0.5 s doubling to a 15 s cap,
/// then spread by `jitter` in [0, 1) to ±25 % so that a restarted server is not hit by every
/// browser in the same millisecond.
pub fn backoff_ms(attempt: u32, jitter: f64) -> u32 {
    let base = 500u32.saturating_mul(1 << attempt.saturating_sub(1).min(5)).min(15_000);
    let spread = 0.75 + jitter.clamp(0.0, 1.0) * 0.5;
    (f64::from(base) * spread) as u32
}

/// What the dashboard subscribes to (contract: `/ws?sub=`): its host's frames for `?host=NAME`
/// (`host:NAME`), else the sources of the configuration (`configured`), not the fleet's hosts.
pub fn dashboard_sub(host: Option<&str>) -> String {
    match host.filter(|h| !h.is_empty()) {
        Some(h) => format!("host:{h}"),
        None => "configured".to_owned(),
    }
}

#[cfg(not(feature = "hydrate"))]
/// Starts the live connection (browser only; nothing happens on the server).
pub fn connect(_model: RwSignal<Model>, _connection: RwSignal<Connection>, _pause: Pause) {}

#[cfg(not(feature = "hydrate"))]
/// Starts a live connection that asks `query()` (`sub=..&fleet_since=..`) and hands every frame to
/// `deliver` (browser only; nothing happens on the server).
pub fn connect_with(
    _connection: RwSignal<Connection>,
    _query: impl Fn() -> String + 'static,
    _deliver: impl Fn(livedash::Frame) + 'static,
) {
}

#[cfg(feature = "hydrate")]
pub use browser::{connect, connect_with};

#[cfg(feature = "hydrate")]
mod browser {
    use futures_util::StreamExt;
    use gloo_net::websocket::{Message, futures::WebSocket};
    use gloo_timers::future::TimeoutFuture;
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use livedash::Frame;

    use std::rc::Rc;

    use super::{Connection, backoff_ms, dashboard_sub};
    use crate::model::Model;
    use crate::pause::Pause;

    /// Starts the dashboard's live connection loop (subscribed to its host, or to the configured
    /// sources, resuming after the last sample it has); it runs for the life of the page.
    pub fn connect(model: RwSignal<Model>, connection: RwSignal<Connection>, pause: Pause) {
        let search = window().location().search().unwrap_or_default();
        let sub = dashboard_sub(crate::route::param(search.trim_start_matches('?'), "host").as_deref());
        let sub = String::from(js_sys::encode_uri_component(&sub));
        let query = move || {
            let (since, epoch) = model.with_untracked(|m| (m.last_seq, m.last_epoch.clone()));
            let epoch = epoch.map(|e| format!("&epoch={}", js_sys::encode_uri_component(&e))).unwrap_or_default();
            format!("sub={sub}&since={since}{epoch}")
        };
        connect_with(connection, query, move |frame| pause.deliver(model, frame));
    }

    /// Starts a live connection loop that opens `/ws?ticket=..&{query()}` and hands every frame to
    /// `deliver`; it runs for the life of the page.
    pub fn connect_with(
        connection: RwSignal<Connection>,
        query: impl Fn() -> String + 'static,
        deliver: impl Fn(Frame) + 'static,
    ) {
        let query: Rc<dyn Fn() -> String> = Rc::new(query);
        let deliver: Rc<dyn Fn(Frame)> = Rc::new(deliver);
        spawn_local(async move {
            let mut attempt: u32 = 0;
            loop {
                connection.set(Connection::Connecting { attempt });
                let reason = match run_once(&*query, &*deliver, connection).await {
                    Ok(()) => "the server closed the connection".to_owned(),
                    Err(reason) => reason,
                };
                // A connection that went live resets the back-off.
                if connection.get_untracked() == Connection::Live {
                    attempt = 0;
                }
                attempt += 1;
                let delay = backoff_ms(attempt, js_sys::Math::random());
                let next_at_ms = js_sys::Date::now() as u64 + u64::from(delay);
                connection.set(Connection::Reconnecting { attempt, reason, next_at_ms });
                TimeoutFuture::new(delay).await;
            }
        });
    }

    /// One connection: ticket, socket, frames until it ends.
    async fn run_once(
        query: &dyn Fn() -> String,
        deliver: &dyn Fn(Frame),
        connection: RwSignal<Connection>,
    ) -> Result<(), String> {
        let ticket = call("/api/ws-ticket").await.map_err(|e| format!("could not get a ticket: {e}"))?;
        let url = socket_url(&ticket, &query())?;
        let mut ws = WebSocket::open(&url).map_err(|e| format!("could not open the socket: {e}"))?;
        let mut opened = false;
        while let Some(msg) = ws.next().await {
            if msg.is_err() && !opened {
                return Err(diagnose(&ticket).await);
            }
            opened = true;
            match msg {
                Ok(Message::Text(text)) => match Frame::from_json(&text) {
                    Ok(frame) => {
                        deliver(frame);
                        if connection.get_untracked() != Connection::Live {
                            connection.set(Connection::Live);
                        }
                    }
                    Err(e) => leptos::logging::warn!("livedash: ignored a frame: {e}"),
                },
                Ok(Message::Bytes(_)) => {}
                Err(e) => return Err(format!("connection lost: {e}")),
            }
        }
        if !opened {
            return Err(diagnose(&ticket).await);
        }
        Ok(())
    }

    /// Why a socket that never opened was refused: the server's account of it (origin refused,
    /// ticket refused, connection limit, or an upgrade that never reached it).
    async fn diagnose(ticket: &str) -> String {
        let origin = window().location().origin().unwrap_or_default();
        let (origin, ticket) = (js_sys::encode_uri_component(&origin), js_sys::encode_uri_component(ticket));
        call(&format!("/api/ws-diagnose?origin={origin}&ticket={ticket}")).await.unwrap_or_else(|e| {
            format!("the live connection could not be opened, and the server could not say why: {e}")
        })
    }

    /// One of the server functions (`crate::ws_ticket`, `crate::ws_diagnose`) by a plain GET of
    /// `path_and_query` under the base path: its JSON string answer. Not through the server
    /// function's client, whose own JSON reader (of bytes, not text) and error decoding would cost
    /// the browser bundle a second copy of the JSON parser.
    async fn call(path_and_query: &str) -> Result<String, String> {
        let (status, body) = crate::chart::history::get(&format!("{}{path_and_query}", crate::base_path())).await?;
        if status != 200 {
            return Err(format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()));
        }
        serde_json::from_str(&body).map_err(|e| format!("an unreadable answer: {e}"))
    }

    /// `ws(s)://<this host><base>/ws?ticket=..&QUERY`, from the page's own location.
    fn socket_url(ticket: &str, query: &str) -> Result<String, String> {
        let location = window().location();
        let protocol = location.protocol().map_err(|_| "no page location".to_owned())?;
        let host = location.host().map_err(|_| "no page location".to_owned())?;
        let scheme = if protocol == "https:" { "wss" } else { "ws" };
        let ticket = js_sys::encode_uri_component(ticket);
        let base = crate::base_path();
        Ok(format!("{scheme}://{host}{base}/ws?ticket={ticket}&{query}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_subscribes_to_its_host_or_to_the_configured_sources() {
        assert_eq!(dashboard_sub(Some("web-1")), "host:web-1");
        assert_eq!(dashboard_sub(Some("")), "configured");
        assert_eq!(dashboard_sub(None), "configured");
    }

    #[test]
    fn backoff_doubles_to_a_cap_with_jitter() {
        assert_eq!(backoff_ms(1, 0.5), 500);
        assert_eq!(backoff_ms(2, 0.5), 1000);
        assert_eq!(backoff_ms(3, 0.5), 2000);
        assert_eq!(backoff_ms(30, 0.5), 15_000);
        assert_eq!(backoff_ms(1, 0.0), 375);
        assert_eq!(backoff_ms(1, 0.999_999), 624);
    }

    #[test]
    fn badge_text_names_the_attempt_and_the_wait() {
        assert_eq!(Connection::Live.text_at(0), "Live");
        let reconnecting = Connection::Reconnecting { attempt: 3, reason: "x".into(), next_at_ms: 10_000 };
        assert_eq!(reconnecting.text_at(7_500), "Reconnecting (attempt 3, next try in 3 s)");
        assert_eq!(reconnecting.text_at(12_000), "Reconnecting (attempt 3, next try in 0 s)");
        assert_eq!(Connection::Connecting { attempt: 0 }.class(), "connecting");
    }

    #[test]
    fn only_a_repeated_failure_is_a_lasting_problem() {
        let failing = |attempt| Connection::Reconnecting { attempt, reason: "origin refused".into(), next_at_ms: 0 };
        assert_eq!(failing(1).lasting_problem(), None);
        assert_eq!(failing(2).lasting_problem(), Some("origin refused"));
        assert_eq!(Connection::Live.lasting_problem(), None);
    }
}
