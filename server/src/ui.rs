//! The UI's port into the server: [`UiBackend`] implements `app::ssr::Backend`, which the page uses
//! while it renders and in its server functions; the page routes and the site's files; where the
//! built site is. The only server file that names `app` types.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::http::request::Parts;
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use livedash::Hello;

use crate::auth::{Auth, BasicUser};
use crate::live::hub::Hub;
use crate::live::ws::{WsConfig, origin};

/// What the UI asks of the server while rendering or answering a server function.
pub struct UiBackend {
    /// Tickets, and the state of one for the page's diagnosis.
    pub auth: Arc<Auth>,
    /// The snapshot.
    pub hub: Arc<Hub>,
    /// The socket's Origin policy, for the page's diagnosis.
    pub ws: Arc<WsConfig>,
}

impl app::ssr::Backend for UiBackend {
    fn snapshot(&self) -> Hello {
        self.hub.snapshot()
    }

    fn issue_ticket(&self, user: &str) -> String {
        self.auth.issue_ticket(user)
    }

    fn socket_problem(&self, page_origin: &str, ticket: &str, user: &str, request: &Parts) -> String {
        origin::socket_problem(page_origin, ticket, user, request, &self.auth, &self.ws)
    }

    fn user(&self, request: &Parts) -> Option<Arc<str>> {
        request.extensions.get::<BasicUser>().map(|u| u.0.clone())
    }
}

/// The context every render and server function gets: the backend and the base path.
fn context(backend: UiBackend, base: Arc<str>) -> impl Fn() + Clone + Send + Sync + 'static {
    let backend = app::ssr::BackendContext(Arc::new(backend));
    let base = app::ssr::BasePath(base);
    move || {
        leptos::prelude::provide_context(backend.clone());
        leptos::prelude::provide_context(base.clone());
    }
}

/// `router` with the page's routes (server-rendered, with `backend` and `base` in their context) and,
/// as its fallback, the site's files.
pub fn pages<S>(router: Router<S>, state: &S, backend: UiBackend, base: Arc<str>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    LeptosOptions: FromRef<S>,
{
    let context = context(backend, base);
    let options = LeptosOptions::from_ref(state);
    router
        .leptos_routes_with_context(state, generate_route_list(app::App), context.clone(), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<S, _>(context, app::shell))
}

/// Where the built site is and what it is called. The binary runs from the repository root after
/// `scripts/build.sh`; under `cargo leptos watch`, cargo-leptos passes its own `LEPTOS_*` settings.
pub fn site_options(listen: SocketAddr) -> LeptosOptions {
    let from_cargo_leptos = std::env::var_os("LEPTOS_OUTPUT_NAME")
        .is_some()
        .then(|| leptos::config::get_configuration(None).ok())
        .flatten();
    let mut options = from_cargo_leptos.map_or_else(
        || {
            let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".to_owned());
            LeptosOptions::builder().output_name(app::OUTPUT_NAME).site_root(site_root).site_pkg_dir("pkg").build()
        },
        |c| c.leptos_options,
    );
    options.site_addr = listen;
    options
}
