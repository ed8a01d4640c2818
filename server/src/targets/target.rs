//! What a targets file yields: typed [`Target`]s, each a host of the fleet with its name, how it
//! is reached ([`TargetKind`]) and its labels (the host's tags).

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Url;

/// One host of the fleet, from one target string of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Unique in the file: its `name` label, else the target as written (without `livedash:`).
    pub name: Arc<str>,
    /// How it is fetched, and from where.
    pub kind: TargetKind,
    /// Its tags: the group's labels less `name`, `livedash_kind` and the `__` labels.
    pub labels: BTreeMap<String, String>,
}

/// How a target is fetched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// A Prometheus text endpoint (node_exporter and the like): the URL to scrape.
    Prometheus(Url),
    /// Another livedash: the `ws://` or `wss://` base its `/ws` lives under, ending in `/`
    /// (see [`TargetKind::ws_url`]).
    Livedash(Url),
    /// A JSON endpoint (livedash's `http` source kind): the URL to GET.
    Http(Url),
}

impl TargetKind {
    /// The URL as the file gives it (for [`TargetKind::Livedash`], the base).
    pub fn url(&self) -> &Url {
        match self {
            Self::Prometheus(url) | Self::Livedash(url) | Self::Http(url) => url,
        }
    }

    /// A word for logs and pages: `prometheus`, `livedash` or `json`.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Prometheus(_) => "prometheus",
            Self::Livedash(_) => "livedash",
            Self::Http(_) => "json",
        }
    }

    /// For a livedash target, its WebSocket endpoint: the base joined with `ws`.
    pub fn ws_url(&self) -> Option<Url> {
        match self {
            Self::Livedash(base) => base.join("ws").ok(),
            Self::Prometheus(_) | Self::Http(_) => None,
        }
    }
}

impl Target {
    /// The tags as the page shows and filters them: `env=prod`, in label order.
    pub fn tags(&self) -> impl Iterator<Item = String> + '_ {
        self.labels.iter().map(|(k, v)| format!("{k}={v}"))
    }
}
