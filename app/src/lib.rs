//! livedash's Leptos UI: the dashboard page, server-rendered with the current snapshot and then
//! hydrated in the browser, where it keeps itself live over the WebSocket.
//!
//! - [`model`]: what the page shows, built from protocol frames (pure Rust, unit-tested);
//!   [`card`]: what one card shows; [`plot`]: the geometry of sparklines and charts.
//! - [`components`]: the page, its panels and cards; [`chart`]: a card's large chart at its own
//!   URL; [`clock`]: the page's now; [`layout`]: cards hidden and pinned, per browser, kept in
//!   a [`cookie`] as the fleet overview's view is.
//! - [`live`]: the browser's WebSocket client (ticket, connect, reconnect with back-off).
//! - [`theme`]: light and dark, following the system or the person's choice.
//! - [`pause`]: freezing the view while the connection goes on.
//! - [`fleet`]: the fleet overview (`/fleet`) and one figure across the fleet (`/fleet/metric`).
//! - [`ssr`]: what the server lends the UI while rendering, and the server-rendered Alerts view
//!   (only with the `ssr` feature: it costs the browser bundle nothing).

pub mod card;
pub mod chart;
pub mod clock;
pub mod components;
pub mod cookie;
pub mod fleet;
pub mod layout;
pub mod live;
pub mod model;
pub mod pause;
pub mod plot;
pub mod route;
pub mod theme;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use livedash::Hello;

use crate::components::Dashboard;
use crate::live::Connection;
use crate::model::Model;

/// The name of the built JS, WASM and CSS files under `/pkg/`.
pub const OUTPUT_NAME: &str = "livedash";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::set_page_headers();
    let base = base_path();
    let nonce = use_nonce().map(|n| n.to_string()).unwrap_or_default();
    #[cfg(feature = "ssr")]
    let snapshot = ssr::take_snapshot();
    #[cfg(not(feature = "ssr"))]
    let snapshot = String::new();
    // `--login basic` has no logout: `login-basic` on <html> hides the top bar's "Log out" (by the
    // style sheet), in the server's rendering and after hydration alike, at no cost to the bundle.
    #[cfg(feature = "ssr")]
    let login = ssr::backend().ok().filter(|b| b.basic_login()).map(|_| "login-basic");
    #[cfg(not(feature = "ssr"))]
    let login: Option<&str> = None;
    view! {
        <!DOCTYPE html>
        <html lang="en" class=login>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <script nonce=nonce.clone() inner_html=theme::PREPAINT_SCRIPT></script>
                <meta name=BASE_META content=base.clone() />
                <meta name=FLEET_META content=fleet_hosts().to_string() />
                <link rel="stylesheet" href=format!("{base}/pkg/{OUTPUT_NAME}.css") />
                <link rel="icon" href=format!("{base}/favicon.svg") type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options root=base />
                <MetaTags />
                <script type="application/json" id=SNAPSHOT_ID nonce=nonce inner_html=snapshot></script>
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The id of the `<script type="application/json">` in `<head>` that carries the `hello` the page
/// was rendered from: the browser hydrates from exactly that, without a second request.
const SNAPSHOT_ID: &str = "livedash-snapshot";

/// The `hello` the page was rendered from: the server's (taken once per page by [`shell`]), or
/// in the browser the one the server wrote into the page. `None` if there is none.
pub(crate) fn page_snapshot() -> Option<Hello> {
    #[cfg(feature = "ssr")]
    {
        use_context::<ssr::PageSnapshot>().map(|s| s.0)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let text = leptos::prelude::document().get_element_by_id(SNAPSHOT_ID)?.text_content()?;
        serde_json::from_str(&text).ok()
    }
}

/// The `<meta>` that tells the page how many hosts the fleet has.
const FLEET_META: &str = "livedash-fleet";

/// How many hosts the fleet has: the server's count, or in the browser the one it rendered into
/// the page (so both render the same header).
pub fn fleet_hosts() -> usize {
    #[cfg(feature = "ssr")]
    {
        ssr::backend().map_or(0, |b| b.fleet_hosts())
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos::prelude::document()
            .query_selector(&format!("meta[name={FLEET_META}]"))
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// The `<meta>` that tells the page its base path.
const BASE_META: &str = "livedash-base";

/// The path everything is served under: `""`, or `/dash` when `--public-url` puts livedash on a
/// proxy's sub-path. The server knows it from its configuration; the page learns it from the
/// `livedash-base` meta tag the server rendered (see [`init_base_path`]).
pub fn base_path() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<ssr::BasePath>().map(|b| b.0.to_string()).unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos::server_fn::client::get_server_url().to_owned()
    }
}

/// Reads the base path from the page and makes server functions (and [`base_path`]) use it.
/// Called once, before hydration.
#[cfg(feature = "hydrate")]
pub fn init_base_path() {
    let base = leptos::prelude::document()
        .query_selector(&format!("meta[name={BASE_META}]"))
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default();
    // Set once for the life of the page, so leaking it is what `&'static` asks for.
    let _ = leptos::server_fn::client::try_set_server_url(Box::leak(base.into_boxed_str()));
}

/// The application: the dashboard, the fleet overview and the one-metric page (see [`route`] for
/// what an address selects).
#[component]
pub fn App() -> impl IntoView {
    use leptos::either::EitherOf4;
    use route::Page;
    provide_meta_context();
    view! {
        <Title text="livedash" />
        {match route::page() {
            Page::Dashboard => EitherOf4::A(view! { <DashboardPage /> }),
            Page::Fleet => EitherOf4::B(view! { <fleet::FleetPage /> }),
            Page::Metric => EitherOf4::C(view! { <fleet::MetricPage /> }),
            Page::NotFound => EitherOf4::D(view! { <p class="not-found">"Not found."</p> }),
        }}
    }
}

/// The dashboard, rendered from the server's snapshot so that first paint has data, then kept
/// live by [`live::connect`] once hydrated. Synchronous on both sides: the snapshot is in the
/// page, so nothing waits and nothing renders twice.
#[component]
fn DashboardPage() -> impl IntoView {
    let Some(hello) = page_snapshot() else {
        return Either::Left(view! {
            <p class="error" role="alert">"Could not load the dashboard: no snapshot in the page."</p>
        });
    };
    let connection = RwSignal::new(Connection::Connecting { attempt: 0 });
    let model = RwSignal::new(Model::from_hello(hello));
    let pause = pause::Pause::new();
    live::connect(model, connection, pause);
    Either::Right(view! { <Dashboard model connection pause /> })
}

/// The latest samples and history of every source: the same content as the `hello` frame.
/// Served at `GET /api/snapshot` (behind the server's authentication, like every route).
#[server(prefix = "/api", endpoint = "snapshot", input = leptos::server_fn::codec::GetUrl)]
pub async fn snapshot() -> Result<Hello, ServerFnError> {
    Ok(ssr::backend()?.snapshot())
}

/// A short-lived, single-use ticket for opening the WebSocket as the logged-in user. Browsers do
/// not reliably send Basic credentials with `new WebSocket()`, so the page asks for one of these
/// over an ordinary authenticated request and opens `/ws?ticket=...`. A page of a session gets a
/// ticket of that session (its socket closes when the session ends).
#[server(prefix = "/api", endpoint = "ws-ticket", input = leptos::server_fn::codec::GetUrl)]
pub async fn ws_ticket() -> Result<String, ServerFnError> {
    let parts = use_context::<http::request::Parts>().ok_or_else(|| ServerFnError::new("no request"))?;
    let user = ssr::user()?;
    Ok(ssr::backend()?.issue_ticket(&user, &parts))
}

/// Why the live connection failed, as the server sees it: asked by the page after a socket that
/// never opened (browsers hide the HTTP status of a refused WebSocket handshake), with the page's
/// origin and the ticket that socket carried.
#[server(prefix = "/api", endpoint = "ws-diagnose", input = leptos::server_fn::codec::GetUrl)]
pub async fn ws_diagnose(origin: String, ticket: String) -> Result<String, ServerFnError> {
    let parts = use_context::<http::request::Parts>().ok_or_else(|| ServerFnError::new("no request"))?;
    let user = ssr::user()?;
    Ok(ssr::backend()?.socket_problem(&origin, &ticket, &user, &parts))
}

/// What the server lends the UI while it renders or answers a server function.
#[cfg(feature = "ssr")]
pub mod ssr {
    pub mod alerts_rows;
    pub mod alerts_view;
    pub mod audit_view;
    pub mod login_page;
    pub mod notify_rows;
    pub mod sessions_page;
    pub mod shell;
    pub mod silence_form;
    pub mod totp_view;

    use std::sync::Arc;

    use leptos::prelude::*;
    use livedash::Hello;

    /// The server's side of the UI: implemented by the server's state, provided as context.
    pub trait Backend: Send + Sync + 'static {
        /// The current `hello` content.
        fn snapshot(&self) -> Hello;
        /// The `hello` a page renders from, for what it subscribes to (`configured`, `host:NAME`,
        /// `overview`, `figure:NAME`: the contract's `/ws?sub=` tokens). By default the whole
        /// snapshot cut down to `sub` by [`for_subscription`].
        fn page_snapshot(&self, sub: &str) -> Hello {
            for_subscription(self.snapshot(), sub)
        }
        /// A WebSocket ticket for `user`, whose authenticated `request` asks for it (a ticket of
        /// its session when it came with one).
        fn issue_ticket(&self, user: &str, request: &http::request::Parts) -> String;
        /// Why a socket that the page at `page_origin` opened with `ticket` (issued to `user`) never
        /// opened, in words for the person at the page; `request` is the one asking.
        fn socket_problem(&self, page_origin: &str, ticket: &str, user: &str, request: &http::request::Parts)
        -> String;
        /// The authenticated user of `request`: the server's authentication has run before anything
        /// of the app, so a request without one never gets here.
        fn user(&self, request: &http::request::Parts) -> Option<Arc<str>>;
        /// How many hosts the fleet has beyond this server's own sources (the targets file's): the
        /// dashboard links to the overview when there are any. None by default.
        fn fleet_hosts(&self) -> usize {
            0
        }
        /// Whether browsers log in by HTTP Basic (`--login basic`), which has no logout: the page
        /// then offers none (see [`crate::shell`]).
        fn basic_login(&self) -> bool;
    }

    /// The context value that carries this page's snapshot from [`crate::shell`] to the app.
    #[derive(Clone, Debug)]
    pub struct PageSnapshot(pub Hello);

    /// Takes the snapshot this page renders, provides it to the app, and returns it as JSON for
    /// the page's `<script type="application/json">`: every `<` escaped, so no text inside it can
    /// close the script element.
    pub fn take_snapshot() -> String {
        let Ok(backend) = backend() else {
            return String::new();
        };
        let hello = backend.page_snapshot(&page_sub());
        let json = serde_json::to_string(&hello).unwrap_or_default().replace('<', "\\u003c");
        provide_context(PageSnapshot(hello));
        json
    }

    /// What the page of this request subscribes to (see [`crate::live::dashboard_sub`]).
    pub fn page_sub() -> String {
        let query =
            use_context::<http::request::Parts>().and_then(|p| p.uri.query().map(str::to_owned)).unwrap_or_default();
        match crate::route::page() {
            crate::route::Page::Fleet => "overview".to_owned(),
            crate::route::Page::Metric => format!("figure:{}", crate::fleet::metric::ask(&query).0),
            _ => crate::live::dashboard_sub(crate::route::param(&query, "host").as_deref()),
        }
    }

    /// `hello` holding only what `sub` shows: `host:NAME` that source alone; `overview` and
    /// `figure:` no source (the fleet's rows come in `fleet`, or over the socket); else all of it.
    pub fn for_subscription(hello: Hello, sub: &str) -> Hello {
        let keep: Option<&str> = if let Some(host) = sub.strip_prefix("host:") {
            Some(host)
        } else if sub == "overview" || sub.starts_with("figure:") {
            Some("")
        } else {
            return hello;
        };
        keep_sources(hello, |name| Some(name) == keep)
    }

    /// `hello` holding only the sources `keep` takes (their history, statuses, intervals, settings).
    pub fn keep_sources(mut hello: Hello, keep: impl Fn(&str) -> bool) -> Hello {
        hello.history.retain(|s| keep(&s.source));
        hello.sources.retain(|s| keep(&s.source));
        hello.interval_ms.retain(|name, _| keep(name));
        hello.settings.retain(|name, _| keep(name));
        hello
    }

    /// The context value that carries the base path (see [`crate::base_path`]).
    #[derive(Clone, Debug)]
    pub struct BasePath(pub Arc<str>);

    /// The context value that carries the [`Backend`].
    #[derive(Clone)]
    pub struct BackendContext(pub Arc<dyn Backend>);

    /// The [`Backend`] of this request.
    pub fn backend() -> Result<Arc<dyn Backend>, ServerFnError> {
        use_context::<BackendContext>().map(|b| b.0).ok_or_else(|| ServerFnError::new("the server provided no backend"))
    }

    /// The page's Content-Security-Policy: scripts only from this origin or carrying this
    /// response's nonce (the hydration script), WebAssembly compilation allowed, styles only from
    /// files, the socket and fetches only to this origin, no framing.
    pub fn page_csp(nonce: &str) -> String {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        )
    }

    /// Puts the page's CSP (with the nonce leptos_axum made for this response) on the response.
    pub fn set_page_headers() {
        let (Some(nonce), Some(response)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else {
            return;
        };
        if let Ok(value) = http::HeaderValue::from_str(&page_csp(&nonce)) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }

    /// The name of the authenticated user of this request.
    pub fn user() -> Result<Arc<str>, ServerFnError> {
        let parts = use_context::<http::request::Parts>().ok_or_else(|| ServerFnError::new("no request"))?;
        backend()?.user(&parts).ok_or_else(|| ServerFnError::new("not authenticated"))
    }
}
