//! The page's address. livedash is one page; what it shows depends only on the URL's query:
//! `?chart=KEY&source=NAME&range=5m` opens a chart, `?kiosk` the wall-screen view. So instead of
//! a router, the query is a signal: the server reads it from the request, the browser from its
//! location; in-page links push a history entry (so Back returns), and `popstate` brings the
//! signal back in line. A chart's range is in its query too (see [`crate::chart::range`]).

use leptos::prelude::*;

use crate::layout::decode_component;

/// The current query string, without the `?`.
#[derive(Clone, Copy)]
pub struct Query(pub RwSignal<String>);

impl Query {
    /// The query of this request (server) or of the page's location (browser), provided as
    /// context for the page, and kept in line with Back and Forward in the browser.
    pub fn provide() -> Self {
        let query = Self(RwSignal::new(current()));
        #[cfg(feature = "hydrate")]
        {
            let listener = window_event_listener(leptos::ev::popstate, move |_| query.0.set(current()));
            on_cleanup(move || listener.remove());
        }
        provide_context(query);
        query
    }

    /// The value of `key` (empty for a bare `?kiosk`), tracked.
    pub fn param(self, key: &str) -> Option<String> {
        self.0.with(|q| param(q, key))
    }

    /// Goes to `query` (`?a=b`, or empty for the plain page) in this page: a new history entry,
    /// or in place of the current one when `replace`.
    pub fn go(self, query: &str, replace: bool) {
        self.navigate(query, if replace { How::Replace } else { How::Push });
    }

    /// Goes to `query` as a new history entry one deeper than the current one (a chart zoomed
    /// within the page), keeping the scroll position: see [`depth`].
    pub fn push_deeper(self, query: &str) {
        self.navigate(query, How::Deeper);
    }

    fn navigate(self, query: &str, how: How) {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsValue;
            let path = window().location().pathname().unwrap_or_default();
            let url = format!("{path}{query}");
            if let Ok(history) = window().history() {
                let _ = match how {
                    How::Replace => {
                        history.replace_state_with_url(&history.state().unwrap_or(JsValue::NULL), "", Some(&url))
                    }
                    How::Push => history.push_state_with_url(&JsValue::NULL, "", Some(&url)),
                    How::Deeper => history.push_state_with_url(&JsValue::from(depth() + 1), "", Some(&url)),
                };
            }
            if how == How::Push {
                window().scroll_to_with_x_and_y(0.0, 0.0);
            }
        }
        let _ = how;
        self.0.set(query.trim_start_matches('?').to_owned());
    }
}

/// How [`Query`] goes to an address.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    Replace,
    Push,
    Deeper,
}

/// How many history entries the page pushed in place (zooms) on top of the entry it was opened
/// at: each carries its depth as its `history.state`, so Back and Forward keep it right.
pub fn depth() -> i32 {
    #[cfg(feature = "hydrate")]
    {
        window().history().ok().and_then(|h| h.state().ok()).and_then(|s| s.as_f64()).map_or(0, |d| d as i32)
    }
    #[cfg(not(feature = "hydrate"))]
    0
}

/// The page's query.
pub fn use_query() -> Query {
    use_context::<Query>().unwrap_or_else(|| Query(RwSignal::new(String::new())))
}

/// Whether a click should stay in the page (a plain left click) rather than be left to the
/// browser (a new tab or window).
pub fn in_page_click(ev: &leptos::ev::MouseEvent) -> bool {
    ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() && !ev.alt_key()
}

/// The value of `key` in `query` (`a=1&kiosk`), percent-decoded; `Some("")` for a bare key.
pub fn param(query: &str, key: &str) -> Option<String> {
    query.trim_start_matches('?').split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode_component(k)? == key).then(|| decode_component(&v.replace('+', " ")).unwrap_or_default())
    })
}

fn current() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().and_then(|p| p.uri.query().map(str::to_owned)).unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        window().location().search().unwrap_or_default().trim_start_matches('?').to_owned()
    }
}

/// The pages the app renders, by path under the base path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/` (and the base path without its `/`): the dashboard.
    Dashboard,
    /// `/fleet`: the fleet overview.
    Fleet,
    /// `/fleet/metric`: one figure across the fleet.
    Metric,
    /// Anything else.
    NotFound,
}

impl Page {
    /// The page at `path` (under the base path).
    pub fn at(path: &str) -> Self {
        match path.trim_end_matches('/') {
            "" => Self::Dashboard,
            "/fleet" => Self::Fleet,
            "/fleet/metric" => Self::Metric,
            _ => Self::NotFound,
        }
    }
}

/// The page this request (server) or location (browser) is for.
pub fn page() -> Page {
    Page::at(&page_path())
}

/// Whether the page's path is the dashboard's: the base path, with or without its `/`.
pub fn is_dashboard_path() -> bool {
    page() == Page::Dashboard
}

/// The page's path under the base path.
pub fn page_path() -> String {
    #[cfg(feature = "ssr")]
    let path = use_context::<http::request::Parts>().map(|p| p.uri.path().to_owned()).unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let path = {
        let whole = window().location().pathname().unwrap_or_default();
        whole.strip_prefix(&crate::base_path()).unwrap_or(&whole).to_owned()
    };
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_read_and_decoded() {
        let q = "chart=net%2Erx&source=up&kiosk&window=5m";
        assert_eq!(param(q, "chart").as_deref(), Some("net.rx"));
        assert_eq!(param(q, "kiosk").as_deref(), Some(""));
        assert_eq!(param(q, "window").as_deref(), Some("5m"));
        assert_eq!(param(q, "nope"), None);
        assert_eq!(param("?a=%zz", "a").as_deref(), Some(""), "a bad escape reads as empty, not a panic");
        assert_eq!(param("", "a"), None);
    }

    #[test]
    fn paths_name_pages() {
        assert_eq!(Page::at(""), Page::Dashboard);
        assert_eq!(Page::at("/"), Page::Dashboard);
        assert_eq!(Page::at("/fleet"), Page::Fleet);
        assert_eq!(Page::at("/fleet/"), Page::Fleet);
        assert_eq!(Page::at("/fleet/metric"), Page::Metric);
        assert_eq!(Page::at("/fleetx"), Page::NotFound);
    }
}
